import ShadowPaging
import TLB

/// The paging strategies compared.
public enum PagingStrategy: String, CaseIterable, Sendable {
    /// No virtualization: the guest's tables are the hardware's.
    case native
    /// Nested paging (EPT/NPT): 2D walks, no exits for table updates.
    case nested
    /// Shadow paging with the KVM-style shadow MMU.
    case shadow
    /// Agile paging (Gandhi, Hill, Swift, ISCA 2016): shadow paging for
    /// stable tables, nested paging below tables that change often.
    case agile
}

/// The cost parameters of the strategy comparison, in cycles. Every one is
/// a default that the caller may change; `sources` says where each comes from.
public struct StrategyCostParameters: Hashable, Sendable {
    /// A walk reference that misses the page-walk cache (a page-table line
    /// read from the data caches or memory). Default 40: an assumption
    /// (PTE lines mostly in L2/LLC), not a measurement.
    public var walkReferenceCycles: Double = 40
    /// A walk reference that hits the page-walk cache. Default 2 (assumption).
    public var walkCacheHitCycles: Double = 2
    /// A guest page-table store that traps and is emulated. Default 8,300:
    /// measured on this project's machine for a store into a non-leaf table
    /// under KVM shadow paging (shared/notes/kvm-on-this-machine.md), a
    /// default until the KVM runner calibrates it.
    public var pageTableWriteTrapCycles: Double = 8_300
    /// Any other exit: a shadow page fault, an injected guest fault, an
    /// unsync write fault, a CR3 load, an INVLPG, a flush. Default 4,150:
    /// the exception round trip under KVM on bare metal, 1.66 µs at 2.5 GHz
    /// (Huang et al., PVM, SOSP 2023, Table 1), a default, not a measurement here.
    public var exitCycles: Double = 4_150
    /// Each guest entry re-read while syncing an unsync page. Default 10 (assumption).
    public var syncEntryCycles: Double = 10

    public init() {}

    /// Where each default comes from, for JSON and CSV metadata.
    public static let sources: [(String, String)] = [
        ("walk_reference_cycles", "default 40, assumption"),
        ("walk_cache_hit_cycles", "default 2, assumption"),
        ("page_table_write_trap_cycles", "default 8300, measured on this machine (shared/notes/kvm-on-this-machine.md)"),
        ("exit_cycles", "default 4150, PVM SOSP 2023 Table 1 kvm(BM) exception round trip 1.66 us at 2.5 GHz"),
        ("sync_entry_cycles", "default 10, assumption"),
    ]
}

/// The page-walk cache and nested TLB of the comparison.
public struct StrategyCacheParameters: Hashable, Sendable {
    /// TLB entries and ways (one level; see `StrategyTLB`).
    public var tlbEntries: Int = 1536
    public var tlbWays: Int = 12
    /// When set, the TLB module's hierarchy with these levels (from a
    /// configuration file or preset) replaces the single level.
    public var tlbLevels: [TLBLevelConfiguration]?
    /// Page-walk cache entries, keyed by the entry's physical address.
    public var walkCacheEntries: Int = 32
    /// Whether the nested dimension's references go through the page-walk
    /// cache too (Bhargava's 2D PWC) or only the guest's (1D PWC).
    public var walkCacheHoldsNested: Bool = true
    /// Nested TLB entries (gPA → hPA), 0 for none.
    public var nestedTLBEntries: Int = 16

    public init() {}
}

/// Agile paging's policy knobs (Gandhi et al.): a guest table that takes
/// `switchThreshold` VMM interventions (traps or unsync faults) within one
/// interval moves, with the tables below it, to nested mode; a nested-mode
/// table not written during a whole interval moves back to shadow mode. The
/// paper's interval is time; here it is a number of guest-OS events.
public struct AgilePolicy: Hashable, Sendable {
    public var switchThreshold: Int = 2
    public var intervalEvents: Int = 10_000
    public init() {}
}

/// What one strategy cost on one workload. Cycle components are reported
/// separately; `totalCycles` is their sum.
public struct StrategyResult: Sendable {
    public var strategy: PagingStrategy
    public var accesses = 0
    public var tlbHits = 0
    public var tlbMisses = 0
    /// Walk references that went to memory, and that hit the walk cache.
    public var walkReferences = 0
    public var walkCacheHits = 0
    public var nestedTLBHits = 0
    /// Page faults the guest's own tables raised (under shadow paging each
    /// is also an exit, counted in `shadow`).
    public var guestPageFaults = 0
    /// The shadow MMU's counters (shadow and agile).
    public var shadow = ShadowMMUCounters()
    /// Agile: tables moved to nested mode, and back to shadow mode.
    public var agileToNested = 0
    public var agileToShadow = 0

    public var walkCycles = 0.0
    public var trapCycles = 0.0
    public var exitCycles = 0.0
    public var syncCycles = 0.0
    public var totalCycles: Double { walkCycles + trapCycles + exitCycles + syncCycles }
    /// Cycles per access.
    public var cyclesPerAccess: Double { accesses == 0 ? 0 : totalCycles / Double(accesses) }

    public init(strategy: PagingStrategy) { self.strategy = strategy }
}
