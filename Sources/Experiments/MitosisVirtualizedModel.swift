import GuestMemory
import TLB
import Translation

/// GUPS in a virtual machine on a NUMA host, priced from real 2D walks: the
/// vMitosis setting (Panwar et al., ASPLOS 2021), a "thin" VM whose vCPU and
/// data sit on the first host node while its guest page tables and its
/// extended page tables (EPT) may sit elsewhere.
///
/// Every TLB miss is a real nested walk (Translation's `NestedWalker`) over
/// guest tables built in guest-physical memory and EPT tables built in host
/// memory. `NUMAWalkCostObserver` prices each of its references, guest and
/// nested alike, by the host node of the page it reads. A replicated
/// dimension has one copy per host node, and the walker reads the copy on
/// the vCPU's node. The TLB and the page-table line cache are those of
/// `MitosisGUPSModel`, with `Parameters` shared.
public enum MitosisVirtualizedModel {
    /// Where one dimension's page tables are.
    public enum TablePlacement: String, Sendable, Hashable {
        case local, remote, replicated

        /// The placement, with `remote` standing for the remote node.
        public func placement(remote: Int) -> PageTablePlacement {
            switch self {
            case .local: .vcpuNode
            case .remote: .node(remote)
            case .replicated: .replicated
            }
        }
    }

    /// The configurations of vMitosis's thin-VM figure with local data.
    public enum Configuration: String, CaseIterable, Sendable {
        /// Guest tables and EPT local.
        case localLocal = "LL"
        /// Both remote.
        case remoteRemote = "RR"
        /// Both remote, with interference on the remote node.
        case remoteRemoteInterference = "RRI"
        /// As RRI, with the EPT replicated.
        case replicatedEPT = "RRIE"
        /// As RRI, with the guest page tables replicated.
        case replicatedGuest = "RRIG"
        /// As RRI, with both replicated.
        case replicatedBoth = "RRIM"

        /// The guest tables' placement.
        public var guestTables: TablePlacement {
            switch self {
            case .localLocal: .local
            case .remoteRemote, .remoteRemoteInterference, .replicatedEPT: .remote
            case .replicatedGuest, .replicatedBoth: .replicated
            }
        }

        /// The EPT's placement.
        public var extendedTables: TablePlacement {
            switch self {
            case .localLocal: .local
            case .remoteRemote, .remoteRemoteInterference, .replicatedGuest: .remote
            case .replicatedEPT, .replicatedBoth: .replicated
            }
        }

        /// Whether the remote node has interference.
        public var interference: Bool { self != .localLocal && self != .remoteRemote }

        /// The name in vMitosis's data, with a `T` prefix for 2M pages.
        public func label(_ pageSize: PageSize) -> String { (pageSize == .size4K ? "" : "T") + rawValue }
    }

    /// What one run counted and cost.
    public struct Result: Hashable, Sendable {
        public var guestTableNode: Int
        public var extendedTableNode: Int
        public var interferenceNode: Int?
        public var updates: Int
        public var tlbMisses: Int
        public var walkReferences: Int
        public var walkCacheHits: Int
        public var walkLocalMemoryReferences: Int
        public var walkRemoteMemoryReferences: Int
        public var walkCycles: Double
        public var nonWalkCycles: Double
        public var runtimeCycles: Double { walkCycles + nonWalkCycles }
    }

    /// Guest-physical layout: data from 1 GiB; guest-table frames of the copy
    /// for host node n at 64 GiB + n × 256 MiB.
    static let dataGuestPhysical: UInt64 = 1 << 30
    static let guestTableGuestPhysical: UInt64 = 64 << 30
    static let tableAreaBytes: UInt64 = 256 << 20

