/// A set-associative cache of 64-bit keys with least-recently-used
/// replacement in each set. The NUMA cost model uses it for the part of the
/// data caches that holds page-table lines (keys are physical line numbers).
public struct NUMALRUCache: Sendable {
    /// The number of sets (a power of two) and of ways in each.
    public let sets: Int
    public let ways: Int
    /// Key + 1 per way, set after set; 0 is an empty way.
    @usableFromInline var keys: [UInt64]
    /// The time of each way's last use.
    @usableFromInline var stamps: [UInt64]
    @usableFromInline var clock: UInt64 = 0
    @usableFromInline let setMask: UInt64

    /// A cache of `entries` keys in sets of `ways`; `entries / ways` must be
    /// a power of two.
    public init(entries: Int, ways: Int) {
        precondition(ways > 0 && entries % ways == 0 && (entries / ways).nonzeroBitCount == 1,
                     "\(entries) entries in \(ways)-way sets do not make a power-of-two number of sets")
        sets = entries / ways
        self.ways = ways
        keys = [UInt64](repeating: 0, count: entries)
        stamps = [UInt64](repeating: 0, count: entries)
        setMask = UInt64(sets - 1)
    }

    /// Looks `key` up; on a miss, puts it in place of its set's least
    /// recently used key. Returns whether it hit.
    @inlinable
    public mutating func access(_ key: UInt64) -> Bool {
        clock &+= 1
        let tag = key &+ 1
        let first = Int(truncatingIfNeeded: key & setMask) &* ways
        var victim = first
        var oldest = UInt64.max
        for way in first..<(first &+ ways) {
            if keys[way] == tag {
                stamps[way] = clock
                return true
            }
            if stamps[way] < oldest {
                oldest = stamps[way]
                victim = way
            }
        }
        keys[victim] = tag
        stamps[victim] = clock
        return false
    }
}
