/// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): a small, fast generator
/// whose sequence depends only on its seed, so every stream is reproducible.
@frozen public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    @inlinable public init(seed: UInt64) { state = seed }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    /// A value in `0..<bound` (bound > 0), by Lemire's multiply-shift, with
    /// a bias below 2^-32 for the bounds used here.
    @inlinable @inline(__always)
    public mutating func below(_ bound: UInt64) -> UInt64 {
        next().multipliedFullWidth(by: bound).high
    }
}
