import Testing
import Translation
@testable import GuestMemory

/// Multi-node behaviour, on synthetic topologies.
struct NUMATopologyTests {
    @Test("synthetic topologies: SLIT, farthest node, physical layout", arguments: [2, 4])
    func synthetic(nodes: Int) throws {
        let topology = try NUMATopology.synthetic(nodeCount: nodes, cpusPerNode: 2, memoryPerNode: 1 << 30)
        #expect(topology.nodeIDs == NodeSet(0..<nodes))
        for node in 0..<nodes { #expect(try topology.distance(from: node, to: node) == 10) }
        #expect(try topology.distance(from: 0, to: 1) == 21)
        #expect(try topology.farthest(from: 0) == (nodes == 4 ? 2 : 1))
        #expect(try topology.physicalRange(ofNode: 1) == (1 << 30)..<(2 << 30))
        #expect(topology.node(ofPhysical: (1 << 30) + 5) == 1)
        #expect(topology.node(ofPhysical: UInt64(nodes) << 30) == nil)
        #expect(topology.node(ofCPU: 3) == 1)
        #expect(topology.distances == topology.distances.indices.map { i in topology.distances.indices.map { topology.distances[$0][i] } })
    }

    @Test("a four-node ring puts opposite corners two hops apart")
    func ring() throws {
        let topology = try NUMATopology.synthetic(nodeCount: 4)
        #expect(topology.distances[0] == [10, 21, 31, 21])
        #expect(topology.distances[1] == [21, 10, 21, 31])
    }

    @Test("malformed topologies are rejected with a reason")
    func malformed() {
        let a = NUMANode(id: 0, cpus: [0], memoryBytes: 1 << 30), b = NUMANode(id: 1, cpus: [1], memoryBytes: 1 << 30)
        #expect(throws: NUMATopologyError.noNodes) { try NUMATopology(nodes: [], distances: []) }
        #expect(throws: NUMATopologyError.duplicateNode(0)) { try NUMATopology(nodes: [a, a], distances: [[10, 20], [20, 10]]) }
        #expect(throws: NUMATopologyError.duplicateCPU(0)) {
            try NUMATopology(nodes: [a, NUMANode(id: 1, cpus: [0], memoryBytes: 0)], distances: [[10, 20], [20, 10]])
        }
        #expect(throws: NUMATopologyError.self) { try NUMATopology(nodes: [a, b], distances: [[10, 20]]) }
        #expect(throws: NUMATopologyError.self) { try NUMATopology(nodes: [a, b], distances: [[30, 20], [20, 10]]) }
        let two = try? NUMATopology(nodes: [a, b], distances: [[10, 20], [20, 10]])
        #expect(throws: NUMATopologyError.noSuchNode(7, available: [0, 1])) { try two?.validate([0, 7]) }
        #expect(throws: NUMATopologyError.noSuchNode(7, available: [0, 1])) { _ = try two?.distance(from: 7, to: 0) }
    }

    @Test("a guest topology mirrors the host: vCPUs, memory, distances, guest-physical ranges")
    func guestTopology() throws {
        let host = try NUMATopology.synthetic(nodeCount: 4)
        let guest = try GuestNUMATopology.mirroring(host, vcpus: 6, memoryBytes: 8 << 30)
        #expect(guest.nodes.map(\.vcpus) == [[0, 1], [2, 3], [4], [5]])
        #expect(guest.nodes.map(\.hostNode) == [0, 1, 2, 3])
        #expect(guest.memoryBytes == 8 << 30)
        #expect(guest.distances == host.distances)
        #expect(try guest.guestPhysicalRange(ofNode: 2) == (4 << 30)..<(6 << 30))
        #expect(guest.node(ofGuestPhysical: (6 << 30) + 1)?.id == 3)
        #expect(guest.node(ofVCPU: 4)?.hostNode == 2)
    }

    @Test("a guest topology on missing host nodes or with shared vCPUs is rejected")
    func badGuest() throws {
        let host = try NUMATopology.synthetic(nodeCount: 2)
        #expect(throws: NUMATopologyError.noSuchNode(5, available: [0, 1])) {
            try GuestNUMATopology(host: host, nodes: [GuestNUMANode(id: 0, vcpus: [0], memoryBytes: 1 << 30, hostNode: 5)])
        }
        #expect(throws: NUMATopologyError.duplicateCPU(0)) {
            try GuestNUMATopology(host: host, nodes: [GuestNUMANode(id: 0, vcpus: [0], memoryBytes: 1 << 30, hostNode: 0),
                                                      GuestNUMANode(id: 1, vcpus: [0], memoryBytes: 1 << 30, hostNode: 1)])
        }
        #expect(throws: NUMATopologyError.self) {
            try GuestNUMATopology(host: host, nodes: [GuestNUMANode(id: 0, vcpus: [0], memoryBytes: 100, hostNode: 0)])
        }
    }

    @Test("page-table frames land on the placement's node",
          arguments: [PageTablePlacement.vcpuNode, .node(3), .replicated])
    func pageTableArea(placement: PageTablePlacement) throws {
        let guest = try GuestNUMATopology.mirroring(try .synthetic(nodeCount: 4), vcpus: 4, memoryBytes: 4 << 30)
        let area = try PageTableArea(topology: guest, placement: placement, bytesPerNode: 16 << 20)
        for vcpu in 0..<4 {
            var allocator = try area.allocator(forVCPU: vcpu)
            let allocated = allocator.allocate()
            let frame = try #require(allocated)
            let expected = placement == .node(3) ? 3 : vcpu
            #expect(guest.node(ofGuestPhysical: frame)?.id == expected)
            #expect(try area.range(ofGuestNode: expected).contains(frame))
        }
        let holders = try area.allocators()
        switch placement {
        case .node: #expect(Array(holders.keys) == [3])
        case .vcpuNode, .replicated: #expect(holders.keys.sorted() == [0, 1, 2, 3])
        }
        #expect(placement.tableNode(forWalkerOn: 1) == (placement == .node(3) ? 3 : 1))
    }

    @Test("a page-table area that does not fit or names a missing node is rejected")
    func badArea() throws {
        let guest = try GuestNUMATopology.mirroring(try .synthetic(nodeCount: 2), vcpus: 2, memoryBytes: 64 << 20)
        #expect(throws: NUMATopologyError.self) { try PageTableArea(topology: guest, placement: .vcpuNode, bytesPerNode: 64 << 20) }
        #expect(throws: NUMATopologyError.self) { try PageTableArea(topology: guest, placement: .vcpuNode, bytesPerNode: 100) }
        #expect(throws: NUMATopologyError.noSuchNode(9, available: [0, 1])) {
            try PageTableArea(topology: guest, placement: .node(9), bytesPerNode: 1 << 20)
        }
    }
}
