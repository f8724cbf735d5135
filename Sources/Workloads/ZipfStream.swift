import Foundation
import Translation

/// Pages drawn from a Zipf distribution with exponent `s`: the page of rank
/// k (1-based) has probability proportional to 1 / k^s. Ranks are assigned
/// to the region's 4 KiB pages in a seeded random order, so popular pages
/// are scattered as a heap's would be; the line inside a page is uniform.
///
/// Sampling inverts the cumulative distribution by binary search over a
/// table built once (8 bytes per page); `next()` does not allocate.
public struct ZipfStream: AccessStream, Sendable {
    public let region: WorkloadRegion
    public let exponent: Double
    public let type: AccessType
    @usableFromInline var random: SplitMix64
    @usableFromInline var remaining: UInt64
    /// Cumulative probabilities by rank, scaled to 2^64 - 1.
    @usableFromInline let cumulative: [UInt64]
    /// The page of each rank.
    @usableFromInline let pageOfRank: [UInt32]

    public init(region: WorkloadRegion, exponent: Double, seed: UInt64, type: AccessType = .read) {
        precondition(exponent >= 0 && exponent.isFinite, "the Zipf exponent is a finite number >= 0")
        precondition(region.pages <= UInt64(UInt32.max), "at most 2^32 pages")
        self.region = region
        self.exponent = exponent
        self.type = type
        random = SplitMix64(seed: seed)
        remaining = region.accesses
        let pages = Int(region.pages)
        var weights = [Double](repeating: 0, count: pages)
        var total = 0.0
        for rank in 0..<pages {
            let weight = 1 / Foundation.pow(Double(rank + 1), exponent)
            weights[rank] = weight
            total += weight
        }
        var cumulative = [UInt64](repeating: 0, count: pages)
        var running = 0.0
        for rank in 0..<pages {
            running += weights[rank]
            let fraction = min(running / total, 1)
            cumulative[rank] = fraction >= 1 ? .max : UInt64(fraction * 18_446_744_073_709_549_568.0)
        }
        cumulative[pages - 1] = .max
        self.cumulative = cumulative
        var order = [UInt32](0..<UInt32(pages))
        var shuffler = SplitMix64(seed: seed ^ 0x5A5A_5A5A_5A5A_5A5A)
        order.shuffle(using: &shuffler)
        pageOfRank = order
    }

    @inlinable
    public mutating func next() throws(TraceError) -> AccessRecord? {
        guard remaining > 0 else { return nil }
        remaining &-= 1
        let draw = random.next()
        var low = 0, high = cumulative.count &- 1
        while low < high {
            let middle = (low &+ high) &>> 1
            if cumulative[middle] < draw { low = middle &+ 1 } else { high = middle }
        }
        let page = UInt64(pageOfRank[low])
        let line = random.below(64)
        return AccessRecord(address: region.base &+ page &<< 12 &+ line &<< 6, type: type)
    }
}
