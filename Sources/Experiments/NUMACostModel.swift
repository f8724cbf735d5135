import GuestMemory
import Translation

/// What a memory access costs by where it runs and where its data lives.
///
/// - An access from a CPU on node `c` to memory on node `m` costs
///   `localLatencyCycles × distance(c, m) / distance(c, c)`: the SLIT
///   distances scale the local latency, so 21 means 2.1 times as far.
///   `latencyOverrides` replaces that for chosen pairs, for machines whose
///   measured latencies the SLIT misstates.
/// - Interference (another workload hammering node `m`, as STREAM does in
///   Mitosis) multiplies every latency to node `m` by its factor.
/// - A page-table reference that hits in the data caches costs
///   `cacheHitCycles`, wherever its page lives.
public struct NUMACostModel: Hashable, Sendable {
    public var topology: NUMATopology
    /// A load from memory on the CPU's own node.
    public var localLatencyCycles: Double
    /// A load that hits in the caches.
    public var cacheHitCycles: Double
    /// Latency factors by memory node; a missing node has factor 1.
    public var interference: [Int: Double]
    /// Measured latencies that replace the SLIT-scaled ones, keyed by
    /// `[cpuNode, memoryNode]`.
    public var latencyOverrides: [[Int]: Double]

    public init(topology: NUMATopology, localLatencyCycles: Double = 200, cacheHitCycles: Double = 40,
                interference: [Int: Double] = [:], latencyOverrides: [[Int]: Double] = [:]) {
        self.topology = topology
        self.localLatencyCycles = localLatencyCycles
        self.cacheHitCycles = cacheHitCycles
        self.interference = interference
        self.latencyOverrides = latencyOverrides
    }

    /// The latency of a memory load from a CPU on `cpuNode` to memory on `memoryNode`.
    public func latency(cpuNode: Int, memoryNode: Int) throws(NUMATopologyError) -> Double {
        let distance = try topology.distance(from: cpuNode, to: memoryNode)
        let local = try topology.distance(from: cpuNode, to: cpuNode)
        let base = latencyOverrides[[cpuNode, memoryNode]] ?? localLatencyCycles * Double(distance) / Double(local)
        return base * (interference[memoryNode] ?? 1)
    }

    /// The model flattened for a simulation's inner loop.
    public func table() throws(NUMATopologyError) -> NUMALatencyTable {
        var ends: [UInt64] = []
        var end: UInt64 = 0
        for node in topology.nodes {
            end += node.memoryBytes
            ends.append(end)
        }
        var cycles: [Double] = []
        for cpu in topology.nodes {
            for memory in topology.nodes { cycles.append(try latency(cpuNode: cpu.id, memoryNode: memory.id)) }
        }
        return NUMALatencyTable(nodeIDs: topology.nodes.map(\.id), ends: ends, cycles: cycles, cacheHitCycles: cacheHitCycles)
    }
}

/// A cost model as flat arrays: the node of a physical address and the
/// latency between nodes, by their positions in the topology.
public struct NUMALatencyTable: Sendable {
    /// The node ids, by position.
    public let nodeIDs: [Int]
    /// The end of each node's physical range, by position.
    @usableFromInline let ends: [UInt64]
    /// Latencies, `[cpu * count + memory]`, by position.
    @usableFromInline let cycles: [Double]
    public let cacheHitCycles: Double

    init(nodeIDs: [Int], ends: [UInt64], cycles: [Double], cacheHitCycles: Double) {
        self.nodeIDs = nodeIDs
        self.ends = ends
        self.cycles = cycles
        self.cacheHitCycles = cacheHitCycles
    }

    /// The position of the node holding `address`; addresses past the last
    /// node count as the last node's.
    @inlinable
    public func position(ofPhysical address: UInt64) -> Int {
        var index = 0
        while index &+ 1 < ends.count && address >= ends[index] { index &+= 1 }
        return index
    }

    /// The latency from the CPU node at position `cpu` to the memory node at position `memory`.
    @inlinable
    public func cycles(cpu: Int, memory: Int) -> Double { cycles[cpu &* nodeIDs.count &+ memory] }
}

/// Prices every reference of a page walk by where its page-table page
/// lives: a hit in the page-table line cache costs a cache hit, a miss costs
/// the latency from the walking CPU's node to the page's node.
public struct NUMAWalkCostObserver: WalkObserver, Sendable {
    public let latencies: NUMALatencyTable
    /// The position of the walking CPU's node.
    public var cpu: Int
    /// The cache lines of page-table pages that the data caches hold.
    public var lineCache: NUMALRUCache
    public var references = 0
    public var cacheHits = 0
    public var localMemoryReferences = 0
    public var remoteMemoryReferences = 0
    public var cycles: Double = 0

    public init(latencies: NUMALatencyTable, cpu: Int, lineCache: NUMALRUCache) {
        self.latencies = latencies
        self.cpu = cpu
        self.lineCache = lineCache
    }

    @inlinable
    public mutating func observe(_ reference: WalkReference) {
        references &+= 1
        if lineCache.access(reference.address &>> 6) {
            cacheHits &+= 1
            cycles += latencies.cacheHitCycles
            return
        }
        let node = latencies.position(ofPhysical: reference.address)
        if node == cpu { localMemoryReferences &+= 1 } else { remoteMemoryReferences &+= 1 }
        cycles += latencies.cycles(cpu: cpu, memory: node)
    }

    /// Forgets the counts, keeping the cache warm.
    public mutating func resetCounts() {
        references = 0
        cacheHits = 0
        localMemoryReferences = 0
        remoteMemoryReferences = 0
        cycles = 0
    }
}
