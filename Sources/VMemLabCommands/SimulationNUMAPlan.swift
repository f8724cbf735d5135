import Foundation
import TLB

/// Where one `simulate` run's CPU, data and page tables live, and what a
/// memory load to each costs (`NUMACostModel.latency`, interference
/// included).
///
/// All page tables of a run (guest tables and EPT alike) sit on one node,
/// or are replicated and so read from the CPU's node, so a walk reference
/// that the page-table line cache sends to DRAM costs one constant:
/// `pageTableCycles` replaces the configuration's `dram_cycles` for the
/// run. References that hit L1, L2 or the LLC keep their latencies.
///
/// Data: the simulator has no data-cache model, so `data_cycles` prices
/// every access as one load reaching memory on the data node, an upper
/// bound that `predicted_cycles` leaves out.
struct SimulationNUMAPlan {
    var nodeCount: Int
    var cpuNode: Int
    var dataNode: Int
    /// The placement as `--pt-placement` named it: local, remote, replicated or node:K.
    var placementName: String
    /// The node of the page-table copy the CPU walks.
    var pageTableNode: Int
    var interferenceNodes: [Int]
    var interferenceFactor: Double
    /// The latency of a walk reference that reaches DRAM.
    var pageTableCycles: Double
    /// The latency of a data access.
    var dataCycles: Double

    /// `configuration` with walk references to DRAM priced at `pageTableCycles`.
    func applied(to configuration: TLBConfiguration) -> TLBConfiguration {
        var result = configuration
        result.cost.dramCycles = pageTableCycles
        return result
    }

    /// The `numa` object of the JSON report.
    func object(_ statistics: SimulationStatistics) -> [String: Any] {
        let dram = statistics.lineHits.dram
        let local = pageTableNode == cpuNode
        return [
            "nodes": nodeCount, "cpu_node": cpuNode, "data_node": dataNode, "pt_placement": placementName,
            "pt_node": pageTableNode, "interference_nodes": interferenceNodes, "interference_factor": interferenceFactor,
            "walk_dram_ref_cycles": pageTableCycles, "walk_local_refs": local ? dram : 0, "walk_remote_refs": local ? 0 : dram,
            "walk_numa_cycles": Double(dram) * pageTableCycles, "data_access_cycles": dataCycles,
            "data_cycles": Double(statistics.accesses) * dataCycles,
            "data_cycles_model": "every access reaching memory (an upper bound; no data-cache model)",
        ]
    }

    /// One line for the text report.
    func text(_ statistics: SimulationStatistics) -> String {
        let dram = statistics.lineHits.dram
        return "NUMA              \(nodeCount) nodes; CPU node \(cpuNode), data node \(dataNode), page tables \(placementName) "
            + "(node \(pageTableNode)): \(dram) walk refs to DRAM at "
            + String(format: "%.1f cycles; data (every access to memory, an upper bound) %.0f cycles",
                     pageTableCycles, Double(statistics.accesses) * dataCycles)
    }
}
