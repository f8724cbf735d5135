/// A set-associative array of tagged entries: the storage of a TLB array,
/// a paging-structure cache, a nested TLB or a data-cache level.
///
/// An entry is a 64-bit tag, a 32-bit context (PCID/VPID and the global
/// bit, see `TLBContext`) and a 64-bit payload. `sets × ways` entries are
/// laid out set by set. The value is a view of memory owned by a
/// `StorageArena`: copies see the same entries, and nothing in the hot path
/// retains or allocates.
///
/// LRU and FIFO sets of 9 to 16 ways keep their order in one word per set
/// (`RecencyOrder`): a fill finds its victim without scanning the set or
/// mispredicting a branch. Other LRU and FIFO sets keep a clock stamp per
/// entry: in narrow sets, such as L1 TLBs, where hits are frequent, a hit
/// then costs one store and the victim scan is short; sets wider than 16
/// ways have no order word.
@frozen public struct SetAssociativeArray: @unchecked Sendable {
    /// The tag marking an invalid entry.
    public static let invalidTag: UInt64 = .max

    public let sets: Int
    public let ways: Int
    @usableFromInline let setMask: UInt64
    @usableFromInline let setsArePowerOfTwo: Bool
    @usableFromInline let policyKind: UInt8
    /// LRU or FIFO with 9 to 16 ways: the order is kept in `setStates`.
    @usableFromInline let ordered: Bool
    @usableFromInline let tags: UnsafeMutablePointer<UInt64>
    @usableFromInline let contexts: UnsafeMutablePointer<UInt32>
    @usableFromInline let payloads: UnsafeMutablePointer<UInt64>
    /// LRU and FIFO sets without an order word: under LRU the clock of the
    /// last use, under FIFO the clock of the fill.
    @usableFromInline let stamps: UnsafeMutablePointer<UInt64>
    /// One word per set: its `RecencyOrder` (when `ordered`) or its
    /// tree-PLRU bits.
    @usableFromInline let setStates: UnsafeMutablePointer<UInt64>
    /// [0] the clock, [1] the random state, [2] valid entries.
    @usableFromInline let state: UnsafeMutablePointer<UInt64>

    /// Allocates the array in `arena`. `entries` is a multiple of `ways`.
    public init(entries: Int, ways: Int, policy: ReplacementPolicy, arena: StorageArena) {
        precondition(entries > 0 && ways > 0 && entries % ways == 0, "entries is a positive multiple of ways")
        sets = entries / ways
        self.ways = ways
        setsArePowerOfTwo = sets & (sets - 1) == 0
        setMask = UInt64(sets - 1)
        policyKind = policy.kind
        ordered = (policyKind == 0 || policyKind == 2) && ways > 8 && ways <= RecencyOrder.maximumWays
        tags = arena.allocate(entries, repeating: SetAssociativeArray.invalidTag)
        contexts = arena.allocate(entries, repeating: 0)
        payloads = arena.allocate(entries, repeating: 0)
        stamps = arena.allocate(ordered ? 1 : entries, repeating: 0)
        setStates = arena.allocate(sets, repeating: ordered ? RecencyOrder.initial(ways: ways) : 0)
        state = arena.allocate(3, repeating: 0)
        if case let .random(seed) = policy { state[1] = seed }
    }

    /// The number of entries.
    @inlinable public var entries: Int { sets &* ways }
    /// The number of valid entries.
    @inlinable public var validCount: Int { Int(truncatingIfNeeded: state[2]) }

    /// The set that `key` (a page number, line number or prefix) maps to:
    /// `key mod sets`.
    @inlinable @inline(__always)
    public func set(of key: UInt64) -> Int {
        Int(truncatingIfNeeded: setsArePowerOfTwo ? key & setMask : key % UInt64(truncatingIfNeeded: sets))
    }

