/// How a set chooses the entry to evict when it is full. A set with an
/// invalid entry always fills the lowest-numbered invalid way first.
@frozen public enum ReplacementPolicy: Hashable, Sendable, CustomStringConvertible {
    /// Least recently used: a hit or fill makes the entry the most recent;
    /// the victim is the least recent.
    case lru
    /// Tree pseudo-LRU over a binary tree of ways - 1 bits (ways a power of
    /// two, at most 64): a hit or fill points every bit on its path away
    /// from it; the victim is found by following the bits from the root.
    case treePLRU
    /// First in, first out: hits change nothing; the victim is the oldest fill.
    case fifo
    /// A uniformly random way, from SplitMix64 with this seed.
    case random(seed: UInt64)

    /// Parses `lru`, `plru`, `fifo` or `random`.
    public init?(name: String, seed: UInt64 = 1) {
        switch name.lowercased() {
        case "lru": self = .lru
        case "plru", "tree-plru", "treeplru": self = .treePLRU
        case "fifo": self = .fifo
        case "random": self = .random(seed: seed)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .lru: "lru"
        case .treePLRU: "plru"
        case .fifo: "fifo"
        case .random: "random"
        }
    }

    /// The policy's kind as a small number for the hot path.
    @usableFromInline var kind: UInt8 {
        switch self {
        case .lru: 0
        case .treePLRU: 1
        case .fifo: 2
        case .random: 3
        }
    }
}
