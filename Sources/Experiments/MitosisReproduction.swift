import Foundation
import GuestMemory
import Translation

/// Mitosis Fig. 6 for GUPS, from the model: page tables local, remote,
/// remote with interference, and replicated, with 4K and 2M pages, on
/// synthetic 2-node and 4-node machines. The slowdowns come from real walks
/// priced by the NUMA cost model (`MitosisGUPSModel`); the published ones
/// sit beside them. What must agree is the shape: remote costs more than
/// local, interference more still, replication restores local, and 2M pages
/// shrink the effect.
public struct MitosisReproduction: Reproduction {
    public let name = "mitosis"
    public let source = "Achermann et al., Mitosis: Transparently Self-Replicating Page-Tables for Large-Memory Machines, ASPLOS 2020 (Fig. 6)"
    public let summary = "GUPS slowdown from remote page tables, interference and replication, 4K and 2M, 2 and 4 nodes (model)"

    public init() {}

    /// The synthetic machines: 2 and 4 nodes (see `NUMATopology.synthetic`).
    public static let nodeCounts = [2, 4]

    /// One row: a machine, a page size and a placement.
    public struct Point: Hashable, Sendable {
        public var nodes: Int
        public var pageSize: PageSize
        public var placement: MitosisGUPSModel.Placement
        public var result: MitosisGUPSModel.Result
        /// Runtime over the same machine's and page size's local-placement runtime.
        public var slowdown: Double
        /// Runtime over the same machine's 4K local-placement runtime.
        public var slowdownVersus4KLocal: Double
    }

    /// The shape checks, each with its verdict.
    public static func shapeChecks(_ points: [Point]) -> [(check: String, holds: Bool)] {
        func slowdown(_ nodes: Int, _ size: PageSize, _ placement: MitosisGUPSModel.Placement) -> Double {
            points.first { $0.nodes == nodes && $0.pageSize == size && $0.placement == placement }?.slowdown ?? .nan
        }
        var checks: [(String, Bool)] = []
        for nodes in Set(points.map(\.nodes)).sorted() {
            let remote = slowdown(nodes, .size4K, .remote), interfered = slowdown(nodes, .size4K, .remoteWithInterference)
            checks.append(("\(nodes) nodes 4K: remote > local (\(format(remote)))", remote > 1.02))
            checks.append(("\(nodes) nodes 4K: interference > remote (\(format(interfered)) > \(format(remote)))", interfered > remote))
            for size in [PageSize.size4K, .size2M] {
                let replicated = slowdown(nodes, size, .replicated)
                checks.append(("\(nodes) nodes \(size): replication restores local (\(format(replicated)))", abs(replicated - 1) <= 0.02))
            }
            for placement in [MitosisGUPSModel.Placement.remote, .remoteWithInterference] {
                let small = slowdown(nodes, .size4K, placement), large = slowdown(nodes, .size2M, placement)
                checks.append(("\(nodes) nodes \(placement.rawValue): 2M shrinks the effect (\(format(large)) < \(format(small)))",
                               large - 1 < (small - 1) / 2))
            }
        }
        return checks
    }

    static func format(_ value: Double) -> String { String(format: "%.2fx", value) }

    /// Runs every point.
    public static func points(parameters: MitosisGUPSModel.Parameters) throws -> [Point] {
        var points: [Point] = []
        for nodes in nodeCounts {
            let topology = try NUMATopology.synthetic(nodeCount: nodes)
            var local4K: Double = .nan
            for size in [PageSize.size4K, .size2M] {
                var local: Double = .nan
                for placement in MitosisGUPSModel.Placement.allCases {
                    let result = try MitosisGUPSModel.run(topology: topology, pageSize: size, placement: placement, parameters: parameters)
                    if placement == .local { local = result.runtimeCycles }
                    if placement == .local && size == .size4K { local4K = result.runtimeCycles }
                    points.append(Point(nodes: nodes, pageSize: size, placement: placement, result: result,
                                        slowdown: result.runtimeCycles / local,
                                        slowdownVersus4KLocal: result.runtimeCycles / local4K))
                }
            }
        }
        return points
    }

