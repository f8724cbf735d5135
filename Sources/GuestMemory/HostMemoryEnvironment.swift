import CNUMA
import Glibc

/// The transparent-huge-page settings (`/sys/kernel/mm/transparent_hugepage`).
public struct TransparentHugepageSettings: Hashable, Sendable {
    /// `always`, `madvise` or `never`: the selected word of `enabled`.
    public var mode: String
    /// The selected word of `defrag`.
    public var defrag: String
    /// The selected word of `shmem_enabled` (THP for shared memory).
    public var shmemMode: String

    public init(mode: String, defrag: String, shmemMode: String) {
        self.mode = mode
        self.defrag = defrag
        self.shmemMode = shmemMode
    }

    /// The word in brackets in a sysfs choice list such as
    /// `always [madvise] never`, or the whole text if none is bracketed.
    public static func selected(in text: String) -> String {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else {
            return text.trimmingWhitespace
        }
        return String(text[text.index(after: open)..<close])
    }

    /// Reads the settings; a missing file reads as `unsupported`.
    public static func probe() -> TransparentHugepageSettings {
        func read(_ name: String) -> String {
            SystemFiles.value("/sys/kernel/mm/transparent_hugepage/\(name)").map(selected(in:)) ?? "unsupported"
        }
        return TransparentHugepageSettings(mode: read("enabled"), defrag: read("defrag"), shmemMode: read("shmem_enabled"))
    }
}

/// What the host offers guest memory: NUMA nodes and distances, hugetlbfs
/// pools, transparent huge pages, and whether the NUMA calls work.
public struct HostMemoryEnvironment: Sendable {
    /// Whether the NUMA system calls may be used.
    public var numa: NUMASupport
    /// The online nodes with their CPUs and memory, and the SLIT distances.
    public var topology: NUMATopology
    /// The machine-wide hugetlbfs pools, by increasing page size.
    public var hugepagePools: [HugepagePool]
    /// The transparent-huge-page settings.
    public var transparentHugepages: TransparentHugepageSettings
    /// The base page size (`sysconf(_SC_PAGESIZE)`).
    public var basePageBytes: Int

    public init(numa: NUMASupport, topology: NUMATopology, hugepagePools: [HugepagePool],
                transparentHugepages: TransparentHugepageSettings, basePageBytes: Int = 4096) {
        self.numa = numa
        self.topology = topology
        self.hugepagePools = hugepagePools
        self.transparentHugepages = transparentHugepages
        self.basePageBytes = basePageBytes
    }

    /// Probes this host. Nodes come from `/sys/devices/system/node/online`;
    /// CPUs, memory and distances from libnuma (`numa_node_to_cpus`,
    /// `numa_node_size64`, `numa_distance`), which read sysfs and so work
    /// even where the NUMA system calls are denied.
    public static func probe() -> HostMemoryEnvironment {
        let online = SystemFiles.value("/sys/devices/system/node/online").flatMap { try? NodeSet(parsing: $0) } ?? [0]
        let ids = online.isEmpty ? [0] : online.nodes
        let cpuMask = numa_allocate_cpumask()
        defer { if let cpuMask { numa_bitmask_free(cpuMask) } }
        let cpuCount = Int(sysconf(Int32(_SC_NPROCESSORS_CONF)))
        let nodes = ids.map { id -> NUMANode in
            var cpus: [Int] = []
            if let cpuMask, numa_node_to_cpus(Int32(id), cpuMask) == 0 {
                cpus = (0..<max(cpuCount, 1)).filter { numa_bitmask_isbitset(cpuMask, UInt32($0)) != 0 }
            }
            var free: Int64 = 0
            let size = numa_node_size64(Int32(id), &free)
            return NUMANode(id: id, cpus: cpus, memoryBytes: size > 0 ? UInt64(size) : 0)
        }
        let distances = ids.map { from in
            ids.map { to -> Int in
                let distance = Int(numa_distance(Int32(from), Int32(to)))
                return distance > 0 ? distance : (from == to ? 10 : 20)
            }
        }
        let topology = (try? NUMATopology(nodes: nodes, distances: distances))
            ?? .singleNode(cpus: Array(0..<max(cpuCount, 1)), memoryBytes: nodes.reduce(0) { $0 + $1.memoryBytes })
        return HostMemoryEnvironment(numa: .probe(), topology: topology, hugepagePools: HugepagePool.probe(),
                               transparentHugepages: .probe(), basePageBytes: Int(sysconf(Int32(_SC_PAGESIZE))))
    }

    /// The machine-wide pool of `pageBytes` pages, if the kernel has one.
    public func pool(pageBytes: Int) -> HugepagePool? { hugepagePools.first { $0.pageBytes == pageBytes } }

    /// Throws unless every node of `nodes` exists and has memory.
    public func validate(_ nodes: NodeSet) throws(GuestMemoryError) {
        let available = topology.memoryNodeIDs
        for node in nodes where !available.contains(node) { throw .noSuchNode(node, available: available) }
    }

    /// Throws unless `policy` can be applied here: its nodes exist, the NUMA
    /// calls are allowed (except for `local`, which needs none), and the
    /// kernel has the policy.
    public func validate(_ policy: MemoryPolicy) throws(GuestMemoryError) {
        try validate(policy.nodes)
        if policy != .local { try numa.requireSyscalls() }
        if policy.kind == .weightedInterleave && !numa.weightedInterleave {
            throw .policyUnsupported(.weightedInterleave, reason: "the kernel predates Linux 6.9 (no /sys/kernel/mm/mempolicy/weighted_interleave)")
        }
    }
}
