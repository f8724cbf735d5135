// Pure Swift: no Glibc here, so models can use topologies on any platform.

/// One NUMA node: its CPUs and its memory.
public struct NUMANode: Hashable, Sendable {
    /// The node number, as the kernel numbers it.
    public var id: Int
    /// The CPUs on the node.
    public var cpus: [Int]
    /// The memory on the node.
    public var memoryBytes: UInt64

    public init(id: Int, cpus: [Int], memoryBytes: UInt64) {
        self.id = id
        self.cpus = cpus
        self.memoryBytes = memoryBytes
    }
}

/// Why a topology is malformed.
public enum NUMATopologyError: Error, Equatable, Sendable, CustomStringConvertible {
    case noNodes
    case duplicateNode(Int)
    case duplicateCPU(Int)
    case noSuchNode(Int, available: NodeSet)
    case distances(String)
    case guestNode(String)

    public var description: String {
        switch self {
        case .noNodes: "a topology needs at least one node"
        case let .duplicateNode(id): "node \(id) appears twice"
        case let .duplicateCPU(cpu): "CPU \(cpu) appears on two nodes"
        case let .noSuchNode(id, available): "node \(id) does not exist (nodes: \(available))"
        case let .distances(message): "bad distance table: \(message)"
        case let .guestNode(message): "bad guest node: \(message)"
        }
    }
}

/// A machine's NUMA nodes and the distances between them (the ACPI SLIT,
/// where the distance of a node to itself is 10 and larger is farther).
///
/// Physical memory is laid out node after node in `nodes` order, so that a
/// model can tell the node of a physical address (`node(ofPhysical:)`).
public struct NUMATopology: Hashable, Sendable {
    /// The nodes, in the order of the distance table's rows.
    public let nodes: [NUMANode]
    /// `distances[i][j]`: from `nodes[i]` to `nodes[j]`.
    public let distances: [[Int]]

    /// A topology; throws if ids or CPUs repeat or the table is not square
    /// with positive entries and the smallest value of each row on its diagonal.
    public init(nodes: [NUMANode], distances: [[Int]]) throws(NUMATopologyError) {
        guard !nodes.isEmpty else { throw .noNodes }
        var ids = Set<Int>(), cpus = Set<Int>()
        for node in nodes {
            guard ids.insert(node.id).inserted else { throw .duplicateNode(node.id) }
            for cpu in node.cpus { guard cpus.insert(cpu).inserted else { throw .duplicateCPU(cpu) } }
        }
        guard distances.count == nodes.count, distances.allSatisfy({ $0.count == nodes.count }) else {
            throw .distances("it must be \(nodes.count)×\(nodes.count)")
        }
        for (row, values) in distances.enumerated() {
            guard values.allSatisfy({ $0 > 0 }) else { throw .distances("row \(row) has a distance of zero or less") }
            guard values.min() == values[row] else { throw .distances("node \(nodes[row].id) is nearer to another node than to itself") }
        }
        self.nodes = nodes
        self.distances = distances
    }

    /// A machine with one node holding every CPU and all memory.
    public static func singleNode(cpus: [Int], memoryBytes: UInt64) -> NUMATopology {
        NUMATopology(checked: [NUMANode(id: 0, cpus: cpus, memoryBytes: memoryBytes)], distances: [[10]])
    }

    private init(checked nodes: [NUMANode], distances: [[Int]]) {
        self.nodes = nodes
        self.distances = distances
    }

    /// A machine of `nodeCount` identical nodes. Two nodes are 21 apart; four
    /// sit on a ring, neighbours 21 apart and opposite corners 31 (two hops);
    /// other counts are fully connected at 21.
    public static func synthetic(
        nodeCount: Int, cpusPerNode: Int = 4, memoryPerNode: UInt64 = 64 << 30
    ) throws(NUMATopologyError) -> NUMATopology {
        guard nodeCount > 0 else { throw .noNodes }
        let nodes = (0..<nodeCount).map {
            NUMANode(id: $0, cpus: Array($0 * cpusPerNode..<($0 + 1) * cpusPerNode), memoryBytes: memoryPerNode)
        }
        let distances = (0..<nodeCount).map { from in
            (0..<nodeCount).map { to -> Int in
                if from == to { return 10 }
                if nodeCount == 4 {
                    let hops = min((from - to + 4) % 4, (to - from + 4) % 4)
                    return hops == 1 ? 21 : 31
                }
                return 21
            }
        }
        return try NUMATopology(nodes: nodes, distances: distances)
    }

    /// The node ids.
    public var nodeIDs: NodeSet { NodeSet(nodes.map(\.id)) }

    /// The ids of nodes that have memory.
    public var memoryNodeIDs: NodeSet { NodeSet(nodes.filter { $0.memoryBytes > 0 }.map(\.id)) }

    /// The position of node `id` in `nodes`.
    public func index(of id: Int) -> Int? { nodes.firstIndex { $0.id == id } }

    /// The SLIT distance from node `from` to node `to`.
    public func distance(from: Int, to: Int) throws(NUMATopologyError) -> Int {
        guard let i = index(of: from) else { throw .noSuchNode(from, available: nodeIDs) }
        guard let j = index(of: to) else { throw .noSuchNode(to, available: nodeIDs) }
        return distances[i][j]
    }

    /// The node holding `cpu`, if any.
    public func node(ofCPU cpu: Int) -> Int? { nodes.first { $0.cpus.contains(cpu) }?.id }

    /// The node farthest from `id` (the first of equals), or `id` itself on
    /// a one-node machine.
    public func farthest(from id: Int) throws(NUMATopologyError) -> Int {
        guard let i = index(of: id) else { throw .noSuchNode(id, available: nodeIDs) }
        var best = i
        for j in distances[i].indices where distances[i][j] > distances[i][best] { best = j }
        return nodes[best].id
    }

    /// Throws for the first node of `set` the topology lacks.
    public func validate(_ set: NodeSet) throws(NUMATopologyError) {
        for node in set where index(of: node) == nil { throw .noSuchNode(node, available: nodeIDs) }
    }

    /// Node `id`'s physical address range: nodes follow one another from 0.
    public func physicalRange(ofNode id: Int) throws(NUMATopologyError) -> Range<UInt64> {
        guard let i = index(of: id) else { throw .noSuchNode(id, available: nodeIDs) }
        let start = nodes[..<i].reduce(UInt64(0)) { $0 + $1.memoryBytes }
        return start..<start + nodes[i].memoryBytes
    }

    /// The node holding physical address `address`, if any.
    public func node(ofPhysical address: UInt64) -> Int? {
        var start: UInt64 = 0
        for node in nodes {
            if address >= start && address - start < node.memoryBytes { return node.id }
            start += node.memoryBytes
        }
        return nil
    }
}
