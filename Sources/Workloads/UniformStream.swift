import Translation

/// Independent, uniformly random 8-byte-aligned addresses in the region.
@frozen public struct UniformStream: AccessStream, Sendable {
    public let region: WorkloadRegion
    public let type: AccessType
    @usableFromInline var random: SplitMix64
    @usableFromInline var remaining: UInt64
    @usableFromInline let words: UInt64

    public init(region: WorkloadRegion, seed: UInt64, type: AccessType = .read) {
        self.region = region
        self.type = type
        random = SplitMix64(seed: seed)
        remaining = region.accesses
        words = region.bytes &>> 3
    }

    @inlinable @inline(__always)
    public mutating func next() throws(TraceError) -> AccessRecord? {
        guard remaining > 0 else { return nil }
        remaining &-= 1
        return AccessRecord(address: region.base &+ random.below(words) &<< 3, type: type)
    }
}
