import ArgumentParser
import Experiments
import GuestMemory

/// The NUMA options of `vmemlab simulate` (model path): where the CPU, the
/// data and the page tables live on a synthetic or the host's topology.
struct SimulateNUMAOptions: ParsableArguments {
    @Option(help: "Price memory references on a NUMA machine: a synthetic one of N nodes (1-8), or host.")
    var numaNodes: String?
    @Option(help: "The node of the CPU that runs the workload (default 0).")
    var cpuNode: Int?
    @Option(help: "The node holding the data (default: the CPU's node).")
    var dataNode: Int?
    @Option(help: "Where the page tables (guest tables and EPT alike) live: local, remote, replicated or node:K.")
    var ptPlacement: String?
    @Option(help: "Nodes with interference, such as 1 or 1-3.")
    var interferenceNodes: NodeSet?
    @Option(help: "The latency factor on nodes with interference (default 2).")
    var interferenceFactor: Double?
    @Option(help: "The latency of a load from local memory in cycles (default: the configuration's dram_cycles).")
    var localLatency: Double?

    init() {}

    /// Whether any NUMA option was given.
    var isActive: Bool {
        numaNodes != nil || cpuNode != nil || dataNode != nil || ptPlacement != nil || interferenceNodes != nil
            || interferenceFactor != nil || localLatency != nil
    }

    func validate() throws {
        guard isActive else { return }
        guard let nodes = numaNodes else { throw ValidationError("the NUMA options need --numa-nodes N (1-8) or host") }
        if nodes != "host" {
            guard let count = Int(nodes), (1...8).contains(count) else {
                throw ValidationError("--numa-nodes '\(nodes)' is not a node count from 1 to 8, or host")
            }
        }
        if let factor = interferenceFactor, !(factor >= 1 && factor.isFinite) {
            throw ValidationError("--interference-factor must be a number of at least 1")
        }
        if let latency = localLatency, !(latency >= 0 && latency.isFinite) {
            throw ValidationError("--local-latency must be a number of cycles >= 0")
        }
        if let placement = ptPlacement, !["local", "remote", "replicated"].contains(placement),
           Self.node(of: placement) == nil {
            throw ValidationError("--pt-placement '\(placement)' is not local, remote, replicated or node:K")
        }
    }

    /// The K of `node:K`.
    static func node(of placement: String) -> Int? {
        guard placement.hasPrefix("node:"), let node = Int(placement.dropFirst(5)), node >= 0 else { return nil }
        return node
    }

    /// The run's placement and latencies; throws a `CommandFailure` naming
    /// a node the topology lacks. `dramCycles` is the configuration's.
    func plan(dramCycles: Double) throws -> SimulationNUMAPlan {
        let topology: NUMATopology
        if numaNodes == "host" {
            topology = HostMemoryEnvironment.probe().topology
        } else {
            topology = try NUMATopology.synthetic(nodeCount: Int(numaNodes ?? "") ?? 1)
        }
        let cpu = cpuNode ?? 0
        let data = dataNode ?? cpu
        let interfered = interferenceNodes ?? []
        for (flag, node) in [("--cpu-node", cpu), ("--data-node", data)] + interfered.map({ ("--interference-nodes", $0) })
        where topology.index(of: node) == nil {
            throw CommandFailure("\(flag): node \(node) does not exist (nodes: \(topology.nodeIDs))")
        }
        let placement: PageTablePlacement
        switch ptPlacement ?? "local" {
        case "local": placement = .vcpuNode
        case "replicated": placement = .replicated
        case "remote":
            let far = try topology.farthest(from: cpu)
            guard far != cpu else { throw CommandFailure("--pt-placement remote needs a second node; the topology has one") }
            placement = .node(far)
        default:
            let node = Self.node(of: ptPlacement ?? "") ?? -1
            guard topology.index(of: node) != nil else {
                throw CommandFailure("--pt-placement: node \(node) does not exist (nodes: \(topology.nodeIDs))")
            }
            placement = .node(node)
        }
        let factor = interferenceFactor ?? 2
        let model = NUMACostModel(topology: topology, localLatencyCycles: localLatency ?? dramCycles,
                                  interference: Dictionary(uniqueKeysWithValues: interfered.map { ($0, factor) }))
        let tableNode = placement.tableNode(forWalkerOn: cpu)
        return SimulationNUMAPlan(
            nodeCount: topology.nodes.count, cpuNode: cpu, dataNode: data, placementName: ptPlacement ?? "local",
            pageTableNode: tableNode,
            interferenceNodes: interfered.nodes, interferenceFactor: factor,
            pageTableCycles: try model.latency(cpuNode: cpu, memoryNode: tableNode),
            dataCycles: try model.latency(cpuNode: cpu, memoryNode: data))
    }
}
