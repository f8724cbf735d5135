import ArgumentParser
import Foundation
import GuestMemory

/// `vmemlab numa check`: allocates a region, touches it, and reports where
/// its pages really are and how large they are.
public struct NUMACheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Allocate guest memory with a backing and a NUMA policy, touch it, and verify its placement.",
        discussion: """
            The node of every 4 KiB page comes from move_pages(2); the huge-page counters from /proc/self/smaps. \
            Without --prefault the region is mapped lazily and then touched page by page.
            """
    )

    @Option(help: "The backing: \(MemoryBacking.allValueStrings.joined(separator: ", ")).")
    var backing: MemoryBacking

    @Option(help: "The NUMA policy: \(MemoryPolicy.Kind.allValueStrings.joined(separator: ", ")).")
    var policy: MemoryPolicy.Kind

    @Option(help: "The policy's nodes, such as 0 or 0-1,3 (default: every node with memory; the first for preferred).")
    var nodes: NodeSet?

    @Option(help: "The region size, such as 64M or 2G; a multiple of the backing's page size.")
    var size: GuestMemory.ByteCount

    @Flag(help: "Prefault the region while making it, instead of touching it afterwards.")
    var prefault = false

    @Option(help: "Prefault with this many threads bound to the policy's nodes (default: MADV_POPULATE_WRITE after the policy is set).")
    var threads: Int?

    @Flag(help: "Prefault with MAP_POPULATE inside mmap, under the policy as the thread's policy (not for THP).")
    var mapPopulate = false

    @Flag(help: "Map the memory shared (MAP_SHARED) instead of private.")
    var shared = false

    @Flag(help: "Take hugetlb pages from a memfd_create(MFD_HUGETLB) file instead of MAP_HUGETLB.")
    var memfd = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    public init() {}

    public func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, not \(threads)") }
        if threads != nil && !prefault { throw ValidationError("--threads applies only with --prefault") }
        if mapPopulate && !prefault { throw ValidationError("--map-populate applies only with --prefault") }
        if mapPopulate && threads != nil { throw ValidationError("choose --map-populate or --threads, not both") }
        if memfd && !backing.isHugetlb { throw ValidationError("--memfd applies only to the 2M and 1G backings") }
    }

    /// The result of a check.
    public struct Report {
        public var configuration: GuestMemoryRegion.Configuration
        public var placement: PlacementReport
        public var host: HostMemoryEnvironment

        /// Whether every page is present and on a node of the policy
        /// (any node, for `local`).
        public var placedAsAsked: Bool {
            guard placement.placedPages == placement.pages else { return false }
            let allowed = configuration.policy.nodes
            return allowed.isEmpty || placement.pagesPerNode.keys.allSatisfy(allowed.contains)
        }

        /// The JSON object: `backing`, `policy`, `pages`, `pages_per_node`
        /// (node id as a string to a count), `huge_page_bytes` and more.
        public var object: [String: Any] {
            var perNode: [String: Int] = [:]
            for (node, count) in placement.pagesPerNode { perNode["\(node)"] = count }
            return [
                "backing": configuration.backing.name,
                "policy": configuration.policy.kind.rawValue,
                "nodes": configuration.policy.nodes.nodes,
                "size_bytes": configuration.size,
                "sharing": configuration.sharing.rawValue,
                "prefault": configuration.prefault.description,
                "touched_by": configuration.prefault == .lazy ? "the command, after mapping" : "the prefault",
                "pages": placement.pages,
                "base_page_bytes": placement.basePageBytes,
                "pages_per_node": perNode,
                "pages_not_present": placement.pagesNotPresent,
                "huge_page_bytes": placement.hugePageBytes,
                "huge_page_coverage": placement.hugePageCoverage,
                "transparent_huge_bytes": placement.transparentHugeBytes,
                "hugetlb_bytes": placement.hugetlbBytes,
                "kernel_page_bytes": placement.kernelPageBytes,
                "resident_bytes": placement.residentBytes,
                "thp_mode": host.transparentHugepages.mode,
                "placed_as_asked": placedAsAsked,
            ]
        }

        public var text: String {
            typealias Bytes = GuestMemory.ByteCount
            let perNode = placement.pagesPerNode.keys.sorted().map { "node \($0): \(placement.pagesPerNode[$0] ?? 0)" }
            let coverage = String(format: "%.1f", placement.hugePageCoverage * 100)
            return [
                "region: \(Bytes(configuration.size)) \(configuration.backing) \(configuration.sharing), "
                    + "policy \(configuration.policy), prefault \(configuration.prefault)",
                "pages (4K): \(placement.pages); by node: \(perNode.isEmpty ? "none" : perNode.joined(separator: ", ")); "
                    + "not present: \(placement.pagesNotPresent)",
                "huge pages: \(Bytes(placement.hugePageBytes)) (\(coverage)% of the region); "
                    + "kernel page size \(Bytes(placement.kernelPageBytes))",
                "placement: \(placedAsAsked ? "as asked" : "NOT as asked")",
            ].joined(separator: "\n")
        }
    }

    /// The region configuration the options describe on `host`.
    public func configuration(on host: HostMemoryEnvironment) throws -> GuestMemoryRegion.Configuration {
        let memoryNodes = host.topology.memoryNodeIDs
        let chosen: NodeSet
        if let nodes {
            try host.validate(nodes)
            chosen = nodes
        } else {
            switch policy {
            case .local: chosen = []
            case .preferred: chosen = memoryNodes.first.map { [$0] } ?? []
            case .bind, .interleave, .weightedInterleave: chosen = memoryNodes
            }
        }
        let prefault: Prefault = !prefault ? .lazy : mapPopulate ? .mapPopulate : threads.map { .touch(threads: $0) } ?? .populate
        return GuestMemoryRegion.Configuration(
            size: size.bytes, backing: backing, policy: try policy.policy(nodes: chosen), sharing: shared ? .shared : .private,
            prefault: prefault, hugetlbSource: memfd ? .memfd : .anonymous)
    }

    /// Makes, touches and verifies the region on `host`; it is unmapped on return.
    public func check(on host: HostMemoryEnvironment) throws -> Report {
        let configuration = try configuration(on: host)
        try host.numa.requireSyscalls()  // verification needs move_pages
        let region = try GuestMemoryRegion(configuration, host: host)
        if configuration.prefault == .lazy { try region.touch() }
        return Report(configuration: configuration, placement: try region.verifyPlacement(), host: host)
    }

    public func run() throws {
        let report = try check(on: .probe())
        if json {
            let data = try JSONSerialization.data(withJSONObject: report.object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.placedAsAsked { throw ExitCode(2) }
    }
}