    /// The slot of the entry with `tag` in `set` whose context is `context`
    /// or `alternative`, or -1.
    @inlinable @inline(__always)
    public func find(tag: UInt64, set: Int, context: UInt32, alternative: UInt32) -> Int {
        let base = set &* ways
        var slot = base
        let end = base &+ ways
        if ways <= 8 {
            // Without early exit: the way that matches is unpredictable, the loop is not.
            var found = -1
            while slot < end {
                let owner = contexts[slot]
                let match = (tags[slot] == tag) && (owner == context || owner == alternative)
                found = match ? slot : found
                slot &+= 1
            }
            return found
        }
        while slot < end {
            if tags[slot] == tag {
                let owner = contexts[slot]
                if owner == context || owner == alternative { return slot }
            }
            slot &+= 1
        }
        return -1
    }

    /// Records a use of `slot` in `set` (a hit): LRU and tree-PLRU update;
    /// FIFO and random do not.
    @inlinable @inline(__always)
    public func touch(_ slot: Int, set: Int) {
        switch policyKind {
        case 0:
            makeMostRecent(slot, set: set)
        case 1:
            touchTree(slot, set: set)
        default:
            break
        }
    }

    /// Makes `slot` the most recent of `set` (an LRU hit, or any fill under
    /// LRU and FIFO).
    @inlinable @inline(__always)
    func makeMostRecent(_ slot: Int, set: Int) {
        if ordered {
            setStates[set] = RecencyOrder.promoting(slot &- set &* ways, in: setStates[set])
        } else {
            let clock = state[0] &+ 1
            state[0] = clock
            stamps[slot] = clock
        }
    }

    @inlinable @inline(__always)
    func touchTree(_ slot: Int, set: Int) {
        var node = (slot &- set &* ways) &+ ways
        var bits = setStates[set]
        while node > 1 {
            let parent = node &>> 1
            if node & 1 == 0 { bits |= 1 &<< UInt64(parent) } else { bits &= ~(1 &<< UInt64(parent)) }
            node = parent
        }
        setStates[set] = bits
    }

    /// The slot a fill into `set` replaces: the first invalid way, else the
    /// policy's victim.
    @inlinable @inline(__always)
    public func victim(in set: Int) -> Int {
        let base = set &* ways
        if ordered { return base &+ RecencyOrder.leastRecent(setStates[set], ways: ways) }
        guard policyKind == 0 || policyKind == 2 else { return treeOrRandomVictim(in: set) }
        // Invalid entries have stamp 0 and valid ones a stamp >= 1, so the
        // first minimum is the lowest invalid way, else the oldest.
        var oldest = base
        var oldestStamp = stamps[base]
        var slot = base &+ 1
        let end = base &+ ways
        while slot < end {
            let stamp = stamps[slot]
            if stamp < oldestStamp {
                oldest = slot
                oldestStamp = stamp
            }
            slot &+= 1
        }
        return oldest
    }

    /// `victim` for tree-PLRU and random replacement.
    @usableFromInline @inline(never)
    func treeOrRandomVictim(in set: Int) -> Int {
        let base = set &* ways
        for way in 0..<ways where tags[base &+ way] == SetAssociativeArray.invalidTag { return base &+ way }
        if policyKind == 1 {
            let bits = setStates[set]
            var node = 1
            while node < ways { node = node &* 2 &+ Int(truncatingIfNeeded: (bits &>> UInt64(node)) & 1) }
            return base &+ node &- ways
        }
        state[1] &+= 0x9E37_79B9_7F4A_7C15
        var z = state[1]
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z &>> 31
        return base &+ Int(truncatingIfNeeded: z.multipliedFullWidth(by: UInt64(ways)).high)
    }

    /// Fills an entry into `set` (or refreshes it if present) and returns
    /// its slot, the tag it replaced (`invalidTag` if none) and whether a
    /// new entry was inserted.
    @inlinable @discardableResult
    public func fill(tag: UInt64, set: Int, context: UInt32, payload: UInt64) -> (slot: Int, evicted: UInt64, inserted: Bool) {
        let present = find(tag: tag, set: set, context: context, alternative: context)
        if present >= 0 {
            payloads[present] = payload
            touch(present, set: set)
            return (present, SetAssociativeArray.invalidTag, false)
        }
        return insert(tag: tag, set: set, context: context, payload: payload)
    }

