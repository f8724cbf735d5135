import ShadowPaging
import TLB
import Translation
import Workloads

/// Collects the references of one walk, reusing its storage.
struct WalkBuffer: WalkObserver {
    var references: [WalkReference] = []
    init() { references.reserveCapacity(64) }
    mutating func observe(_ reference: WalkReference) { references.append(reference) }
}

/// Runs a guest kernel on one paging strategy and counts what translation
/// costs: a TLB in front, walks through a page-walk cache (and a nested TLB
/// for 2D walks) on a miss, and the shadow MMU's exits, traps and syncs.
///
/// Guest memory sits at `HostMapping.defaultGuestBase` in host memory. The
/// native strategy walks the guest's tables as if guest-physical were
/// host-physical; nested walks them through EPT with host pages of the
/// configured size; shadow and agile run `ShadowMMU`.
public struct StrategySimulator: GuestMachine {
    public let strategy: PagingStrategy
    public let costs: StrategyCostParameters
    public let caches: StrategyCacheParameters
    public let policy: AgilePolicy
    public let mode: PagingMode
    public let hostPageSize: PageSize

    var mmu: ShadowMMU
    var tlb: StrategyTLB
    /// The TLB module's hierarchy, used instead of `tlb` when configured.
    let hierarchy: TLBHierarchy?
    var walkCache: StrategyKeyCache
    var nestedTLB: StrategyKeyCache
    var buffer = WalkBuffer()
    var result: StrategyResult
    var guestRoot: UInt64 = 0
    let nestedWalker: NestedWalker

    // Agile paging state.
    var nestedFrames: Set<UInt64> = []
    /// Where a nested-mode table was found: the guest root, the linear base
    /// of the range it maps, and its level.
    var nestedOrigins: [UInt64: (root: UInt64, base: UInt64, level: Int)] = [:]
    var interventions: [UInt64: Int] = [:]
    var lastWrite: [UInt64: Int] = [:]
    var operations = 0
    var intervalStart = 0

    public init(strategy: PagingStrategy, mode: PagingMode = .fourLevel, guestMemoryBytes: UInt64 = 1 << 30,
                hostPageSize: PageSize = .size4K, costs: StrategyCostParameters = StrategyCostParameters(),
                caches: StrategyCacheParameters = StrategyCacheParameters(), policy: AgilePolicy = AgilePolicy())
        throws(TLBConfigurationError)
    {
        self.strategy = strategy
        self.costs = costs
        self.caches = caches
        self.policy = policy
        self.mode = mode
        self.hostPageSize = hostPageSize
        mmu = ShadowMMU(configuration: ShadowMMUConfiguration(mode: mode, guestMemoryBytes: guestMemoryBytes, hostPageSize: hostPageSize))
        tlb = StrategyTLB(entries: caches.tlbEntries, ways: caches.tlbWays)
        hierarchy = try caches.tlbLevels.map { levels throws(TLBConfigurationError) in try TLBHierarchy(levels: levels) }
        walkCache = StrategyKeyCache(capacity: caches.walkCacheEntries)
        nestedTLB = StrategyKeyCache(capacity: caches.nestedTLBEntries)
        result = StrategyResult(strategy: strategy)
        nestedWalker = NestedWalker(guest: PagingControls(mode: mode), nested: .ept(EPTControls(pointer: mmu.host.eptPointer)))
    }

    /// The costs so far, with the cycle components filled in.
    public var costReport: StrategyResult {
        var report = result
        if strategy == .shadow || strategy == .agile { report.shadow = mmu.counters }
        let counters = report.shadow
        report.walkCycles = Double(report.walkReferences) * costs.walkReferenceCycles
            + Double(report.walkCacheHits) * costs.walkCacheHitCycles
        report.trapCycles = Double(counters.pageTableWriteTraps) * costs.pageTableWriteTrapCycles
        report.exitCycles = Double(counters.exits - counters.pageTableWriteTraps) * costs.exitCycles
        report.syncCycles = Double(counters.syncedEntries + counters.prefetchedEntries) * costs.syncEntryCycles
        return report
    }

    /// Starts counting afresh (after a warm-up), keeping every cache warm.
    public mutating func resetCounts() {
        result = StrategyResult(strategy: strategy)
        mmu.resetCounters()
    }

    // MARK: GuestMachine

    public func loadGuestPhysical(_ address: UInt64) -> UInt64 { mmu.loadGuestPhysical(address) }

    public mutating func storePageTableEntry(_ address: UInt64, _ value: UInt64) {
        operations += 1
        switch strategy {
        case .native, .nested:
            var guest = mmu.guestMemory
            guest.store64(address & ~7, value)
        case .shadow:
            mmu.storePageTableEntry(address, value)
        case .agile:
            agileStore(address, value)
        }
        afterMMU()
    }

    public mutating func zeroPageTable(_ address: UInt64) {
        switch strategy {
        case .native, .nested:
            var guest = mmu.guestMemory
            for word in 0..<UInt64(512) { guest.store64((address & ~0xFFF) + word * 8, 0) }
        case .shadow, .agile:
            nestedFrames.remove(address >> 12)
            nestedOrigins[address >> 12] = nil
            mmu.zeroPageTable(address)
        }
        afterMMU()
    }

