import Translation

/// The small TLB the strategy comparison puts in front of every strategy,
/// until the TLB module's hierarchy is wired in: one set-associative level
/// with true LRU that holds 4K, 2M and 1G entries side by side. The set of
/// an entry is its virtual page number at its own page size modulo the
/// number of sets; a lookup probes the set of each page size. Default:
/// 1536 entries, 12 ways (an L2 STLB of Skylake's size).
public struct StrategyTLB: Sendable {
    public let entries: Int
    public let ways: Int
    let sets: Int
    /// Per way: the tag (page number << 2 | size code) + 1, or 0 when empty.
    var tags: [UInt64]
    var stamps: [UInt64]
    var clock: UInt64 = 0

    public init(entries: Int = 1536, ways: Int = 12) {
        precondition(entries > 0 && ways > 0 && entries % ways == 0, "entries must be a multiple of ways")
        self.entries = entries
        self.ways = ways
        sets = entries / ways
        tags = [UInt64](repeating: 0, count: entries)
        stamps = [UInt64](repeating: 0, count: entries)
    }

    @inline(__always)
    func tag(_ address: UInt64, _ size: PageSize) -> UInt64 {
        ((address &>> size.shift) &<< 2 | UInt64(size.leafLevel)) &+ 1
    }

    @inline(__always)
    func firstWay(_ address: UInt64, _ size: PageSize) -> Int {
        Int(truncatingIfNeeded: (address &>> size.shift) % UInt64(sets)) &* ways
    }

    /// Looks `address` up at every page size; a hit refreshes its LRU age.
    public mutating func lookup(_ address: UInt64) -> Bool {
        clock &+= 1
        for size in PageSize.allCases {
            let wanted = tag(address, size)
            let first = firstWay(address, size)
            for way in first..<(first &+ ways) where tags[way] == wanted {
                stamps[way] = clock
                return true
            }
        }
        return false
    }

    /// Inserts the translation of `address` with a page of `size`, evicting
    /// the least recently used way of its set.
    public mutating func fill(_ address: UInt64, _ size: PageSize) {
        clock &+= 1
        let first = firstWay(address, size)
        var victim = first
        for way in first..<(first &+ ways) {
            if tags[way] == 0 { victim = way; break }
            if stamps[way] < stamps[victim] { victim = way }
        }
        tags[victim] = tag(address, size)
        stamps[victim] = clock
    }

    /// INVLPG: drops every entry that covers `address`.
    public mutating func invalidate(_ address: UInt64) {
        for size in PageSize.allCases {
            let wanted = tag(address, size)
            let first = firstWay(address, size)
            for way in first..<(first &+ ways) where tags[way] == wanted { tags[way] = 0 }
        }
    }

    /// Drops everything (a CR3 load without PCIDs, or a flush).
    public mutating func flush() {
        for way in tags.indices { tags[way] = 0 }
    }
}

/// A small fully associative LRU cache of 64-bit keys: the page-walk cache
/// (keyed by the physical address of a paging-structure entry, AMD style)
/// and the nested TLB (keyed by guest-physical page).
public struct StrategyKeyCache: Sendable {
    public let capacity: Int
    var keys: [UInt64]
    var stamps: [UInt64]
    var clock: UInt64 = 0

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        keys = [UInt64](repeating: 0, count: self.capacity)
        stamps = [UInt64](repeating: 0, count: self.capacity)
    }

    /// Whether `key` is cached; a miss inserts it over the LRU entry.
    public mutating func access(_ key: UInt64) -> Bool {
        guard capacity > 0 else { return false }
        clock &+= 1
        let stored = key &+ 1
        var victim = 0
        for index in 0..<capacity {
            if keys[index] == stored {
                stamps[index] = clock
                return true
            }
            if stamps[index] < stamps[victim] { victim = index }
        }
        keys[victim] = stored
        stamps[victim] = clock
        return false
    }

    public mutating func flush() {
        for index in keys.indices {
            keys[index] = 0
            stamps[index] = 0
        }
    }
}
