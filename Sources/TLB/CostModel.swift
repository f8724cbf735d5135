/// One level of the page-table-entry data-cache model.
public struct DataCacheLevel: Hashable, Sendable {
    public var bytes: Int
    public var ways: Int
    public var latencyCycles: Double

    public init(bytes: Int, ways: Int, latencyCycles: Double) {
        self.bytes = bytes
        self.ways = ways
        self.latencyCycles = latencyCycles
    }
}

/// Where a walk reference's cache line would be, and what that costs.
///
/// A walk reference that reaches memory looks up its 64-byte line in L1,
/// L2 and the LLC in turn (LRU, inclusive fill) and costs the latency of the
/// first level that holds it, or DRAM's. Only page-table lines go through
/// the model, so each size is the share of that cache page-table lines may
/// use. Every number is a parameter; the KVM runner calibrates them.
public struct CostModel: Hashable, Sendable {
    public var l1: DataCacheLevel
    public var l2: DataCacheLevel
    public var llc: DataCacheLevel
    public var dramCycles: Double
    public var lineBytes: Int

    public init(l1: DataCacheLevel, l2: DataCacheLevel, llc: DataCacheLevel, dramCycles: Double, lineBytes: Int = 64) {
        self.l1 = l1
        self.l2 = l2
        self.llc = llc
        self.dramCycles = dramCycles
        self.lineBytes = lineBytes
    }

    /// Uncalibrated defaults of a current x86 core: 48 KiB L1, 1 MiB L2,
    /// 32 MiB LLC, with 5, 14, 50 and 250 cycles to L1, L2, LLC and DRAM.
    public static let `default` = CostModel(
        l1: DataCacheLevel(bytes: 48 << 10, ways: 12, latencyCycles: 5),
        l2: DataCacheLevel(bytes: 1 << 20, ways: 16, latencyCycles: 14),
        llc: DataCacheLevel(bytes: 32 << 20, ways: 16, latencyCycles: 50),
        dramCycles: 250)

    public func validate() throws(TLBConfigurationError) {
        guard lineBytes > 0, lineBytes & (lineBytes - 1) == 0 else {
            throw .invalid("cost: line_bytes must be a power of two, not \(lineBytes)")
        }
        for (name, level) in [("l1", l1), ("l2", l2), ("llc", llc)] {
            let lines = level.bytes / lineBytes
            guard level.bytes > 0, level.ways > 0, lines >= level.ways, lines % level.ways == 0 else {
                throw .invalid("cost: \(name) of \(level.bytes) bytes is not a whole number of \(level.ways)-way sets of \(lineBytes)-byte lines")
            }
            guard level.latencyCycles >= 0, level.latencyCycles.isFinite else {
                throw .invalid("cost: \(name)_cycles must be a finite number >= 0")
            }
        }
        guard dramCycles >= 0, dramCycles.isFinite else { throw .invalid("cost: dram_cycles must be a finite number >= 0") }
    }
}

/// A complete model configuration: TLB levels, paging-structure cache,
/// nested TLB and costs.
public struct TLBConfiguration: Hashable, Sendable {
    public var levels: [TLBLevelConfiguration]
    public var walkCache: WalkCacheConfiguration
    public var nestedTLB: NestedTLBConfiguration?
    public var cost: CostModel

    public init(
        levels: [TLBLevelConfiguration], walkCache: WalkCacheConfiguration = .none,
        nestedTLB: NestedTLBConfiguration? = nil, cost: CostModel = .default
    ) {
        self.levels = levels
        self.walkCache = walkCache
        self.nestedTLB = nestedTLB
        self.cost = cost
    }

    public func validate() throws(TLBConfigurationError) {
        guard !levels.isEmpty else { throw .invalid("a TLB configuration needs at least one [[level]]") }
        var names = Set<String>()
        for level in levels {
            try level.validate()
            guard names.insert(level.name).inserted else { throw .invalid("two levels are named '\(level.name)'") }
        }
        try walkCache.validate()
        try nestedTLB?.validate()
        try cost.validate()
    }
}
