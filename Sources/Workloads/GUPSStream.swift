import Translation

/// GUPS (HPC Challenge RandomAccess): random read-modify-write updates of
/// 8-byte words in a table that fills the region. Each update is a read then
/// a write of the same word, so `accesses` counts both.
@frozen public struct GUPSStream: AccessStream, Sendable {
    public let region: WorkloadRegion
    @usableFromInline var random: SplitMix64
    @usableFromInline var remaining: UInt64
    @usableFromInline let words: UInt64
    @usableFromInline var pendingWrite: UInt64 = 0
    @usableFromInline var hasPendingWrite = false

    public init(region: WorkloadRegion, seed: UInt64) {
        self.region = region
        random = SplitMix64(seed: seed)
        remaining = region.accesses
        words = region.bytes &>> 3
    }

    @inlinable @inline(__always)
    public mutating func next() throws(TraceError) -> AccessRecord? {
        guard remaining > 0 else { return nil }
        remaining &-= 1
        if hasPendingWrite {
            hasPendingWrite = false
            return AccessRecord(address: pendingWrite, type: .write)
        }
        pendingWrite = region.base &+ random.below(words) &<< 3
        hasPendingWrite = true
        return AccessRecord(address: pendingWrite, type: .read)
    }
}
