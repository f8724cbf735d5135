import Translation

/// Records the references of one walk into a fixed buffer, for the walk
/// cost model to decide afterwards which of them reach memory. The walkers
/// report every reference in order, so the decision needs no change to them.
@frozen public struct WalkRecorder: WalkObserver {
    /// The most references a walk makes: 35 for a 5-level 2D walk.
    public static let capacity = 64
    @usableFromInline let buffer: UnsafeMutablePointer<WalkReference>
    @usableFromInline var recorded = 0
    /// The number of references recorded.
    @inlinable public var count: Int { recorded }

    init(arena: StorageArena) {
        buffer = arena.allocate(WalkRecorder.capacity, repeating: WalkReference(dimension: .native, level: 0, step: 0, address: 0, entry: 0))
    }

    @inlinable @inline(__always)
    public mutating func observe(_ reference: WalkReference) {
        if recorded < WalkRecorder.capacity {
            buffer[recorded] = reference
            recorded &+= 1
        }
    }

    /// Forgets the references (before a walk is retried).
    @inlinable public mutating func reset() { recorded = 0 }

    /// The reference at `index`.
    @inlinable public subscript(index: Int) -> WalkReference { buffer[index] }

    /// The recorded references, as an array.
    public var references: [WalkReference] { (0..<count).map { buffer[$0] } }
}
