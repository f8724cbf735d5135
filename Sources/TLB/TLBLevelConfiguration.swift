import Translation

/// Which accesses a TLB level serves.
@frozen public enum TLBLevelKind: String, Hashable, Sendable, CaseIterable {
    /// Loads and stores (an L1 DTLB).
    case data
    /// Instruction fetches (an L1 ITLB).
    case instruction
    /// Both (an L2 STLB).
    case unified
}

/// One set-associative array of a level and the page sizes it holds. A
/// level with one array per page size models an L1 DTLB; one array holding
/// several sizes models an STLB.
public struct TLBArrayConfiguration: Hashable, Sendable {
    public var entries: Int
    /// `entries == ways` makes the array fully associative.
    public var ways: Int
    public var pageSizes: [PageSize]

    public init(entries: Int, ways: Int, pageSizes: [PageSize]) {
        self.entries = entries
        self.ways = ways
        self.pageSizes = pageSizes
    }

    /// The number of sets.
    public var sets: Int { entries / ways }
}

/// A TLB level: its arrays, replacement policy, kind and hit latency.
public struct TLBLevelConfiguration: Hashable, Sendable {
    public var name: String
    public var kind: TLBLevelKind
    public var replacement: ReplacementPolicy
    public var arrays: [TLBArrayConfiguration]
    /// The cycles a lookup in this level costs (paid by every access that
    /// reaches the level).
    public var hitLatencyCycles: Double

    public init(
        name: String, kind: TLBLevelKind = .unified, replacement: ReplacementPolicy = .lru,
        arrays: [TLBArrayConfiguration], hitLatencyCycles: Double = 1
    ) {
        self.name = name
        self.kind = kind
        self.replacement = replacement
        self.arrays = arrays
        self.hitLatencyCycles = hitLatencyCycles
    }

    /// A level with a single array.
    public init(
        name: String, entries: Int, ways: Int, pageSizes: [PageSize] = [.size4K], kind: TLBLevelKind = .unified,
        replacement: ReplacementPolicy = .lru, hitLatencyCycles: Double = 1
    ) {
        self.init(name: name, kind: kind, replacement: replacement,
                  arrays: [TLBArrayConfiguration(entries: entries, ways: ways, pageSizes: pageSizes)],
                  hitLatencyCycles: hitLatencyCycles)
    }

    /// Every page size the level holds.
    public var pageSizes: Set<PageSize> { Set(arrays.flatMap(\.pageSizes)) }

    /// Checks the geometry; the error names the level and the problem.
    public func validate() throws(TLBConfigurationError) {
        guard !arrays.isEmpty else { throw .invalid("level '\(name)' has no array") }
        var seen = Set<PageSize>()
        for array in arrays {
            guard array.entries > 0, array.ways > 0 else {
                throw .invalid("level '\(name)': entries (\(array.entries)) and ways (\(array.ways)) must be positive")
            }
            guard array.entries % array.ways == 0 else {
                throw .invalid("level '\(name)': entries (\(array.entries)) is not divisible by ways (\(array.ways))")
            }
            guard !array.pageSizes.isEmpty else { throw .invalid("level '\(name)' has an array with no page size") }
            for size in array.pageSizes {
                guard seen.insert(size).inserted else {
                    throw .invalid("level '\(name)' holds \(size) pages in two arrays")
                }
            }
            if replacement == .treePLRU && (array.ways & (array.ways - 1) != 0 || array.ways > 64) {
                throw .invalid("level '\(name)': tree-PLRU needs a power-of-two number of ways up to 64, not \(array.ways)")
            }
        }
        guard hitLatencyCycles >= 0, hitLatencyCycles.isFinite else {
            throw .invalid("level '\(name)': hit_latency_cycles must be a finite number >= 0")
        }
    }
}

/// Why a TLB configuration was rejected.
public enum TLBConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The TOML text does not parse.
    case syntax(String)
    /// A key the format does not define.
    case unknownKey(key: String, section: String)
    /// A value of the wrong type or out of range.
    case invalid(String)
    /// A preset name that does not exist.
    case unknownPreset(String)

    public var description: String {
        switch self {
        case let .syntax(message): "invalid TOML: \(message)"
        case let .unknownKey(key, section): "unknown key '\(key)' in \(section)"
        case let .invalid(message): message
        case let .unknownPreset(name):
            "unknown TLB preset '\(name)'; known: " + TLBPreset.names.joined(separator: ", ")
        }
    }
}
