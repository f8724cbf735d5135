/// One hugetlbfs pool: the pages of one size reserved in the kernel,
/// machine-wide or on one node (`/sys/kernel/mm/hugepages/hugepages-<N>kB`,
/// or the same under `/sys/devices/system/node/node<N>/hugepages`).
public struct HugepagePool: Hashable, Sendable {
    /// The page size.
    public var pageBytes: Int
    /// The node, or nil for the machine-wide pool.
    public var node: Int?
    /// Pages in the pool (`nr_hugepages`).
    public var total: Int
    /// Pages not mapped by anyone (`free_hugepages`), including reserved ones.
    public var free: Int
    /// Free pages promised to mappings that have not faulted them yet
    /// (`resv_hugepages`; machine-wide pools only).
    public var reserved: Int
    /// Pages beyond `total` from overcommit (`surplus_hugepages`).
    public var surplus: Int

    public init(pageBytes: Int, node: Int? = nil, total: Int, free: Int, reserved: Int = 0, surplus: Int = 0) {
        self.pageBytes = pageBytes
        self.node = node
        self.total = total
        self.free = free
        self.reserved = reserved
        self.surplus = surplus
    }

    /// Free pages that a new mapping can still reserve.
    public var available: Int { max(0, free - reserved) }

    /// The sysfs directory of the pool of `pageBytes` pages, on `node` or machine-wide.
    public static func poolDirectory(pageBytes: Int, node: Int? = nil) -> String {
        let base = node.map { "/sys/devices/system/node/node\($0)/hugepages" } ?? "/sys/kernel/mm/hugepages"
        return "\(base)/hugepages-\(pageBytes / 1024)kB"
    }

    /// The sysfs directory of this pool.
    public var directory: String { HugepagePool.poolDirectory(pageBytes: pageBytes, node: node) }

    /// The pools of every page size the kernel has, machine-wide or on `node`.
    public static func probe(node: Int? = nil) -> [HugepagePool] {
        let base = node.map { "/sys/devices/system/node/node\($0)/hugepages" } ?? "/sys/kernel/mm/hugepages"
        return SystemFiles.directory(base).compactMap { name -> HugepagePool? in
            guard name.hasPrefix("hugepages-"), name.hasSuffix("kB"),
                  let kilobytes = Int(name.dropFirst("hugepages-".count).dropLast(2))
            else { return nil }
            return probe(pageBytes: kilobytes * 1024, node: node)
        }.sorted { $0.pageBytes < $1.pageBytes }
    }

    /// The pool of `pageBytes` pages, or nil if the kernel has none.
    public static func probe(pageBytes: Int, node: Int? = nil) -> HugepagePool? {
        let directory = poolDirectory(pageBytes: pageBytes, node: node)
        guard let total = SystemFiles.integer("\(directory)/nr_hugepages"),
              let free = SystemFiles.integer("\(directory)/free_hugepages")
        else { return nil }
        return HugepagePool(pageBytes: pageBytes, node: node, total: total, free: free,
                            reserved: SystemFiles.integer("\(directory)/resv_hugepages") ?? 0,
                            surplus: SystemFiles.integer("\(directory)/surplus_hugepages") ?? 0)
    }
}
