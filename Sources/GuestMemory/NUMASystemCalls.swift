import CNUMA
import Glibc

/// The NUMA system calls, through libnuma's wrappers in `numaif.h`.
enum NUMASystemCalls {
    /// Words in a node mask: enough for every node the kernel could have.
    static let maskWords = max(1, (Int(numa_max_possible_node()) + UInt.bitWidth) / UInt.bitWidth)

    /// The `maxnode` argument for a mask of `maskWords` words. The kernel
    /// reads one bit fewer than it is told, so it is told one more.
    static var maxNode: UInt { UInt(maskWords * UInt.bitWidth + 1) }

    /// Sets the policy of `[base, base + length)`.
    /// The corresponding C function is `mbind`.
    static func bind(_ base: UnsafeMutableRawPointer, length: Int, policy: MemoryPolicy) throws(SystemCallError) {
        let mask = policy.nodes.mask(words: maskWords)
        _ = try mask.withUnsafeBufferPointer { words throws(SystemCallError) in
            try systemCall("mbind") {
                policy == .local ? mbind(base, UInt(length), policy.mode, nil, 0, 0)
                    : mbind(base, UInt(length), policy.mode, words.baseAddress, maxNode, 0)
            }
        }
    }

    /// Sets the calling thread's policy, which decides where its future
    /// allocations outside any `mbind` range go.
    /// The corresponding C function is `set_mempolicy`.
    static func setThreadPolicy(mode: Int32, nodes: NodeSet) throws(SystemCallError) {
        let mask = nodes.mask(words: maskWords)
        _ = try mask.withUnsafeBufferPointer { words throws(SystemCallError) in
            try systemCall("set_mempolicy") {
                nodes.isEmpty ? set_mempolicy(mode, nil, 0) : set_mempolicy(mode, words.baseAddress, maxNode)
            }
        }
    }

    /// The calling thread's policy mode and nodes.
    /// The corresponding C function is `get_mempolicy`.
    static func threadPolicy() throws(SystemCallError) -> (mode: Int32, nodes: NodeSet) {
        var mode: Int32 = 0
        var mask = [UInt](repeating: 0, count: maskWords)
        _ = try mask.withUnsafeMutableBufferPointer { words throws(SystemCallError) in
            try systemCall("get_mempolicy") { get_mempolicy(&mode, words.baseAddress, maxNode - 1, nil, 0) }
        }
        return (mode, nodes(in: mask))
    }

    /// The node of the page holding `address`, faulting it in if absent.
    /// The corresponding C function is `get_mempolicy` with `MPOL_F_NODE|MPOL_F_ADDR`.
    static func node(of address: UnsafeRawPointer) throws(SystemCallError) -> Int {
        var node: Int32 = -1
        _ = try systemCall("get_mempolicy") {
            get_mempolicy(&node, nil, 0, UnsafeMutableRawPointer(mutating: address), UInt32(MPOL_F_NODE | MPOL_F_ADDR))
        }
        return Int(node)
    }

    /// The policy mode and nodes of the mapping holding `address`.
    /// The corresponding C function is `get_mempolicy` with `MPOL_F_ADDR`.
    static func policy(at address: UnsafeRawPointer) throws(SystemCallError) -> (mode: Int32, nodes: NodeSet) {
        var mode: Int32 = 0
        var mask = [UInt](repeating: 0, count: maskWords)
        _ = try mask.withUnsafeMutableBufferPointer { words throws(SystemCallError) in
            try systemCall("get_mempolicy") {
                get_mempolicy(&mode, words.baseAddress, maxNode - 1, UnsafeMutableRawPointer(mutating: address), UInt32(MPOL_F_ADDR))
            }
        }
        return (mode, nodes(in: mask))
    }

    /// The node of each page in `pages` (or a negative errno per page, such
    /// as `-ENOENT` for a page not present), without moving any.
    /// The corresponding C function is `move_pages` with null nodes.
    static func nodes(of pages: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>,
                      status: UnsafeMutableBufferPointer<Int32>) throws(SystemCallError) {
        _ = try systemCall("move_pages") {
            move_pages(0, UInt(pages.count), pages.baseAddress, nil, status.baseAddress, 0)
        }
    }

    private static func nodes(in mask: [UInt]) -> NodeSet {
        var nodes: [Int] = []
        for (word, bits) in mask.enumerated() where bits != 0 {
            for bit in 0..<UInt.bitWidth where bits & (1 << UInt(bit)) != 0 { nodes.append(word * UInt.bitWidth + bit) }
        }
        return NodeSet(nodes)
    }
}

extension MemoryPolicy {
    /// Makes this the calling thread's policy, for the allocations the
    /// kernel makes on its behalf outside any region (a vCPU thread's
    /// shadow page tables, for instance). `local` restores the default.
    /// The corresponding C function is `set_mempolicy`.
    public func applyToCurrentThread() throws(GuestMemoryError) {
        do {
            try NUMASystemCalls.setThreadPolicy(mode: self == .local ? 0 : mode, nodes: nodes)
        } catch {
            throw .system(error)
        }
    }

    /// The calling thread's policy mode (`MPOL_*`; 0 is the default, local
    /// allocation) and its nodes.
    /// The corresponding C function is `get_mempolicy`.
    public static func currentThreadPolicy() throws(GuestMemoryError) -> (mode: Int32, nodes: NodeSet) {
        do {
            return try NUMASystemCalls.threadPolicy()
        } catch {
            throw .system(error)
        }
    }
}
