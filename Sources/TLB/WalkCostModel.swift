import Translation

/// Decides, for each reference of a walk, whether a paging-structure cache,
/// a translation cache or the nested TLB serves it or memory does, and what
/// it costs through the page-table-entry data-cache model. It also keeps
/// the walk counters.
///
/// Rules, applied to a recorded walk:
/// - Translation caches (design `translation`) are keyed by the virtual
///   address bits that select the entries above a level, tagged with the
///   TLB context. The longest cached prefix (the PDE cache first) gives the
///   table of level r; the walk skips the entries above r and, in a 2D walk,
///   their nested walks and the nested walk of the level-r table (the cache
///   holds its host-physical address, as Intel's combined caches do).
///   Every non-leaf entry the walk reads is then filled.
/// - A PWC (design `pwc`) is keyed by an entry's (host-)physical address. A
///   read of a cached non-leaf entry is a hit; a miss reads memory and fills.
///   Its scope is guest entries (1D PWC) or all entries (2D PWC).
/// - The nested TLB is keyed by the guest-physical page (at the nested
///   leaf's size) that a nested walk translates, tagged with the VPID. A hit
///   skips that nested walk.
/// - A reference that reaches memory costs what its line costs in the
///   data-cache model. A cache or nested-TLB hit costs its hit latency.
///
/// It is a reference type whose state lives in an arena: a walk's
/// accounting reads it in place and copies nothing.
public final class WalkCostModel: @unchecked Sendable {
    public let configuration: TLBConfiguration
    let arena: StorageArena
    @usableFromInline let design: UInt8
    @usableFromInline let scopeAll: Bool
    /// Per level (index 0...5): the translation cache array, if any.
    @usableFromInline let translationCaches: UnsafeMutablePointer<SetAssociativeArray>
    @usableFromInline let translationCacheLevels: UnsafeMutablePointer<Bool>
    /// The PWC: keys in recency order when it is LRU, else a full array.
    @usableFromInline let pwc: SetAssociativeArray
    @usableFromInline let pwcKeys: RecencyArray
    @usableFromInline let pwcIsLRU: Bool
    @usableFromInline let nestedTLB: SetAssociativeArray
    @usableFromInline let hasNestedTLB: Bool
    @usableFromInline let dataCache: (RecencyArray, RecencyArray, RecencyArray)
    @usableFromInline let lineShift: UInt64
    @usableFromInline let latencies: (cache: Double, nestedTLB: Double, l1: Double, l2: Double, llc: Double, dram: Double)
    /// The counters; see `WalkCounter`.
    @usableFromInline let counters: UnsafeMutablePointer<UInt64>
    @usableFromInline let cycles: UnsafeMutablePointer<Double>

    public init(configuration: TLBConfiguration, arena: StorageArena) {
        self.configuration = configuration
        self.arena = arena
        let walk = configuration.walkCache
        design = walk.design == .none ? 0 : walk.design == .pwc ? 1 : 2
        scopeAll = walk.scope == .all
        translationCaches = arena.allocate(6, repeating: SetAssociativeArray(entries: 1, ways: 1, policy: .lru, arena: arena))
        translationCacheLevels = arena.allocate(6, repeating: false)
        let placeholder = SetAssociativeArray(entries: 1, ways: 1, policy: .lru, arena: arena)
        if walk.design == .translation {
            if walk.splitEntries.isEmpty {
                let unified = SetAssociativeArray(entries: walk.entries, ways: walk.ways, policy: walk.replacement, arena: arena)
                for level in 2...5 {
                    translationCaches[level] = unified
                    translationCacheLevels[level] = true
                }
            } else {
                for (level, entries) in walk.splitEntries {
                    translationCaches[level] = SetAssociativeArray(entries: entries, ways: entries, policy: walk.replacement, arena: arena)
                    translationCacheLevels[level] = true
                }
            }
        }
        pwcIsLRU = walk.design == .pwc && walk.replacement == .lru
        pwc = walk.design == .pwc && !pwcIsLRU
            ? SetAssociativeArray(entries: walk.entries, ways: walk.ways, policy: walk.replacement, arena: arena) : placeholder
        pwcKeys = pwcIsLRU ? RecencyArray(entries: walk.entries, ways: walk.ways, arena: arena)
            : RecencyArray(entries: 1, ways: 1, arena: arena)
        if let nested = configuration.nestedTLB {
            nestedTLB = SetAssociativeArray(entries: nested.entries, ways: nested.ways, policy: nested.replacement, arena: arena)
            hasNestedTLB = true
        } else {
            nestedTLB = placeholder
            hasNestedTLB = false
        }
        let cost = configuration.cost
        func level(_ level: DataCacheLevel) -> RecencyArray {
            RecencyArray(entries: level.bytes / cost.lineBytes, ways: level.ways, arena: arena)
        }
        dataCache = (level(cost.l1), level(cost.l2), level(cost.llc))
        lineShift = UInt64(cost.lineBytes.trailingZeroBitCount)
        latencies = (walk.hitLatencyCycles, configuration.nestedTLB?.hitLatencyCycles ?? 0, cost.l1.latencyCycles,
                     cost.l2.latencyCycles, cost.llc.latencyCycles, cost.dramCycles)
        counters = arena.allocate(WalkCounter.count, repeating: 0)
        cycles = arena.allocate(1, repeating: 0)
    }

