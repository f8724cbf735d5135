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
/// Data: each access that the data-line model (`DataLineModel`) sends to
/// memory costs `dataCycles`; `predicted_cycles` leaves data out.
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

    /// The `numa` object of the JSON report; `dataMemoryAccesses` are the
    /// accesses the data-line model sends to memory.
    func object(_ statistics: SimulationStatistics, dataMemoryAccesses: UInt64) -> [String: Any] {
        let dram = statistics.lineHits.dram
        let local = pageTableNode == cpuNode
        return [
            "nodes": nodeCount, "cpu_node": cpuNode, "data_node": dataNode, "pt_placement": placementName,
            "pt_node": pageTableNode, "interference_nodes": interferenceNodes, "interference_factor": interferenceFactor,
            "walk_dram_ref_cycles": pageTableCycles, "walk_local_refs": local ? dram : 0, "walk_remote_refs": local ? 0 : dram,
            "walk_numa_cycles": Double(dram) * pageTableCycles, "data_access_cycles": dataCycles,
            "data_memory_accesses": dataMemoryAccesses, "data_cycles": Double(dataMemoryAccesses) * dataCycles,
        ]
    }

    /// One line for the text report.
    func text(_ statistics: SimulationStatistics, dataMemoryAccesses: UInt64) -> String {
        let dram = statistics.lineHits.dram
        return "NUMA              \(nodeCount) nodes; CPU node \(cpuNode), data node \(dataNode), page tables \(placementName) "
            + "(node \(pageTableNode)): \(dram) walk refs to DRAM at "
            + String(format: "%.1f cycles; \(dataMemoryAccesses) data accesses to memory at %.1f cycles, %.0f cycles",
                     pageTableCycles, dataCycles, Double(dataMemoryAccesses) * dataCycles)
    }
}