    public mutating func backGuestFrames(_ address: UInt64, bytes: UInt64) {
        mmu.backGuestFrames(address, bytes: bytes)
    }

    public mutating func loadCR3(_ root: UInt64) {
        guestRoot = root
        flushTLBs()
        if strategy == .shadow || strategy == .agile { mmu.loadCR3(root) }
        afterMMU()
    }

    public mutating func invalidatePage(_ address: UInt64) {
        if let hierarchy { hierarchy.invalidatePage(address) } else { tlb.invalidate(address) }
        walkCache.flush()
        if strategy == .shadow || strategy == .agile { mmu.invalidatePage(address) }
        afterMMU()
    }

    public mutating func flushTLB() {
        flushTLBs()
        walkCache.flush()
        if strategy == .shadow || strategy == .agile { mmu.flushGuestTLB() }
        afterMMU()
    }

    public mutating func access(_ address: UInt64, _ type: AccessType) -> PageFault? {
        operations += 1
        if strategy == .agile { agileTick() }
        let hit: Bool
        if let hierarchy { hit = hierarchy.lookup(address, type: type) != nil } else { hit = tlb.lookup(address) }
        if hit {
            result.tlbHits += 1
            result.accesses += 1
            return nil
        }
        let outcome: (fault: PageFault?, size: PageSize)
        switch strategy {
        case .native: outcome = nativeWalk(address, type)
        case .nested: outcome = nestedWalk(address, type, fromLevel: mode.levels)
        case .shadow: outcome = shadowWalk(address, type)
        case .agile:
            if let level = agileSwitchLevel(address) {
                outcome = nestedWalk(address, type, fromLevel: level)
            } else {
                outcome = shadowWalk(address, type)
            }
        }
        afterMMU()
        if let fault = outcome.fault { return fault }
        result.tlbMisses += 1
        result.accesses += 1
        if let hierarchy {
            hierarchy.fill(address, size: outcome.size, frame: 0, global: false, type: type)
        } else {
            tlb.fill(address, outcome.size)
        }
        return nil
    }

    /// Drops every TLB entry.
    mutating func flushTLBs() {
        if let hierarchy { hierarchy.flushAll() } else { tlb.flush() }
    }

    /// A TLB flush the shadow MMU asked for after changing shadow entries.
    mutating func afterMMU() {
        if (strategy == .shadow || strategy == .agile) && mmu.takeFlushRequest() { flushTLBs() }
    }

    // MARK: Walks

    /// Charges one walk reference to the walk cache or memory.
    mutating func charge(_ address: UInt64) {
        if walkCache.access(address) { result.walkCacheHits += 1 } else { result.walkReferences += 1 }
    }

    mutating func nativeWalk(_ address: UInt64, _ type: AccessType) -> (fault: PageFault?, size: PageSize) {
        var guest = mmu.guestMemory
        buffer.references.removeAll(keepingCapacity: true)
        let walker = PageWalker(controls: PagingControls(mode: mode))
        let walk = walker.walk(address, access: MemoryAccess(type, .user), root: guestRoot, memory: &guest, observer: &buffer)
        for reference in buffer.references { charge(reference.address) }
        switch walk {
        case let .translated(translation): return (nil, translation.pageSize)
        case let .fault(fault):
            result.guestPageFaults += 1
            return (fault, .size4K)
        case .nonCanonical: return (PageFault(errorCode: .user, level: mode.levels), .size4K)
        }
    }

    /// A 2D walk, charging the guest levels at and below `fromLevel` (all
    /// of them for nested paging; the levels below the switch for agile, whose
    /// upper levels cost one shadow reference each).
    mutating func nestedWalk(_ address: UInt64, _ type: AccessType, fromLevel: Int) -> (fault: PageFault?, size: PageSize) {
        var host = mmu.memory
        buffer.references.removeAll(keepingCapacity: true)
        let walk = nestedWalker.walk(address, access: MemoryAccess(type, .user), guestRoot: guestRoot, memory: &host, observer: &buffer)
        result.walkReferences += mode.levels - fromLevel
        var finalGuestPhysical: UInt64 = 0
        if case let .translated(translation) = walk { finalGuestPhysical = translation.guestPhysical }
        let base = mmu.host.guestBase
        var index = 0
        let references = buffer.references
        while index < references.count {
            let reference = references[index]
            if reference.dimension == .guest {
                if reference.level <= fromLevel { charge(reference.address) }
                index += 1
                continue
            }
            // A run of nested references translating one guest-physical page.
            let step = reference.step
            var end = index
            while end < references.count && references[end].dimension == .nested && references[end].step == step { end += 1 }
            let translated: UInt64
            if step == 0 {
                translated = finalGuestPhysical
            } else {
                translated = end < references.count ? references[end].address &- base : 0
            }
            if step <= fromLevel {
                if nestedTLB.access(translated >> 12) {
                    result.nestedTLBHits += 1
                } else {
                    for nested in references[index..<end] {
                        if caches.walkCacheHoldsNested { charge(nested.address) } else { result.walkReferences += 1 }
                    }
                }
            }
            index = end
        }
        switch walk {
        case let .translated(translation): return (nil, translation.effectivePageSize)
        case let .guestFault(fault):
            result.guestPageFaults += 1
            return (fault, .size4K)
        default: return (PageFault(errorCode: .user, level: mode.levels), .size4K)
        }
    }

