import Glibc
import Testing
import Translation
@testable import GuestMemory

/// Guest RAM laid out by a guest NUMA topology, each virtual node bound to
/// its host node, with page tables carved from it.
@Suite(.serialized)
struct GuestRAMTests {
    static let host = HostMemoryEnvironment.probe()

    /// Two virtual nodes, both backed by host node 0 (this host has one node).
    static func guest() throws -> GuestNUMATopology {
        try GuestNUMATopology(host: host.topology, nodes: [
            GuestNUMANode(id: 0, vcpus: [0], memoryBytes: 4 << 20, hostNode: 0),
            GuestNUMANode(id: 1, vcpus: [1], memoryBytes: 6 << 20, hostNode: 0),
        ])
    }

    @Test("each virtual node's range is bound to its host node and placed there",
          .enabled(if: host.numa.syscallsAllowed, "needs the NUMA system calls"))
    func boundSegments() throws {
        let configuration = GuestMemoryRegion.Configuration.guestRAM(try Self.guest(), prefault: .touch(threads: 2))
        #expect(configuration.segments.map(\.range) == [0..<(4 << 20), (4 << 20)..<(10 << 20)])
        let region = try GuestMemoryRegion(configuration, host: Self.host)
        #expect(region.size == 10 << 20)
        for segment in configuration.segments {
            let policy = try NUMASystemCalls.policy(at: region.baseAddress + segment.offset + 4096)
            #expect(policy.mode == MemoryPolicy.Kind.bind.mode && policy.nodes == [0])
            let report = try region.verifyPlacement(of: segment.range)
            #expect(report.pages == segment.length / 4096)
            #expect(report.allPages(on: 0))
        }
    }

    @Test("page-table frames of a placement fall in the chosen virtual node's range of guest RAM")
    func pageTablesInRAM() throws {
        let guest = try Self.guest()
        let configuration = GuestMemoryRegion.Configuration.guestRAM(guest)
        for placement in [PageTablePlacement.vcpuNode, .node(0), .replicated] {
            let area = try PageTableArea(topology: guest, placement: placement, bytesPerNode: 1 << 20)
            var allocator = try area.allocator(forVCPU: 1)
            let allocated = allocator.allocate()
            let frame = Int(try #require(allocated))
            let node = placement == .node(0) ? 0 : 1
            #expect(configuration.segments[node].range.contains(frame))
            #expect(try area.range(ofGuestNode: node).upperBound == UInt64(configuration.segments[node].range.upperBound))
        }
    }

    @Test("a virtual node that is not a whole number of backing pages is refused")
    func misalignedSegment() throws {
        let guest = try GuestNUMATopology(host: Self.host.topology, nodes: [
            GuestNUMANode(id: 0, vcpus: [0], memoryBytes: 3 << 20, hostNode: 0),
            GuestNUMANode(id: 1, vcpus: [1], memoryBytes: 1 << 20, hostNode: 0),
        ])
        #expect(throws: GuestMemoryError.segmentOutOfRange(offset: 0, length: 3 << 20, size: 4 << 20, backing: .transparentHuge)) {
            _ = try GuestMemoryRegion(.guestRAM(guest, backing: .transparentHuge), host: Self.host)
        }
    }

    @Test("MAP_POPULATE cannot follow several policies")
    func mapPopulateSegments() throws {
        #expect(throws: GuestMemoryError.self) {
            _ = try GuestMemoryRegion(.guestRAM(try Self.guest(), prefault: .mapPopulate), host: Self.host)
        }
    }

    @Test("the touch plan covers segments and the gaps between them, each once")
    func touchPlan() {
        var configuration = GuestMemoryRegion.Configuration(size: 10 << 12, policy: .interleave([0, 1]))
        configuration.segments = [PolicySegment(offset: 6 << 12, length: 2 << 12, policy: .bind([1])),
                                  PolicySegment(offset: 2 << 12, length: 2 << 12, policy: .bind([0]))]
        let plan = GuestMemoryRegion.touchPlan(configuration)
        let pages = plan.map { [$0.range.lowerBound >> 12, $0.range.upperBound >> 12] }
        #expect(pages == [[0, 2], [2, 4], [4, 6], [6, 8], [8, 10]])
        #expect(plan.map(\.nodes) == [[0, 1], [0], [0, 1], [1], [0, 1]])
    }
}
