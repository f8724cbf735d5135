/// Why a guest memory region could not be made, placed or verified.
public enum GuestMemoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed.
    case system(SystemCallError)
    /// The region has no bytes.
    case zeroSize
    /// The size is not a whole number of the backing's pages.
    case sizeNotMultiple(size: Int, backing: MemoryBacking)
    /// A policy names a node the host does not have (or that has no memory).
    case noSuchNode(Int, available: NodeSet)
    /// A policy was given the wrong number of nodes.
    case policyNodeCount(policy: String, given: NodeSet, expected: String)
    /// The NUMA system calls are denied or absent; the reason says which.
    case numaUnavailable(reason: String)
    /// The kernel lacks the policy (weighted interleave before Linux 6.9).
    case policyUnsupported(MemoryPolicy.Kind, reason: String)
    /// The kernel has no hugetlbfs pool of this page size.
    case hugepageSizeUnsupported(pageBytes: Int)
    /// The hugetlbfs pool has too few free pages for the region.
    case hugepagesNotReserved(pageBytes: Int, needed: Int, available: Int, total: Int, node: Int?)
    /// A policy segment is empty, outside the region, or not on page boundaries.
    case segmentOutOfRange(offset: Int, length: Int, size: Int, backing: MemoryBacking)
    /// The prefault cannot work with the backing.
    case prefaultUnsupported(Prefault, MemoryBacking, reason: String)
    /// A prefault thread count below one.
    case invalidThreadCount(Int)

    public var description: String {
        switch self {
        case let .system(error):
            return error.description
        case .zeroSize:
            return "a guest memory region needs a size above zero"
        case let .sizeNotMultiple(size, backing):
            return "size \(ByteCount(size)) is not a multiple of the \(backing) backing's page size "
                + "\(ByteCount(backing.pageBytes)); round it to \(ByteCount((size / backing.pageBytes + 1) * backing.pageBytes))"
        case let .noSuchNode(node, available):
            return "NUMA node \(node) does not exist on this host (nodes with memory: \(available.isEmpty ? "none" : available.description))"
        case let .policyNodeCount(policy, given, expected):
            return "policy \(policy) takes \(expected), but was given \(given.isEmpty ? "none" : "nodes \(given)")"
        case let .numaUnavailable(reason):
            return "NUMA system calls are unavailable: \(reason)"
        case let .policyUnsupported(kind, reason):
            return "policy \(kind.rawValue) is not supported here: \(reason)"
        case let .hugepageSizeUnsupported(pageBytes):
            return "this kernel has no hugetlbfs pool of \(ByteCount(pageBytes)) pages "
                + "(/sys/kernel/mm/hugepages/hugepages-\(pageBytes / 1024)kB is missing)"
        case let .hugepagesNotReserved(pageBytes, needed, available, total, node):
            let pool = HugepagePool.poolDirectory(pageBytes: pageBytes, node: node)
            let place = node.map { " on node \($0)" } ?? ""
            return "the region needs \(needed) free \(ByteCount(pageBytes)) hugepages\(place) but only \(available) "
                + "of \(total) are free; reserve them as root with: echo \(total + needed - available) > \(pool)/nr_hugepages"
        case let .segmentOutOfRange(offset, length, size, backing):
            return "a policy segment of \(ByteCount(length)) at offset \(ByteCount(offset)) does not fit a \(ByteCount(size)) region "
                + "on \(ByteCount(backing.pageBytes)) boundaries (the \(backing) backing's page size)"
        case let .prefaultUnsupported(prefault, backing, reason):
            return "prefault \(prefault) does not work with the \(backing) backing: \(reason)"
        case let .invalidThreadCount(count):
            return "prefault needs at least one thread, not \(count)"
        }
    }
}
