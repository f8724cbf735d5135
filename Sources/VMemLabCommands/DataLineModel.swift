import Experiments
import TLB
import Workloads

/// The data-line model of `simulate --numa-nodes`: an access reaches memory
/// when its 64-byte line (by virtual address) misses an LRU cache the size
/// and associativity of the configuration's LLC (rounded down to a power of
/// two of sets), which holds data lines only.
final class DataLineModel {
    /// The empty cache each run starts from.
    let lines: NUMALRUCache
    let lineShift: UInt64
    /// The accesses that missed the cache, so far.
    var memoryAccesses: UInt64 = 0

    init(cost: CostModel) {
        let ways = max(1, cost.llc.ways)
        var sets = max(1, cost.llc.bytes / cost.lineBytes / ways)
        while sets & (sets - 1) != 0 { sets &= sets - 1 }
        lines = NUMALRUCache(entries: sets * ways, ways: ways)
        lineShift = UInt64(cost.lineBytes.trailingZeroBitCount)
    }
}

/// `base`, with each access passed through a data-line cache that counts
/// the accesses reaching memory.
struct DataLineStream<Base: AccessStream>: AccessStream {
    var base: Base
    var lines: NUMALRUCache
    let lineShift: UInt64
    var memoryAccesses: UInt64 = 0

    mutating func next() throws(TraceError) -> AccessRecord? {
        guard let record = try base.next() else { return nil }
        if !lines.access(record.address &>> lineShift) { memoryAccesses &+= 1 }
        return record
    }
}