    public func run(_ context: ReproductionContext) throws -> ReproductionOutcome {
        var parameters = MitosisGUPSModel.Parameters()
        parameters.seed = context.seed
        if context.quick {
            parameters.updates = 20_000
            parameters.warmupUpdates = 5_000
        }
        let points = try Self.points(parameters: parameters)
        let checks = Self.shapeChecks(points)
        let holds = checks.allSatisfy(\.holds)

        var table = CSVTable(columns: [
            "workload", "configuration", "nodes", "page_size", "pt_placement", "cpu_node", "data_node", "pt_node",
            "interference_node", "interference_factor", "updates", "tlb_misses", "walk_refs", "walk_refs_cache_hit",
            "walk_refs_local_memory", "walk_refs_remote_memory", "walk_cycles", "non_walk_cycles", "runtime_cycles",
            "walk_fraction", "slowdown", "slowdown_vs_4k_local", "published_slowdown", "published_walk_fraction",
            "published_machine", "published_source", "status",
        ])
        for point in points {
            let label = point.placement.mitosisLabel(point.pageSize)
            let row = MitosisPublished.gups.first { $0.configuration == label }
            let result = point.result
            table.append([
                "GUPS", label, "\(point.nodes)", point.pageSize.name, point.placement.rawValue, "\(result.cpuNode)",
                "\(result.dataNode)", "\(result.pageTableNode)", result.interferenceNodes.description,
                result.interferenceNodes.isEmpty ? "1" : "\(parameters.interferenceFactor)", "\(result.updates)",
                "\(result.tlbMisses)", "\(result.walkReferences)", "\(result.walkCacheHits)",
                "\(result.walkLocalMemoryReferences)", "\(result.walkRemoteMemoryReferences)",
                String(format: "%.0f", result.walkCycles), String(format: "%.0f", result.nonWalkCycles),
                String(format: "%.0f", result.runtimeCycles), String(format: "%.4f", result.walkCycles / result.runtimeCycles),
                String(format: "%.4f", point.slowdown), String(format: "%.4f", point.slowdownVersus4KLocal),
                MitosisPublished.slowdown(label).map { String(format: "%.4f", $0) } ?? "",
                row.map { String(format: "%.4f", $0.walkCycles / $0.runtimeCycles) } ?? "",
                "4-socket Xeon E7-4850 v3", MitosisPublished.source, holds ? "PASS" : "DIFF",
            ])
        }
        try table.write(to: context.output("mitosis.csv"))

        var checksTable = CSVTable(columns: ["check", "holds"])
        for check in checks { checksTable.append([check.check, check.holds ? "yes" : "no"]) }
        try checksTable.write(to: context.output("mitosis-shape.csv"))

        func summary(_ nodes: Int, _ size: PageSize) -> String {
            MitosisGUPSModel.Placement.allCases.dropFirst().map { placement in
                let value = points.first { $0.nodes == nodes && $0.pageSize == size && $0.placement == placement }?.slowdown ?? .nan
                return "\(placement.mitosisLabel(size)) \(Self.format(value))"
            }.joined(separator: ", ")
        }
        let failed = checks.filter { !$0.holds }.map(\.check)
        let published = ["RP-LD", "RPI-LD", "RPI-LD+M", "TRP-LD", "TRPI-LD", "TRPI-LD+M"].map {
            "\($0) \(Self.format(MitosisPublished.slowdown($0) ?? .nan))"
        }
        return ReproductionOutcome(
            status: holds ? .pass : .diff,
            obtained: "4 nodes: \(summary(4, .size4K)); \(summary(4, .size2M)); shape \(checks.count - failed.count)/\(checks.count)"
                + (failed.isEmpty ? "" : "; fails: " + failed.joined(separator: "; ")),
            published: "GUPS 4-socket: " + published.joined(separator: ", "),
            files: ["mitosis.csv", "mitosis-shape.csv"])
    }
}