    /// Whether an entry read at `level` maps a page (rather than a table).
    @inlinable @inline(__always)
    static func isLeaf(_ reference: WalkReference) -> Bool {
        reference.level == 1 || (reference.level <= 3 && reference.entry & (1 << 7) != 0)
    }

    /// Accounts one successful walk of `address`. `guestRoot` is the guest
    /// CR3 table's guest-physical address in a 2D walk; `levels` the depth
    /// of the (guest) hierarchy; `context` the TLB context.
    @inlinable
    public func account(_ walk: WalkRecorder, address: UInt64, levels: Int, guestRoot: UInt64, context: TLBContext) {
        counters[WalkCounter.walks] &+= 1
        if design != 2 && walk.count > 0 && walk[0].dimension == .native {
            cycles[0] += accountOneDimensional(walk)
            return
        }
        var walkCycles = 0.0
        defer { cycles[0] += walkCycles }
        var resume = Int.max
        if design == 2 {
            var level = 2
            while level <= levels {
                if translationCacheLevels[level] {
                    let cache = translationCaches[level]
                    let prefix = address &>> UInt64(truncatingIfNeeded: 3 &+ 9 &* level)
                    let set = cache.set(of: prefix)
                    let slot = cache.find(tag: prefix &<< 3 | UInt64(truncatingIfNeeded: level), set: set,
                                          context: context.raw, alternative: context.raw)
                    if slot >= 0 {
                        cache.touch(slot, set: set)
                        counters[WalkCounter.translationCacheHits] &+= 1
                        walkCycles += latencies.cache
                        resume = level &- 1
                        break
                    }
                }
                level &+= 1
            }
        }
        var tableGuestPhysical = guestRoot & PageTableEntry.addressMask
        var entryGuestPhysical: UInt64 = 0
        var index = 0
        while index < walk.count {
            let reference = walk[index]
            counters[WalkCounter.made(reference)] &+= 1
            if reference.dimension == .nested {
                let step = reference.step
                var end = index &+ 1
                while end < walk.count && walk[end].dimension == .nested && walk[end].step == step {
                    counters[WalkCounter.made(walk[end])] &+= 1
                    end &+= 1
                }
                if step >= resume {
                    counters[WalkCounter.skipped] &+= UInt64(truncatingIfNeeded: end &- index)
                    index = end
                    continue
                }
                var nestedTag: UInt64 = 0
                var nestedSet = 0
                let vpidContext = context.raw & 0x0FFF_F000
                if hasNestedTLB {
                    let guestPhysical = step == 0 ? entryGuestPhysical
                        : tableGuestPhysical &+ PagingMode.index(of: address, at: step) &* 8
                    let size = PageSize(leafLevel: walk[end &- 1].level) ?? .size4K
                    let page = guestPhysical &>> size.shift
                    nestedTag = page &<< 2 | UInt64(truncatingIfNeeded: TLBHierarchy.code(size))
                    nestedSet = nestedTLB.set(of: page)
                    let slot = nestedTLB.find(tag: nestedTag, set: nestedSet, context: vpidContext, alternative: vpidContext)
                    if slot >= 0 {
                        nestedTLB.touch(slot, set: nestedSet)
                        counters[WalkCounter.nestedTLBHits] &+= 1
                        counters[WalkCounter.skipped] &+= UInt64(truncatingIfNeeded: end &- index)
                        walkCycles += latencies.nestedTLB
                        index = end
                        continue
                    }
                    counters[WalkCounter.nestedTLBMisses] &+= 1
                }
                while index < end {
                    walkCycles += read(walk[index], cacheable: scopeAll)
                    index &+= 1
                }
                if hasNestedTLB { nestedTLB.fill(tag: nestedTag, set: nestedSet, context: vpidContext, payload: 0) }
                continue
            }
            let leaf = WalkCostModel.isLeaf(reference)
            if reference.dimension == .guest {
                if leaf {
                    let size = PageSize(leafLevel: reference.level) ?? .size4K
                    entryGuestPhysical = (reference.entry & PageTableEntry.addressMask & ~size.offsetMask) | (address & size.offsetMask)
                } else {
                    tableGuestPhysical = reference.entry & PageTableEntry.addressMask
                }
            }
            if reference.level > resume {
                counters[WalkCounter.skipped] &+= 1
            } else {
                walkCycles += read(reference, cacheable: !leaf)
                if design == 2 && !leaf && translationCacheLevels[reference.level] {
                    let cache = translationCaches[reference.level]
                    let prefix = address &>> UInt64(truncatingIfNeeded: 3 &+ 9 &* reference.level)
                    cache.fill(tag: prefix &<< 3 | UInt64(truncatingIfNeeded: reference.level), set: cache.set(of: prefix),
                               context: context.raw, payload: reference.entry)
                }
            }
            index &+= 1
        }
    }