    mutating func shadowWalk(_ address: UInt64, _ type: AccessType) -> (fault: PageFault?, size: PageSize) {
        buffer.references.removeAll(keepingCapacity: true)
        let outcome = mmu.access(address, type, observer: &buffer)
        // Only the last, successful hardware walk is charged: the faulting
        // ones are part of the exits' cost.
        let walkLength = min(buffer.references.count, successfulWalkLength(buffer.references))
        for reference in buffer.references.suffix(walkLength) { charge(reference.address) }
        switch outcome {
        case let .translated(_, size): return (nil, size)
        case let .guestFault(fault):
            result.guestPageFaults += 1
            return (fault, .size4K)
        }
    }

    /// The references of the final walk in a sequence of shadow walks: it
    /// starts at the last reference to the root level.
    func successfulWalkLength(_ references: [WalkReference]) -> Int {
        guard let start = references.lastIndex(where: { $0.level == mode.levels }) else { return 0 }
        return references.count - start
    }

    // MARK: Agile paging

    /// The highest guest level whose table is in nested mode on the path
    /// of `address`, if any.
    mutating func agileSwitchLevel(_ address: UInt64) -> Int? {
        guard !nestedFrames.isEmpty else { return nil }
        let guest = mmu.guestMemory
        var table = guestRoot & PageTableEntry.addressMask
        var level = mode.levels
        while true {
            if nestedFrames.contains(table >> 12) {
                if nestedOrigins[table >> 12] == nil {
                    let span = UInt64(12 + 9 * level)
                    nestedOrigins[table >> 12] = (guestRoot, span >= 64 ? 0 : address & ~((1 << span) - 1), level)
                }
                return level
            }
            let entry = guest.load64(table &+ PagingMode.index(of: address, at: level) &* 8)
            guard entry & 1 != 0, level > 1, level > 3 || entry & (1 << 7) == 0 else { return nil }
            table = entry & PageTableEntry.addressMask
            level -= 1
        }
    }

    mutating func agileStore(_ address: UInt64, _ value: UInt64) {
        let frame = address >> 12
        if nestedFrames.contains(frame) {
            var guest = mmu.guestMemory
            guest.store64(address & ~7, value)
            lastWrite[frame] = operations
            return
        }
        let before = mmu.counters.pageTableWriteTraps + mmu.counters.unsyncFaults
        mmu.storePageTableEntry(address, value)
        guard mmu.counters.pageTableWriteTraps + mmu.counters.unsyncFaults > before else { return }
        interventions[frame, default: 0] += 1
        if interventions[frame, default: 0] >= policy.switchThreshold {
            interventions[frame] = nil
            nestedFrames.insert(frame)
            nestedOrigins[frame] = nil
            lastWrite[frame] = operations
            mmu.zapSubtree(ofGuestFrame: frame)
            result.agileToNested += 1
            flushTLBs()
        }
    }

    /// At each interval's end: tables written in it stay nested, the others
    /// return to shadow mode, and intervention counts start over. A table
    /// of the current process returns with its shadow rebuilt by the VMM
    /// (a prefetch of each guest leaf below it, charged per entry); others
    /// are rebuilt by faults when next used.
    mutating func agileTick() {
        guard operations - intervalStart >= policy.intervalEvents else { return }
        for frame in nestedFrames where lastWrite[frame, default: 0] < intervalStart {
            nestedFrames.remove(frame)
            lastWrite[frame] = nil
            result.agileToShadow += 1
            if let origin = nestedOrigins.removeValue(forKey: frame), origin.root == guestRoot {
                rebuildShadow(table: frame << 12, level: origin.level, base: origin.base)
            }
        }
        interventions.removeAll(keepingCapacity: true)
        intervalStart = operations
        afterMMU()
    }

    /// Prefetches a shadow leaf for every guest leaf below a table.
    mutating func rebuildShadow(table: UInt64, level: Int, base: UInt64) {
        let guest = mmu.guestMemory
        for index in 0..<UInt64(512) {
            let entry = guest.load64(table + index * 8)
            guard entry & 1 != 0 else { continue }
            let address = base | index << (12 + 9 * UInt64(level - 1))
            if level == 1 || (level <= 3 && entry & (1 << 7) != 0) {
                _ = mmu.prefetch(address)
            } else if !nestedFrames.contains((entry & PageTableEntry.addressMask) >> 12) {
                rebuildShadow(table: entry & PageTableEntry.addressMask, level: level - 1, base: address)
            }
        }
    }
}
