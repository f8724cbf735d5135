/// A set-associative LRU array that holds only keys, for the caches of the
/// walk cost model (the page-table-entry data caches and an LRU PWC), whose
/// entries carry no context or payload.
///
/// Each set is kept in recency order, most recent first: a hit moves its key
/// to the front, a miss shifts the set down by one (dropping the least
/// recent key, or an invalid one while the set is not full) and puts the new
/// key in front. Its hits and misses are exactly those of a
/// `SetAssociativeArray` with LRU replacement, but a probe reads one
/// contiguous run of keys, usually only the first, so a large array costs
/// one host cache line per probe instead of one per field.
@frozen @usableFromInline struct RecencyArray: @unchecked Sendable {
    /// The key of an empty way (no line or entry address has it).
    @usableFromInline static let empty: UInt64 = .max
    @usableFromInline let sets: Int
    @usableFromInline let ways: Int
    @usableFromInline let setMask: UInt64
    @usableFromInline let setsArePowerOfTwo: Bool
    @usableFromInline let keys: UnsafeMutablePointer<UInt64>

    /// Allocates `entries` (a positive multiple of `ways`) empty ways in `arena`.
    init(entries: Int, ways: Int, arena: StorageArena) {
        precondition(entries > 0 && ways > 0 && entries % ways == 0, "entries is a positive multiple of ways")
        sets = entries / ways
        self.ways = ways
        setsArePowerOfTwo = sets & (sets - 1) == 0
        setMask = UInt64(sets - 1)
        keys = arena.allocate(entries, repeating: RecencyArray.empty)
    }

    /// Looks `key` up in the set `key mod sets` and makes it the most recent
    /// key of the set, filling it on a miss. Returns whether it hit.
    @inlinable @inline(__always)
    func access(_ key: UInt64) -> Bool {
        let set = setsArePowerOfTwo ? key & setMask : key % UInt64(truncatingIfNeeded: sets)
        let base = keys + Int(truncatingIfNeeded: set) &* ways
        if base[0] == key { return true }
        return accessBehindFront(key, base)
    }

    /// `access` when the key is not the most recent of its set: one pass
    /// that searches and shifts at once, each way taking the key before it,
    /// until the way that held the key (a hit) or past the last way (a miss,
    /// which drops the last key).
    @inlinable
    func accessBehindFront(_ key: UInt64, _ base: UnsafeMutablePointer<UInt64>) -> Bool {
        var carried = base[0]
        base[0] = key
        var position = 1
        while position < ways {
            let current = base[position]
            base[position] = carried
            if current == key { return true }
            carried = current
            position &+= 1
        }
        return false
    }

    /// Prefetches the host line holding the front of `key`'s set.
    @inlinable @inline(__always)
    func prefetch(_ key: UInt64) {
        let set = setsArePowerOfTwo ? key & setMask : key % UInt64(truncatingIfNeeded: sets)
        hostPrefetch(keys + Int(truncatingIfNeeded: set) &* ways)
    }

    /// Empties every set.
    func removeAll() {
        keys.update(repeating: RecencyArray.empty, count: sets &* ways)
    }
}
