import Translation

/// A pointer chase: the region's 4 KiB pages in one random cycle (Sattolo's
/// algorithm), touching one 64-byte line per page at a seeded random offset.
/// Every access depends on the one before, as in test-tlb and lmbench.
public struct PointerChaseStream: AccessStream, Sendable {
    public let region: WorkloadRegion
    @usableFromInline var remaining: UInt64
    /// The page that follows each page in the cycle.
    @usableFromInline let successor: [UInt32]
    /// The line each page's pointer sits in.
    @usableFromInline let lineOfPage: [UInt8]
    @usableFromInline var current: UInt32 = 0

    public init(region: WorkloadRegion, seed: UInt64) {
        precondition(region.pages <= UInt64(UInt32.max), "at most 2^32 pages")
        self.region = region
        remaining = region.accesses
        let pages = Int(region.pages)
        var random = SplitMix64(seed: seed)
        var order = [UInt32](0..<UInt32(pages))
        var index = pages - 1
        while index > 0 {
            let other = Int(random.below(UInt64(index)))
            order.swapAt(index, other)
            index -= 1
        }
        var successor = [UInt32](repeating: 0, count: pages)
        for position in 0..<pages { successor[Int(order[position])] = order[(position + 1) % pages] }
        self.successor = successor
        lineOfPage = (0..<pages).map { _ in UInt8(random.below(64)) }
    }

    @inlinable @inline(__always)
    public mutating func next() throws(TraceError) -> AccessRecord? {
        guard remaining > 0 else { return nil }
        remaining &-= 1
        let page = Int(truncatingIfNeeded: current)
        current = successor[page]
        return AccessRecord(address: region.base &+ UInt64(page) &<< 12 &+ UInt64(lineOfPage[page]) &<< 6)
    }
}
