import GuestMemory
import TLB
import Translation

/// A GUPS-like workload (random read-modify-write updates of 8-byte words
/// in a large table) on a NUMA machine, priced by the NUMA cost model from
/// real page walks.
///
/// One thread runs on the first node, with its data there. Every update
/// looks its page up in the TLB module's hierarchy (by default the Skylake
/// preset: L1 DTLB, then a 1536-entry, 12-way L2 TLB); a miss in every level
/// walks the real x86-64 page tables
/// (Translation's `PageWalker`), and `NUMAWalkCostObserver` prices each
/// reference by the node of the page-table page it reads. The page tables
/// are built in the chosen node's physical memory: locally, on the node
/// farthest away, or once per node with the walker reading its own node's
/// copy (Mitosis replication).
///
/// The page-table line cache is modelled here, small and simple: a
/// set-associative LRU cache of the 64-byte lines of page-table pages,
/// standing for the share of the data caches that page-table entries keep
/// against GUPS's data (the data itself never hits: its accesses are
/// uniformly random over a table far larger than the caches). Only the
/// TLB levels of the configuration are used; its walk caches and cost
/// model are not, so every walk makes all its references.
public enum MitosisGUPSModel {
    /// The page-table placements of Mitosis Fig. 6 with local data.
    public enum Placement: String, CaseIterable, Sendable {
        case local
        case remote
        case remoteWithInterference = "remote+interference"
        case replicated

        /// The configuration's name in Mitosis Fig. 6.
        public func mitosisLabel(_ pageSize: PageSize) -> String {
            let prefix = pageSize == .size4K ? "" : "T"
            switch self {
            case .local: return prefix + "LP-LD"
            case .remote: return prefix + "RP-LD"
            case .remoteWithInterference: return prefix + "RPI-LD"
            case .replicated: return prefix + "RPI-LD+M"
            }
        }
    }

    /// The model's knobs. The defaults describe a Haswell-class server; they
    /// are set from such a machine's documented sizes, not fitted to Mitosis.
    public struct Parameters: Hashable, Sendable {
        /// The GUPS table.
        public var tableBytes: UInt64 = 8 << 30
        /// Updates counted, after `warmupUpdates` that fill the TLB and caches.
        public var updates = 200_000
        public var warmupUpdates = 20_000
        /// The TLB levels (those of a TLB module configuration).
        public var tlb: TLBConfiguration = TLBPreset.skylake
        /// Page-table lines the caches keep (1 MiB of lines, 16-way).
        public var pageTableCacheLines = 16384
        public var pageTableCacheWays = 16
        /// The cost of an update besides its memory accesses.
        public var workCycles: Double = 20
        /// A load from local memory, and one that hits the caches.
        public var localLatencyCycles: Double = 200
        public var cacheHitCycles: Double = 40
        /// The latency factor on the node with interference.
        public var interferenceFactor: Double = 2
        public var seed: UInt64 = 42

        public init() {}
    }

    /// Where things are for one run: the CPU, the data, the page tables,
    /// and the nodes with interference.
    public struct Layout: Hashable, Sendable {
        public var cpuNode: Int
        public var dataNode: Int
        public var tables: PageTablePlacement
        public var interferenceNodes: NodeSet

        public init(cpuNode: Int, dataNode: Int, tables: PageTablePlacement, interferenceNodes: NodeSet = []) {
            self.cpuNode = cpuNode
            self.dataNode = dataNode
            self.tables = tables
            self.interferenceNodes = interferenceNodes
        }
    }

    /// What one run counted and cost.
    public struct Result: Hashable, Sendable {
        public var cpuNode: Int
        public var dataNode: Int
        /// The node of the page-table copy the CPU walks.
        public var pageTableNode: Int
        /// The nodes with interference.
        public var interferenceNodes: NodeSet
        public var updates: Int
        public var tlbMisses: Int
        public var walkReferences: Int
        public var walkCacheHits: Int
        public var walkLocalMemoryReferences: Int
        public var walkRemoteMemoryReferences: Int
        public var walkCycles: Double
        public var nonWalkCycles: Double
        public var runtimeCycles: Double { walkCycles + nonWalkCycles }
    }

    /// Where the table's virtual range starts (1 GiB aligned).
    static let virtualBase: UInt64 = 0x7F00_0000_0000
    /// The physical memory kept for page tables at the top of each node.
    static let tableAreaBytes: UInt64 = 512 << 20

    /// The layout of a Mitosis placement: the CPU and data on the first node,
    /// and "remote" meaning the node farthest from it.
    public static func layout(_ placement: Placement, on topology: NUMATopology) throws -> Layout {
        let cpuNode = topology.nodes[0].id
        let remoteNode = try topology.farthest(from: cpuNode)
        switch placement {
        case .local: return Layout(cpuNode: cpuNode, dataNode: cpuNode, tables: .vcpuNode)
        case .remote: return Layout(cpuNode: cpuNode, dataNode: cpuNode, tables: .node(remoteNode))
        case .remoteWithInterference:
            return Layout(cpuNode: cpuNode, dataNode: cpuNode, tables: .node(remoteNode), interferenceNodes: [remoteNode])
        case .replicated: return Layout(cpuNode: cpuNode, dataNode: cpuNode, tables: .replicated, interferenceNodes: [remoteNode])
        }
    }