    /// `account` for a native (1D) walk without translation caches: every
    /// reference is read, through the PWC if it is a non-leaf entry.
    @inlinable
    func accountOneDimensional(_ walk: WalkRecorder) -> Double {
        var walkCycles = 0.0
        var index = 0
        while index < walk.count {
            let reference = walk[index]
            counters[WalkCounter.made(reference)] &+= 1
            walkCycles += read(reference, cacheable: true)
            index &+= 1
        }
        return walkCycles
    }

    /// One reference that the translation caches did not skip: a PWC hit,
    /// or a read through the data-cache model. Returns its cycles.
    @inlinable @inline(__always)
    func read(_ reference: WalkReference, cacheable: Bool) -> Double {
        if design == 1 && cacheable && !WalkCostModel.isLeaf(reference) {
            let key = reference.address &>> 3
            if pwcIsLRU ? pwcKeys.access(key) : pwc.access(tag: key, set: pwc.set(of: key), context: 0) {
                counters[WalkCounter.pwcHits] &+= 1
                return latencies.cache
            }
        }
        counters[WalkCounter.memory(reference)] &+= 1
        return lineCost(reference.address &>> lineShift)
    }

    /// The cycles of reading `line`, and the fills the read causes.
    @inlinable @inline(__always)
    func lineCost(_ line: UInt64) -> Double {
        if dataCache.0.access(line) {
            counters[WalkCounter.lineL1] &+= 1
            return latencies.l1
        }
        if dataCache.1.access(line) {
            counters[WalkCounter.lineL2] &+= 1
            return latencies.l2
        }
        if dataCache.2.access(line) {
            counters[WalkCounter.lineLLC] &+= 1
            return latencies.llc
        }
        counters[WalkCounter.lineDRAM] &+= 1
        return latencies.dram
    }

    /// Prefetches the host memory that reading the entry at `entryAddress`
    /// through the data-cache model will touch (a hint for the simulator's
    /// look-ahead; it changes no state).
    @inlinable @inline(__always)
    func prefetchRead(_ entryAddress: UInt64) {
        let line = entryAddress &>> lineShift
        dataCache.1.prefetch(line)
        dataCache.2.prefetch(line)
    }

    // MARK: Invalidation

    /// Invalidates the translation-cache entries of `pcid` in the current
    /// VPID (nil: every PCID) and the whole PWC. INVLPG, a flushing CR3
    /// write and INVPCID do this (SDM vol. 3A §4.10.4.1).
    public func invalidatePagingStructureCaches(vpid: UInt16, pcid: UInt16?) {
        var done = Set<UnsafeMutablePointer<UInt64>>()
        for level in 2...5 where translationCacheLevels[level] {
            let cache = translationCaches[level]
            guard done.insert(cache.tags).inserted else { continue }
            cache.invalidateAll { _, owner in
                let context = TLBContext(raw: owner)
                return context.vpid == vpid && (pcid == nil || context.pcid == pcid)
            }
        }
        if design == 1 {
            if pwcIsLRU { pwcKeys.removeAll() } else { pwc.invalidateAll { _, _ in true } }
        }
    }

    /// Invalidates the nested TLB (INVEPT).
    public func invalidateNestedTLB() {
        if hasNestedTLB { nestedTLB.invalidateAll { _, _ in true } }
    }

    /// The value of counter `index` (see `WalkCounter`).
    public func counter(_ index: Int) -> UInt64 { counters[index] }
    /// The cycles of every walk so far.
    public var walkCycles: Double { cycles[0] }
}

/// The layout of the walk counters.
public enum WalkCounter {
    /// References made by the walker, by dimension and level: 3 × 6 slots.
    public static func made(dimension: WalkDimension, level: Int) -> Int { Int(dimension.rawValue) * 6 + level }
    /// References that reached memory, by dimension and level.
    public static func memory(dimension: WalkDimension, level: Int) -> Int { 18 + Int(dimension.rawValue) * 6 + level }
    @inlinable static func made(_ reference: WalkReference) -> Int {
        Int(truncatingIfNeeded: reference.dimension.rawValue) &* 6 &+ reference.level
    }
    @inlinable static func memory(_ reference: WalkReference) -> Int {
        18 &+ Int(truncatingIfNeeded: reference.dimension.rawValue) &* 6 &+ reference.level
    }
    public static let walks = 36
    public static let pwcHits = 37
    public static let translationCacheHits = 38
    public static let skipped = 39
    public static let nestedTLBHits = 40
    public static let nestedTLBMisses = 41
    public static let lineL1 = 42
    public static let lineL2 = 43
    public static let lineLLC = 44
    public static let lineDRAM = 45
    public static let count = 46
}
