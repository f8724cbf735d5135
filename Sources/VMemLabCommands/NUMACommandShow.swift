import ArgumentParser
import Foundation
import GuestMemory

/// `vmemlab numa show`: the topology, distances, hugepage pools and THP mode.
public struct NUMAShowCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the NUMA nodes, their distances, the hugepage pools and the THP mode."
    )

    @Flag(help: "Print JSON instead of text.")
    var json = false

    public init() {}

    public func run() throws {
        let host = HostMemoryEnvironment.probe()
        print(json ? try Self.json(host) : Self.text(host))
    }

    /// The JSON object: `nodes` (`id`, `cpus`, `memory_bytes`), `distances`,
    /// `thp_mode`, `hugepages` (by size: `total`, `free`, ...) and the NUMA probe.
    public static func object(_ host: HostMemoryEnvironment) -> [String: Any] {
        var pools: [String: Any] = [:]
        for pool in host.hugepagePools {
            pools[ByteCount(pool.pageBytes).description] = [
                "page_bytes": pool.pageBytes, "total": pool.total, "free": pool.free,
                "reserved": pool.reserved, "surplus": pool.surplus,
            ]
        }
        return [
            "nodes": host.topology.nodes.map { ["id": $0.id, "cpus": $0.cpus, "memory_bytes": $0.memoryBytes] },
            "distances": host.topology.distances,
            "thp_mode": host.transparentHugepages.mode,
            "thp_defrag": host.transparentHugepages.defrag,
            "thp_shmem_mode": host.transparentHugepages.shmemMode,
            "hugepages": pools,
            "base_page_bytes": host.basePageBytes,
            "numa_syscalls_allowed": host.numa.syscallsAllowed,
            "numa_syscalls_reason": host.numa.reason ?? NSNull(),
            "libnuma_available": host.numa.libnumaAvailable,
            "weighted_interleave": host.numa.weightedInterleave,
        ]
    }

    static func json(_ host: HostMemoryEnvironment) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object(host), options: [.prettyPrinted, .sortedKeys]),
               as: UTF8.self)
    }

    static func text(_ host: HostMemoryEnvironment) -> String {
        var lines: [String] = []
        let numa = host.numa.syscallsAllowed ? "allowed" : "unavailable: \(host.numa.reason ?? "")"
        lines.append("NUMA system calls: \(numa)\(host.numa.weightedInterleave ? " (weighted interleave supported)" : "")")
        lines.append("nodes: \(host.topology.nodes.count)")
        for node in host.topology.nodes {
            let gibibytes = String(format: "%.2f", Double(node.memoryBytes) / Double(1 << 30))
            lines.append("  node \(node.id): cpus \(NodeSet(node.cpus)), memory \(node.memoryBytes) bytes (\(gibibytes) GiB)")
        }
        lines.append("distances:")
        let ids = host.topology.nodes.map(\.id)
        lines.append("      " + ids.map { String("\($0)".padding(toLength: 4, withPad: " ", startingAt: 0)) }.joined())
        for (row, id) in ids.enumerated() {
            lines.append("  \("\(id)".padding(toLength: 4, withPad: " ", startingAt: 0))"
                + host.topology.distances[row].map { "\($0)".padding(toLength: 4, withPad: " ", startingAt: 0) }.joined())
        }
        lines.append("hugepages:")
        for pool in host.hugepagePools {
            lines.append("  \(ByteCount(pool.pageBytes)): total \(pool.total), free \(pool.free), "
                + "reserved \(pool.reserved), surplus \(pool.surplus)")
        }
        let thp = host.transparentHugepages
        lines.append("transparent hugepages: \(thp.mode) (defrag \(thp.defrag), shmem \(thp.shmemMode))")
        return lines.joined(separator: "\n")
    }
}
