// Pure Swift: no Glibc here.

/// A virtual NUMA node of a guest: its vCPUs, its memory and the host node
/// that backs that memory.
public struct GuestNUMANode: Hashable, Sendable {
    /// The guest's number for the node.
    public var id: Int
    /// The vCPUs on the node.
    public var vcpus: [Int]
    /// The guest-physical memory of the node.
    public var memoryBytes: UInt64
    /// The host node whose memory backs it (and whose CPUs run its vCPUs).
    public var hostNode: Int

    public init(id: Int, vcpus: [Int], memoryBytes: UInt64, hostNode: Int) {
        self.id = id
        self.vcpus = vcpus
        self.memoryBytes = memoryBytes
        self.hostNode = hostNode
    }
}

/// A guest's NUMA topology mapped onto a host's. Guest-physical memory is
/// laid out node after node from address 0, in `nodes` order; the guest's
/// distance table is the host's between the backing nodes.
public struct GuestNUMATopology: Hashable, Sendable {
    public let host: NUMATopology
    public let nodes: [GuestNUMANode]

    /// Throws if a host node is missing, an id or vCPU repeats, or a node's
    /// memory is not a positive multiple of 4 KiB.
    public init(host: NUMATopology, nodes: [GuestNUMANode]) throws(NUMATopologyError) {
        guard !nodes.isEmpty else { throw .noNodes }
        var ids = Set<Int>(), vcpus = Set<Int>()
        for node in nodes {
            guard ids.insert(node.id).inserted else { throw .duplicateNode(node.id) }
            for vcpu in node.vcpus { guard vcpus.insert(vcpu).inserted else { throw .duplicateCPU(vcpu) } }
            guard host.index(of: node.hostNode) != nil else { throw .noSuchNode(node.hostNode, available: host.nodeIDs) }
            guard node.memoryBytes > 0, node.memoryBytes % 4096 == 0 else {
                throw .guestNode("node \(node.id) has \(node.memoryBytes) bytes, not a positive multiple of 4 KiB")
            }
        }
        self.host = host
        self.nodes = nodes
    }

    /// One guest node per host node, with vCPUs and memory split evenly
    /// (memory in 2 MiB units); the first nodes take any remainder.
    public static func mirroring(
        _ host: NUMATopology, vcpus: Int, memoryBytes: UInt64
    ) throws(NUMATopologyError) -> GuestNUMATopology {
        let count = host.nodes.count
        let unit: UInt64 = 2 << 20
        let units = memoryBytes / unit
        guard units >= UInt64(count) else {
            throw .guestNode("\(memoryBytes) bytes cannot give \(count) nodes 2 MiB each")
        }
        var nodes: [GuestNUMANode] = []
        var nextVCPU = 0
        for (index, hostNode) in host.nodes.enumerated() {
            let cpuCount = vcpus / count + (index < vcpus % count ? 1 : 0)
            let nodeUnits = units / UInt64(count) + (UInt64(index) < units % UInt64(count) ? 1 : 0)
            nodes.append(GuestNUMANode(id: index, vcpus: Array(nextVCPU..<nextVCPU + cpuCount),
                                       memoryBytes: nodeUnits * unit, hostNode: hostNode.id))
            nextVCPU += cpuCount
        }
        return try GuestNUMATopology(host: host, nodes: nodes)
    }

    /// The guest's SLIT: the host distance between the backing nodes.
    public var distances: [[Int]] {
        nodes.map { from in
            nodes.map { to in
                let i = host.index(of: from.hostNode) ?? 0, j = host.index(of: to.hostNode) ?? 0
                return host.distances[i][j]
            }
        }
    }

    /// The guest-physical range of guest node `id`.
    public func guestPhysicalRange(ofNode id: Int) throws(NUMATopologyError) -> Range<UInt64> {
        guard let i = nodes.firstIndex(where: { $0.id == id }) else {
            throw .noSuchNode(id, available: NodeSet(nodes.map(\.id)))
        }
        let start = nodes[..<i].reduce(UInt64(0)) { $0 + $1.memoryBytes }
        return start..<start + nodes[i].memoryBytes
    }

    /// The guest node holding guest-physical address `address`, if any.
    public func node(ofGuestPhysical address: UInt64) -> GuestNUMANode? {
        var start: UInt64 = 0
        for node in nodes {
            if address >= start && address - start < node.memoryBytes { return node }
            start += node.memoryBytes
        }
        return nil
    }

    /// The guest node of vCPU `vcpu`, if any.
    public func node(ofVCPU vcpu: Int) -> GuestNUMANode? { nodes.first { $0.vcpus.contains(vcpu) } }

    /// The total guest-physical memory.
    public var memoryBytes: UInt64 { nodes.reduce(0) { $0 + $1.memoryBytes } }
}
