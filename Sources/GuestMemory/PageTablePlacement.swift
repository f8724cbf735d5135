// Pure Swift: no Glibc here.
import Translation

/// Where a guest's page-table pages live.
public enum PageTablePlacement: Hashable, Sendable, CustomStringConvertible {
    /// On the node of the vCPU that walks them (the Linux default when the
    /// process and its page tables start on the same node).
    case vcpuNode
    /// All on one chosen node, whichever vCPU walks them.
    case node(Int)
    /// A copy on every node; each vCPU walks the copy on its own node
    /// (Mitosis, ASPLOS 2020; vMitosis, ASPLOS 2021).
    case replicated

    /// The node of the copy that a walker on `walkerNode` reads.
    public func tableNode(forWalkerOn walkerNode: Int) -> Int {
        switch self {
        case .vcpuNode, .replicated: walkerNode
        case let .node(node): node
        }
    }

    /// The nodes that hold a copy, for walkers on `walkerNodes` of a machine
    /// whose nodes are `allNodes`.
    public func nodesHoldingTables(walkerNodes: NodeSet, allNodes: NodeSet) -> NodeSet {
        switch self {
        case .vcpuNode: walkerNodes
        case let .node(node): [node]
        case .replicated: allNodes
        }
    }

    public var description: String {
        switch self {
        case .vcpuNode: "vcpu-node"
        case let .node(node): "node \(node)"
        case .replicated: "replicated"
        }
    }
}

/// Page-table frames carved from guest RAM: the top `bytesPerNode` of each
/// guest node's guest-physical range is kept for page-table pages, so a
/// page table placed on a node really is in that node's memory (and hence
/// in the host node that backs it).
public struct PageTableArea: Hashable, Sendable {
    public let topology: GuestNUMATopology
    public let placement: PageTablePlacement
    public let bytesPerNode: UInt64

    /// Throws if `bytesPerNode` is not a positive multiple of 4 KiB that
    /// fits every node, or if the placement names a node the guest lacks.
    public init(topology: GuestNUMATopology, placement: PageTablePlacement, bytesPerNode: UInt64) throws(NUMATopologyError) {
        guard bytesPerNode > 0, bytesPerNode % 4096 == 0 else {
            throw .guestNode("a page-table area of \(bytesPerNode) bytes is not a positive multiple of 4 KiB")
        }
        for node in topology.nodes where node.memoryBytes < bytesPerNode {
            throw .guestNode("node \(node.id) has \(node.memoryBytes) bytes, less than its page-table area of \(bytesPerNode)")
        }
        if case let .node(id) = placement, !topology.nodes.contains(where: { $0.id == id }) {
            throw .noSuchNode(id, available: NodeSet(topology.nodes.map(\.id)))
        }
        self.topology = topology
        self.placement = placement
        self.bytesPerNode = bytesPerNode
    }

    /// The guest-physical range kept for page tables on guest node `id`.
    public func range(ofGuestNode id: Int) throws(NUMATopologyError) -> Range<UInt64> {
        let node = try topology.guestPhysicalRange(ofNode: id)
        return node.upperBound - bytesPerNode..<node.upperBound
    }

    /// The guest nodes that hold a copy of the tables.
    public var tableNodes: NodeSet {
        let all = NodeSet(topology.nodes.map(\.id))
        return placement.nodesHoldingTables(walkerNodes: all, allNodes: all)
    }

    /// A frame allocator for the tables that vCPU `vcpu` walks: its own
    /// node's area, the chosen node's, or its node's replica.
    public func allocator(forVCPU vcpu: Int) throws(NUMATopologyError) -> FrameAllocator {
        guard let node = topology.node(ofVCPU: vcpu) else {
            throw .guestNode("no guest node has vCPU \(vcpu)")
        }
        let area = try range(ofGuestNode: placement.tableNode(forWalkerOn: node.id))
        return FrameAllocator(base: area.lowerBound, size: area.upperBound - area.lowerBound)
    }

    /// One frame allocator per node holding a copy, keyed by guest node id.
    /// With `replicated`, build the same mappings once with each.
    public func allocators() throws(NUMATopologyError) -> [Int: FrameAllocator] {
        var result: [Int: FrameAllocator] = [:]
        for node in tableNodes {
            let area = try range(ofGuestNode: node)
            result[node] = FrameAllocator(base: area.lowerBound, size: area.upperBound - area.lowerBound)
        }
        return result
    }
}
