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
        return RecencyArray.accessBehindFront(key, base, ways: ways)
    }

    /// `access` when the key is not the most recent of its set: finds the
    /// key's way (or none), moves the ways before it (or all but the last)
    /// back by one and puts the key in front.
    ///
    /// The first few ways are searched and moved in one pass, since a
    /// recently used key sits near the front; past them the search compares
    /// four ways per branch and the move is one `memmove`, so a miss in a
    /// wide set costs little more than in a narrow one.
    @inlinable
    static func accessBehindFront(_ key: UInt64, _ base: UnsafeMutablePointer<UInt64>, ways: Int) -> Bool {
        var carried = base[0]
        var position = 1
        while position < min(ways, 4) {
            let current = base[position]
            base[position] = carried
            if current == key {
                base[0] = key
                return true
            }
            carried = current
            position &+= 1
        }
        // Ways 1..<position now hold the keys of ways 0..<position-1, and
        // `carried` the key of way position-1.
        var found = position
        while found &+ 4 <= ways {
            var match: UInt8 = base[found] == key ? 1 : 0
            match |= base[found &+ 1] == key ? 1 : 0
            match |= base[found &+ 2] == key ? 1 : 0
            match |= base[found &+ 3] == key ? 1 : 0
            if match != 0 { break }
            found &+= 4
        }
        while found < ways && base[found] != key { found &+= 1 }
        let hit = found < ways
        let end = hit ? found : ways &- 1
        if end >= position {
            // Move ways position..<end back by one (way `end` is dropped or is the key).
            if end > position {
                let from = base + position
                UnsafeMutableRawPointer(from + 1).copyMemory(from: from, byteCount: (end &- position) &* 8)
            }
            base[position] = carried
        }
        base[0] = key
        return hit
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