    /// Fills an entry known to be absent from `set` (a lookup just missed):
    /// `fill` without the search.
    @inlinable @inline(__always) @discardableResult
    public func insert(tag: UInt64, set: Int, context: UInt32, payload: UInt64) -> (slot: Int, evicted: UInt64, inserted: Bool) {
        let slot = victim(in: set)
        let evicted = tags[slot]
        if evicted == SetAssociativeArray.invalidTag { state[2] &+= 1 }
        tags[slot] = tag
        contexts[slot] = context
        payloads[slot] = payload
        switch policyKind {
        case 0, 2:
            makeMostRecent(slot, set: set)
        case 1:
            touchTree(slot, set: set)
        default:
            break
        }
        return (slot, evicted, true)
    }

    /// Looks `tag` up in `set` for `context` and, on a miss, fills it (with
    /// payload 0): one pass over the ways for stamped LRU and FIFO sets.
    /// Returns whether it hit. Hit and fill update replacement state as
    /// `touch` and `fill` do.
    @inlinable @inline(__always)
    public func access(tag: UInt64, set: Int, context: UInt32) -> Bool {
        guard (policyKind == 0 || policyKind == 2) && !ordered else {
            let slot = find(tag: tag, set: set, context: context, alternative: context)
            if slot >= 0 {
                touch(slot, set: set)
                return true
            }
            insert(tag: tag, set: set, context: context, payload: 0)
            return false
        }
        let base = set &* ways
        let end = base &+ ways
        var oldest = base
        var oldestStamp = UInt64.max
        var slot = base
        while slot < end {
            if tags[slot] == tag && contexts[slot] == context {
                if policyKind == 0 {
                    let clock = state[0] &+ 1
                    state[0] = clock
                    stamps[slot] = clock
                }
                return true
            }
            let stamp = stamps[slot]
            if stamp < oldestStamp {
                oldest = slot
                oldestStamp = stamp
            }
            slot &+= 1
        }
        if tags[oldest] == SetAssociativeArray.invalidTag { state[2] &+= 1 }
        tags[oldest] = tag
        contexts[oldest] = context
        let clock = state[0] &+ 1
        state[0] = clock
        stamps[oldest] = clock
        return false
    }

    /// Invalidates `slot`; returns its tag.
    @discardableResult
    public func invalidate(slot: Int) -> UInt64 {
        let tag = tags[slot]
        if tag != SetAssociativeArray.invalidTag {
            tags[slot] = SetAssociativeArray.invalidTag
            state[2] &-= 1
            if ordered {
                let set = slot / ways
                let base = set &* ways
                setStates[set] = RecencyOrder.invalidating(setStates[set], ways: ways) {
                    tags[base &+ $0] != SetAssociativeArray.invalidTag
                }
            } else {
                stamps[slot] = 0
            }
        }
        return tag
    }

    /// Invalidates every entry for which `matches(tag, context)` holds;
    /// returns how many.
    @discardableResult
    public func invalidateAll(where matches: (UInt64, UInt32) -> Bool) -> Int {
        var count = 0
        for slot in 0..<entries where tags[slot] != SetAssociativeArray.invalidTag && matches(tags[slot], contexts[slot]) {
            invalidate(slot: slot)
            count += 1
        }
        return count
    }

    /// The tag, context and payload of `slot`, or nil if it is invalid.
    public func entry(at slot: Int) -> (tag: UInt64, context: UInt32, payload: UInt64)? {
        tags[slot] == SetAssociativeArray.invalidTag ? nil : (tags[slot], contexts[slot], payloads[slot])
    }

    /// The valid tags of `set`, in way order.
    public func tags(inSet set: Int) -> [UInt64] {
        (0..<ways).map { tags[set * ways + $0] }.filter { $0 != SetAssociativeArray.invalidTag }
    }
}
