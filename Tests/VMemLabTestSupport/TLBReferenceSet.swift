import TLB

/// A slow, obviously correct set-associative cache for differential tests.
/// Each set keeps its ways as optionals and its recency or fill order as a
/// list; tree-PLRU keeps its tree as an array of booleans. An empty way is
/// always filled first (the lowest-numbered one), as in the fast array.
public struct TLBReferenceSet {
    public let sets: Int
    public let ways: Int
    public let policy: ReplacementPolicy
    var slots: [[UInt64?]]
    /// Per set: keys, least recent (LRU) or oldest (FIFO) first.
    var order: [[UInt64]]
    /// Per set: tree node n (1..<ways) → true means "the victim is on the right".
    var tree: [[Bool]]
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init(sets: Int, ways: Int, policy: ReplacementPolicy) {
        if case .random = policy { preconditionFailure("the reference models deterministic policies only") }
        self.sets = sets
        self.ways = ways
        self.policy = policy
        slots = Array(repeating: Array(repeating: nil, count: ways), count: sets)
        order = Array(repeating: [], count: sets)
        tree = Array(repeating: Array(repeating: false, count: max(ways, 2)), count: sets)
    }

    /// Accesses `key` (set `key % sets`); returns whether it hit.
    @discardableResult
    public mutating func access(_ key: UInt64) -> Bool {
        let set = Int(key % UInt64(sets))
        if let way = slots[set].firstIndex(of: key) {
            hits += 1
            switch policy {
            case .lru:
                order[set].removeAll { $0 == key }
                order[set].append(key)
            case .treePLRU:
                pointAway(set: set, way: way)
            default:
                break
            }
            return true
        }
        misses += 1
        let way: Int
        if let empty = slots[set].firstIndex(of: nil) {
            way = empty
        } else if policy == .treePLRU {
            var node = 1
            while node < ways { node = node * 2 + (tree[set][node] ? 1 : 0) }
            way = node - ways
        } else {
            let victim = order[set].removeFirst()
            way = slots[set].firstIndex(of: victim)!
        }
        if let old = slots[set][way] { order[set].removeAll { $0 == old } }
        slots[set][way] = key
        order[set].append(key)
        if policy == .treePLRU { pointAway(set: set, way: way) }
        return false
    }

    mutating func pointAway(set: Int, way: Int) {
        var node = way + ways
        while node > 1 {
            let parent = node / 2
            tree[set][parent] = node % 2 == 0
            node = parent
        }
    }

    /// Removes `key` if present (an invalidation); its way becomes empty.
    /// Returns whether it was present.
    @discardableResult
    public mutating func invalidate(_ key: UInt64) -> Bool {
        let set = Int(key % UInt64(sets))
        guard let way = slots[set].firstIndex(of: key) else { return false }
        slots[set][way] = nil
        order[set].removeAll { $0 == key }
        return true
    }

    /// The keys in `set`, sorted.
    public func contents(ofSet set: Int) -> [UInt64] { slots[set].compactMap { $0 }.sorted() }
}
