import ArgumentParser
import Experiments
import Foundation
import GuestMemory
import Translation

/// `vmemlab numa model`: the NUMA cost model on a GUPS-like workload, with
/// the data and the page tables placed where the options say.
public struct NUMAModelCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Model GUPS on a synthetic NUMA machine with chosen data and page-table placement.",
        discussion: """
            Every TLB miss is a real 4-level walk; each reference and each data access costs the latency from the \
            CPU's node to the node of its page (SLIT-scaled), times the interference factor of that node. The \
            slowdown is against the same run with data and page tables on the CPU's node and no interference. \
            See docs/NUMA.md.
            """
    )

    @Option(help: "The synthetic machine's node count (2 and 4 are the documented shapes).")
    var nodes = 2

    @Option(help: "The page size: 4K, 2M or 1G.")
    var pageSize = "4K"

    @Option(help: "The node of the CPU that runs the workload.")
    var cpuNode = 0

    @Option(help: "The node holding the data (default: the CPU's node).")
    var dataNode: Int?

    @Option(help: "Where the page tables are: local (the CPU's node), replicated (a copy per node), or a node number.")
    var ptPlacement = "local"

    @Option(help: "Nodes with interference, such as 1 or 1-3.")
    var interferenceNodes: NodeSet?

    @Option(help: "The latency factor on nodes with interference.")
    var interferenceFactor = 2.0

    @Option(help: "Updates counted (after a tenth as many for warm-up).")
    var updates = 100_000

    @Option(help: "The GUPS table size, such as 8G.")
    var tableSize = ByteCount(8 << 30)

    @Option(help: "The seed of the updates' random stream.")
    var seed: UInt64 = 42

    @Flag(help: "Print JSON instead of text.")
    var json = false

    public init() {}

    public func validate() throws {
        guard (1...64).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 64, not \(nodes)") }
        guard PageSize(name: pageSize) != nil else { throw ValidationError("unknown page size '\(pageSize)'; known: 4K, 2M, 1G") }
        guard updates > 0 else { throw ValidationError("--updates must be positive") }
        guard interferenceFactor >= 1, interferenceFactor.isFinite else {
            throw ValidationError("--interference-factor must be a number of at least 1")
        }
        _ = try tables()
    }

    /// The page-table placement the option names.
    func tables() throws -> PageTablePlacement {
        switch ptPlacement.lowercased() {
        case "local": return .vcpuNode
        case "replicated": return .replicated
        default:
            guard let node = Int(ptPlacement), node >= 0 else {
                throw ValidationError("--pt-placement '\(ptPlacement)' is not local, replicated or a node number")
            }
            return .node(node)
        }
    }

    /// The run and its all-local baseline.
    public func results() throws -> (run: MitosisGUPSModel.Result, baseline: MitosisGUPSModel.Result, layout: MitosisGUPSModel.Layout) {
        let topology = try NUMATopology.synthetic(nodeCount: nodes)
        let layout = MitosisGUPSModel.Layout(cpuNode: cpuNode, dataNode: dataNode ?? cpuNode, tables: try tables(),
                                             interferenceNodes: interferenceNodes ?? [])
        try topology.validate(NodeSet([layout.cpuNode, layout.dataNode]).union(layout.interferenceNodes))
        if case let .node(node) = layout.tables { try topology.validate([node]) }
        var parameters = MitosisGUPSModel.Parameters()
        parameters.updates = updates
        parameters.warmupUpdates = max(1, updates / 10)
        parameters.tableBytes = UInt64(tableSize.bytes)
        parameters.interferenceFactor = interferenceFactor
        parameters.seed = seed
        let size = PageSize(name: pageSize) ?? .size4K
        let run = try MitosisGUPSModel.run(topology: topology, pageSize: size, layout: layout, parameters: parameters)
        let baseline = try MitosisGUPSModel.run(
            topology: topology, pageSize: size,
            layout: MitosisGUPSModel.Layout(cpuNode: cpuNode, dataNode: cpuNode, tables: .vcpuNode), parameters: parameters)
        return (run, baseline, layout)
    }

    public func run() throws {
        let (result, baseline, layout) = try results()
        let slowdown = result.runtimeCycles / baseline.runtimeCycles
        let object: [String: Any] = [
            "nodes": nodes, "page_size": pageSize.uppercased(), "cpu_node": layout.cpuNode, "data_node": layout.dataNode,
            "pt_placement": layout.tables.description, "pt_node": result.pageTableNode,
            "interference_nodes": layout.interferenceNodes.nodes, "interference_factor": interferenceFactor,
            "updates": result.updates, "tlb_misses": result.tlbMisses, "walk_refs": result.walkReferences,
            "walk_refs_cache_hit": result.walkCacheHits, "walk_refs_local_memory": result.walkLocalMemoryReferences,
            "walk_refs_remote_memory": result.walkRemoteMemoryReferences, "walk_cycles": result.walkCycles,
            "non_walk_cycles": result.nonWalkCycles, "runtime_cycles": result.runtimeCycles,
            "baseline_runtime_cycles": baseline.runtimeCycles, "slowdown": slowdown,
        ]
        if json {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let interference = layout.interferenceNodes.isEmpty ? "none" : "nodes \(layout.interferenceNodes) ×\(interferenceFactor)"
        print("""
            machine: \(nodes) synthetic nodes; CPU on node \(layout.cpuNode), data on node \(layout.dataNode), \
            page tables \(layout.tables) (walked copy on node \(result.pageTableNode)); interference: \(interference)
            \(result.updates) updates, \(result.tlbMisses) TLB misses, \(result.walkReferences) walk references: \
            \(result.walkCacheHits) cache hits, \(result.walkLocalMemoryReferences) local, \(result.walkRemoteMemoryReferences) remote
            cycles per update: \(String(format: "%.1f", result.runtimeCycles / Double(result.updates))) \
            (walks \(String(format: "%.1f", result.walkCycles / Double(result.updates))))
            slowdown against all-local: \(String(format: "%.3f", slowdown))x
            """)
    }
}