    /// Runs GUPS on `topology` with `pageSize` pages and the page tables
    /// placed as `placement`.
    public static func run(
        topology: NUMATopology, pageSize: PageSize, placement: Placement, parameters: Parameters = Parameters()
    ) throws -> Result {
        try run(topology: topology, pageSize: pageSize, layout: layout(placement, on: topology), parameters: parameters)
    }

    /// Runs GUPS on `topology` with `pageSize` pages, laid out as `layout`.
    public static func run(
        topology: NUMATopology, pageSize: PageSize, layout: Layout, parameters: Parameters = Parameters()
    ) throws -> Result {
        let cpuNode = layout.cpuNode, tables = layout.tables
        try topology.validate(NodeSet([cpuNode, layout.dataNode]).union(layout.interferenceNodes))
        if case let .node(node) = tables { try topology.validate([node]) }
        var model = NUMACostModel(topology: topology, localLatencyCycles: parameters.localLatencyCycles,
                                  cacheHitCycles: parameters.cacheHitCycles)
        for node in layout.interferenceNodes { model.interference[node] = parameters.interferenceFactor }
        let latencies = try model.table()

        let dataRange = try topology.physicalRange(ofNode: layout.dataNode)
        let dataBase = dataRange.lowerBound + (1 << 30)
        guard dataBase + parameters.tableBytes <= dataRange.upperBound - tableAreaBytes,
              parameters.tableBytes % pageSize.bytes == 0, parameters.tableBytes > 0
        else {
            throw ReproductionError.modelFailed(
                "a \(parameters.tableBytes)-byte GUPS table of \(pageSize) pages does not fit node \(layout.dataNode)")
        }

        // The updates, drawn up front so that only touched pages are mapped.
        var random = GUPSRandom(seed: parameters.seed)
        let total = parameters.warmupUpdates + parameters.updates
        let words = parameters.tableBytes / 8
        let offsets = (0..<total).map { _ in (random.next() % words) &* 8 }
        let pages = Set(offsets.map { $0 >> pageSize.shift }).sorted()

        // One hierarchy per node that holds a copy, built in that node's table area.
        var memory = SparsePhysicalMemory(initialFrames: 4096)
        let holders = tables.nodesHoldingTables(walkerNodes: [cpuNode], allNodes: topology.nodeIDs)
        var roots: [Int: UInt64] = [:]
        let leaf = PageTableEntry.Flags([.present, .writable, .user]).rawValue
        for node in holders {
            let range = try topology.physicalRange(ofNode: node)
            var builder = try PageTableBuilder(
                format: .x86, mode: .fourLevel,
                allocator: FrameAllocator(base: range.upperBound - tableAreaBytes, size: tableAreaBytes), memory: &memory)
            for page in pages {
                try builder.map(virtual: virtualBase + page << pageSize.shift, physical: dataBase + page << pageSize.shift,
                                size: pageSize, leafBits: leaf, memory: &memory)
            }
            roots[node] = builder.root
        }
        let tableNode = tables.tableNode(forWalkerOn: cpuNode)
        guard let root = roots[tableNode], let cpu = topology.index(of: cpuNode) else {
            throw ReproductionError.modelFailed("no page-table copy on node \(tableNode)")
        }

        let tlb = try TLBHierarchy(levels: parameters.tlb.levels)
        var observer = NUMAWalkCostObserver(
            latencies: latencies, cpu: cpu,
            lineCache: NUMALRUCache(entries: parameters.pageTableCacheLines, ways: parameters.pageTableCacheWays))
        let walker = PageWalker(controls: PagingControls(mode: .fourLevel))
        var misses = 0
        var nonWalk: Double = 0
        for (index, offset) in offsets.enumerated() {
            if index == parameters.warmupUpdates {
                observer.resetCounts()
                misses = 0
                nonWalk = 0
            }
            let virtual = virtualBase &+ offset
            let physical = dataBase &+ offset
            if tlb.lookup(virtual, type: .write) == nil {
                misses &+= 1
                guard case let .translated(translation) = walker.walk(
                    virtual, access: .userWrite, root: root, memory: &memory, observer: &observer),
                    translation.physicalAddress == physical
                else { throw ReproductionError.modelFailed("the walk of 0x\(String(virtual, radix: 16)) did not reach its data") }
                tlb.fillAfterMiss(virtual, size: translation.pageSize, frame: physical & ~translation.pageSize.offsetMask,
                                  global: false, type: .write)
            }
            nonWalk += parameters.workCycles + latencies.cycles(cpu: cpu, memory: latencies.position(ofPhysical: physical))
        }
        return Result(
            cpuNode: cpuNode, dataNode: layout.dataNode, pageTableNode: tableNode, interferenceNodes: layout.interferenceNodes,
            updates: parameters.updates, tlbMisses: misses, walkReferences: observer.references,
            walkCacheHits: observer.cacheHits, walkLocalMemoryReferences: observer.localMemoryReferences,
            walkRemoteMemoryReferences: observer.remoteMemoryReferences, walkCycles: observer.cycles, nonWalkCycles: nonWalk)
    }
}

/// The updates' random stream: SplitMix64 (Steele, Lea, Flood, OOPSLA 2014).
struct GUPSRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }
}
