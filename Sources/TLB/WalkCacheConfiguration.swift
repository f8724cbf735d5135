import Translation

/// The paging-structure cache design.
@frozen public enum WalkCacheDesign: String, Hashable, Sendable, CaseIterable {
    /// No cache: every walk reference goes to memory.
    case none
    /// A page-walk cache keyed by the physical address of an entry (AMD's
    /// PWC; Barr et al.'s UPTC). A reference to a cached non-leaf entry hits
    /// it instead of memory.
    case pwc
    /// Translation caches keyed by a virtual-address prefix (Intel's PML4E,
    /// PDPTE and PDE caches; Barr et al.'s UTC/STC). A hit for the longest
    /// cached prefix lets the walk skip every level above it.
    case translation
}

/// Which references a page-walk cache holds in a 2D walk (Bhargava et al.).
@frozen public enum WalkCacheScope: String, Hashable, Sendable, CaseIterable {
    /// Guest (and native) entries only: the 1D PWC.
    case guest
    /// Guest and nested entries: the 2D PWC.
    case all
}

/// A paging-structure cache: its design and geometry.
///
/// Only non-leaf entries are cached; leaf translations belong to the TLB
/// (and, for the nested dimension, to the nested TLB).
public struct WalkCacheConfiguration: Hashable, Sendable {
    public var design: WalkCacheDesign
    /// The entries of a unified cache (PWC, or a unified translation cache).
    public var entries: Int
    public var ways: Int
    public var replacement: ReplacementPolicy
    /// For a PWC in a 2D walk: guest entries only (1D) or all entries (2D).
    public var scope: WalkCacheScope
    /// For split translation caches: the entries of the cache for each
    /// non-leaf level (2 = PDE cache, 3 = PDPTE, 4 = PML4E, 5 = PML5E),
    /// each fully associative. Empty means one unified cache.
    public var splitEntries: [Int: Int]
    /// The cycles of a hit.
    public var hitLatencyCycles: Double

    public init(
        design: WalkCacheDesign = .none, entries: Int = 0, ways: Int = 0, replacement: ReplacementPolicy = .lru,
        scope: WalkCacheScope = .all, splitEntries: [Int: Int] = [:], hitLatencyCycles: Double = 1
    ) {
        self.design = design
        self.entries = entries
        self.ways = ways == 0 ? entries : ways
        self.replacement = replacement
        self.scope = scope
        self.splitEntries = splitEntries
        self.hitLatencyCycles = hitLatencyCycles
    }

    /// No paging-structure cache.
    public static let none = WalkCacheConfiguration()

    public func validate() throws(TLBConfigurationError) {
        guard design != .none else { return }
        if design == .translation && !splitEntries.isEmpty {
            for (level, count) in splitEntries {
                guard (2...5).contains(level), count > 0 else {
                    throw .invalid("walk_cache: split entries need levels 2...5 and a positive count, not \(level) = \(count)")
                }
            }
        } else {
            guard entries > 0, ways > 0 else { throw .invalid("walk_cache: entries and ways must be positive") }
            guard entries % ways == 0 else {
                throw .invalid("walk_cache: entries (\(entries)) is not divisible by ways (\(ways))")
            }
        }
        guard hitLatencyCycles >= 0, hitLatencyCycles.isFinite else {
            throw .invalid("walk_cache: hit_latency_cycles must be a finite number >= 0")
        }
    }
}

/// A nested TLB: it caches guest-physical to host-physical translations, so
/// a hit skips the nested walk of a guest table or of the final address.
public struct NestedTLBConfiguration: Hashable, Sendable {
    public var entries: Int
    public var ways: Int
    public var replacement: ReplacementPolicy
    public var hitLatencyCycles: Double

    public init(entries: Int, ways: Int = 0, replacement: ReplacementPolicy = .lru, hitLatencyCycles: Double = 1) {
        self.entries = entries
        self.ways = ways == 0 ? entries : ways
        self.replacement = replacement
        self.hitLatencyCycles = hitLatencyCycles
    }

    public func validate() throws(TLBConfigurationError) {
        guard entries > 0, ways > 0 else { throw .invalid("nested_tlb: entries and ways must be positive") }
        guard entries % ways == 0 else {
            throw .invalid("nested_tlb: entries (\(entries)) is not divisible by ways (\(ways))")
        }
    }
}
