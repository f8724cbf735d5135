/// A NUMA memory policy: which nodes a region's pages come from.
public enum MemoryPolicy: Hashable, Sendable, CustomStringConvertible {
    /// Pages come from the node of the CPU that first touches them
    /// (`MPOL_LOCAL`; first touch).
    case local
    /// Pages come only from these nodes (`MPOL_BIND`).
    case bind(NodeSet)
    /// Pages are spread round-robin over these nodes (`MPOL_INTERLEAVE`).
    case interleave(NodeSet)
    /// Pages are spread over these nodes in proportion to the weights in
    /// `/sys/kernel/mm/mempolicy/weighted_interleave` (`MPOL_WEIGHTED_INTERLEAVE`,
    /// Linux 6.9 and later).
    case weightedInterleave(NodeSet)
    /// Pages come from this node while it has memory, then from others
    /// (`MPOL_PREFERRED`).
    case preferred(Int)

    /// The policy's kind, without its nodes.
    public var kind: Kind {
        switch self {
        case .local: .local
        case .bind: .bind
        case .interleave: .interleave
        case .weightedInterleave: .weightedInterleave
        case .preferred: .preferred
        }
    }

    /// The nodes the policy names (none for `local`).
    public var nodes: NodeSet {
        switch self {
        case .local: []
        case let .bind(nodes), let .interleave(nodes), let .weightedInterleave(nodes): nodes
        case let .preferred(node): [node]
        }
    }

    /// The kernel's mode number, `MPOL_*` from `linux/mempolicy.h`.
    public var mode: Int32 { kind.mode }

    public var description: String {
        self == .local ? kind.rawValue : "\(kind.rawValue) \(nodes)"
    }

    /// The kinds of policy, as named on the command line.
    public enum Kind: String, CaseIterable, Sendable, Hashable {
        case bind, interleave
        case weightedInterleave = "weighted-interleave"
        case preferred, local

        /// The kernel's mode number, `MPOL_*` from `linux/mempolicy.h`.
        public var mode: Int32 {
            switch self {
            case .preferred: 1
            case .bind: 2
            case .interleave: 3
            case .local: 4
            case .weightedInterleave: 6
            }
        }

        /// The policy of this kind over `nodes`. `local` takes no nodes and
        /// `preferred` exactly one; the others at least one.
        public func policy(nodes: NodeSet) throws(GuestMemoryError) -> MemoryPolicy {
            switch self {
            case .local:
                guard nodes.isEmpty else { throw .policyNodeCount(policy: rawValue, given: nodes, expected: "no nodes") }
                return .local
            case .preferred:
                guard nodes.count == 1, let node = nodes.first else {
                    throw .policyNodeCount(policy: rawValue, given: nodes, expected: "exactly one node")
                }
                return .preferred(node)
            case .bind, .interleave, .weightedInterleave:
                guard !nodes.isEmpty else { throw .policyNodeCount(policy: rawValue, given: nodes, expected: "at least one node") }
                return self == .bind ? .bind(nodes) : self == .interleave ? .interleave(nodes) : .weightedInterleave(nodes)
            }
        }
    }
}