    /// Runs GUPS in a VM on `topology` with `pageSize` pages in both
    /// dimensions and the tables placed as `configuration` says.
    public static func run(
        topology: NUMATopology, pageSize: PageSize, configuration: Configuration,
        parameters: MitosisGUPSModel.Parameters = MitosisGUPSModel.Parameters()
    ) throws -> Result {
        let cpuNode = topology.nodes[0].id
        let remoteNode = try topology.farthest(from: cpuNode)
        let guestPlacement = configuration.guestTables.placement(remote: remoteNode)
        let eptPlacement = configuration.extendedTables.placement(remote: remoteNode)
        let interferenceNode = configuration.interference ? remoteNode : nil
        var model = NUMACostModel(topology: topology, localLatencyCycles: parameters.localLatencyCycles,
                                  cacheHitCycles: parameters.cacheHitCycles)
        if let interferenceNode { model.interference[interferenceNode] = parameters.interferenceFactor }
        let latencies = try model.table()

        // Host layout: data from 1 GiB into the vCPU's node; at the top of
        // every node, an area for guest-table frames, then one for EPT frames.
        let dataHost = try topology.physicalRange(ofNode: cpuNode).lowerBound + (1 << 30)
        func guestTableHost(_ node: Int) throws -> UInt64 { try topology.physicalRange(ofNode: node).upperBound - 2 * tableAreaBytes }
        func eptHost(_ node: Int) throws -> UInt64 { try topology.physicalRange(ofNode: node).upperBound - tableAreaBytes }
        guard dataHost + parameters.tableBytes <= (try guestTableHost(cpuNode)), parameters.tableBytes % pageSize.bytes == 0 else {
            throw ReproductionError.modelFailed("a \(parameters.tableBytes)-byte GUPS table of \(pageSize) pages does not fit node \(cpuNode)")
        }

        var random = GUPSRandom(seed: parameters.seed)
        let total = parameters.warmupUpdates + parameters.updates
        let words = parameters.tableBytes / 8
        let offsets = (0..<total).map { _ in (random.next() % words) &* 8 }
        let pages = Set(offsets.map { $0 >> pageSize.shift }).sorted()

        let allNodes = topology.nodeIDs
        var host = SparsePhysicalMemory(initialFrames: 8192)
        let leaf = PageTableEntry.Flags([.present, .writable, .user]).rawValue

        // The guest's tables: one copy per holder node, each in its own
        // guest-physical area backed by that host node.
        var windows = [VMGuestPhysicalWindow(guestPhysical: dataGuestPhysical, bytes: parameters.tableBytes, hostPhysical: dataHost)]
        let guestHolders = guestPlacement.nodesHoldingTables(walkerNodes: [cpuNode], allNodes: allNodes)
        for node in guestHolders {
            windows.append(VMGuestPhysicalWindow(guestPhysical: guestTableGuestPhysical + UInt64(node) * tableAreaBytes,
                                               bytes: tableAreaBytes, hostPhysical: try guestTableHost(node)))
        }
        var guestView = VMGuestPhysicalMemory(host: host, windows: windows)
        var guestRoots: [Int: UInt64] = [:]
        var guestTableFrames: [(guestPhysical: UInt64, end: UInt64)] = []
        for node in guestHolders {
            let base = guestTableGuestPhysical + UInt64(node) * tableAreaBytes
            var builder = try PageTableBuilder(format: .x86, mode: .fourLevel,
                                               allocator: FrameAllocator(base: base, size: tableAreaBytes), memory: &guestView)
            for page in pages {
                try builder.map(virtual: MitosisGUPSModel.virtualBase + page << pageSize.shift,
                                physical: dataGuestPhysical + page << pageSize.shift, size: pageSize, leafBits: leaf,
                                memory: &guestView)
            }
            guestRoots[node] = builder.root
            guestTableFrames.append((base, builder.allocator.next))
        }

        // The EPT: one copy per holder node, each mapping the data pages and
        // every guest-table frame of every guest copy.
        let eptLeaf = EPTEntry.Flags.rwx.rawValue | UInt64(EPTEntry.MemoryType.writeBack.rawValue) << 3
        var eptRoots: [Int: UInt64] = [:]
        for node in eptPlacement.nodesHoldingTables(walkerNodes: [cpuNode], allNodes: allNodes) {
            var ept = try PageTableBuilder(format: .ept, mode: .fourLevel,
                                           allocator: FrameAllocator(base: try eptHost(node), size: tableAreaBytes), memory: &host)
            for page in pages {
                try ept.map(virtual: dataGuestPhysical + page << pageSize.shift, physical: dataHost + page << pageSize.shift,
                            size: pageSize, leafBits: eptLeaf, memory: &host)
            }
            for frames in guestTableFrames {
                let count = (frames.end - frames.guestPhysical + pageSize.offsetMask) >> pageSize.shift
                guard let backing = windows.first(where: { $0.guestPhysical == frames.guestPhysical }) else { continue }
                try ept.map(virtual: frames.guestPhysical, physical: backing.hostPhysical, size: pageSize, count: count,
                            leafBits: eptLeaf, memory: &host)
            }
            eptRoots[node] = ept.root
        }

        let guestNode = guestPlacement.tableNode(forWalkerOn: cpuNode), eptNode = eptPlacement.tableNode(forWalkerOn: cpuNode)
        guard let guestRoot = guestRoots[guestNode], let eptRoot = eptRoots[eptNode], let cpu = topology.index(of: cpuNode) else {
            throw ReproductionError.modelFailed("no page-table copy on node \(guestNode) or EPT copy on node \(eptNode)")
        }
        let walker = NestedWalker(guest: PagingControls(mode: .fourLevel), nested: .ept(EPTControls(
            pointer: EPTPointer(root: HostPhysicalAddress(eptRoot), mode: .fourLevel, accessedDirtyEnabled: false))))
        let tlb = try TLBHierarchy(levels: parameters.tlb.levels)
        var observer = NUMAWalkCostObserver(
            latencies: latencies, cpu: cpu,
            lineCache: NUMALRUCache(entries: parameters.pageTableCacheLines, ways: parameters.pageTableCacheWays))
        var misses = 0
        var nonWalk: Double = 0
        for (index, offset) in offsets.enumerated() {
            if index == parameters.warmupUpdates {
                observer.resetCounts()
                misses = 0
                nonWalk = 0
            }
            let virtual = MitosisGUPSModel.virtualBase &+ offset
            let physical = dataHost &+ offset
            if tlb.lookup(virtual, type: .write) == nil {
                misses &+= 1
                guard case let .translated(translation) = walker.walk(
                    virtual, access: .userWrite, guestRoot: guestRoot, memory: &host, observer: &observer),
                    translation.hostPhysical == physical
                else { throw ReproductionError.modelFailed("the 2D walk of 0x\(String(virtual, radix: 16)) did not reach its data") }
                let size = translation.effectivePageSize
                tlb.fillAfterMiss(virtual, size: size, frame: physical & ~size.offsetMask, global: false, type: .write)
            }
            nonWalk += parameters.workCycles + latencies.cycles(cpu: cpu, memory: latencies.position(ofPhysical: physical))
        }
        return Result(
            guestTableNode: guestNode, extendedTableNode: eptNode, interferenceNode: interferenceNode,
            updates: parameters.updates, tlbMisses: misses, walkReferences: observer.references, walkCacheHits: observer.cacheHits,
            walkLocalMemoryReferences: observer.localMemoryReferences,
            walkRemoteMemoryReferences: observer.remoteMemoryReferences, walkCycles: observer.cycles, nonWalkCycles: nonWalk)
    }
}

/// A range of guest-physical memory backed by a range of host memory.
struct VMGuestPhysicalWindow {
    var guestPhysical: UInt64
    var bytes: UInt64
    var hostPhysical: UInt64
}

/// Guest-physical memory as a few windows onto host memory, so that a
/// builder can write guest tables at guest-physical addresses. An address
/// outside every window reads as zero and is not written.
struct VMGuestPhysicalMemory: PhysicalMemory {
    var host: SparsePhysicalMemory
    let windows: [VMGuestPhysicalWindow]

    func hostAddress(_ address: UInt64) -> UInt64? {
        for window in windows where address >= window.guestPhysical && address - window.guestPhysical < window.bytes {
            return window.hostPhysical + (address - window.guestPhysical)
        }
        return nil
    }

    func load64(_ address: UInt64) -> UInt64 { hostAddress(address).map(host.load64) ?? 0 }

    mutating func store64(_ address: UInt64, _ value: UInt64) {
        if let target = hostAddress(address) { host.store64(target, value) }
    }
}
