import Translation

/// A hierarchy of TLB levels, looked up in configuration order.
///
/// - An access looks up the levels on its path: data accesses the `data`
///   and `unified` levels, instruction fetches the `instruction` and
///   `unified` levels (or the data path when no level is `instruction`).
/// - Inclusive fill: a hit in a lower level fills every level above it on
///   the path that holds the page size; a walk fills every level on the
///   path that holds it. Evictions are not propagated.
/// - The set index of an entry is its virtual page number, at the entry's
///   page size, modulo the array's number of sets. An array holding several
///   sizes is probed once per size.
/// - Entries carry the context (VPID, PCID, global) they were filled under,
///   and match only the current one or its VPID's global entries.
///
/// The statistics count, per level, the lookups that hit and that missed.
public final class TLBHierarchy: @unchecked Sendable {
    public let levels: [TLBLevelConfiguration]
    let arena = StorageArena()
    @usableFromInline let arrays: UnsafeMutablePointer<SetAssociativeArray>
    /// Per array: bit `code` set if it holds the size with that code.
    @usableFromInline let arraySizes: UnsafeMutablePointer<UInt8>
    /// Per array and size code: the valid entries of that size.
    @usableFromInline let occupancy: UnsafeMutablePointer<Int>
    /// Per level: its first array and one past its last.
    @usableFromInline let levelArrays: UnsafeMutablePointer<(start: Int, end: Int)>
    /// Per level: the size codes it holds.
    @usableFromInline let levelSizes: UnsafeMutablePointer<UInt8>
    /// Per path (data, then instruction): every probe of its levels in
    /// lookup order, each with what it needs inline; `pathProbeRuns[path]`
    /// gives the run of a path.
    @usableFromInline let pathProbes: UnsafeMutablePointer<PathProbe>
    @usableFromInline let pathProbeRuns: UnsafeMutablePointer<(start: Int, end: Int)>
    /// The probes whose arrays a fill writes: per path and size code, a run
    /// of `fillTargets` (indices into `pathProbes`) given by
    /// `fillRuns[path * 3 + code]`, in path order.
    @usableFromInline let fillTargets: UnsafeMutablePointer<Int>
    @usableFromInline let fillRuns: UnsafeMutablePointer<(start: Int, end: Int)>
    /// The level indices of the data path, then of the instruction path.
    @usableFromInline let paths: UnsafeMutablePointer<Int>
    @usableFromInline let dataPathCount: Int
    @usableFromInline let instructionPathStart: Int
    @usableFromInline let instructionPathCount: Int
    /// Per level: hits, then misses.
    @usableFromInline let counters: UnsafeMutablePointer<UInt64>

    /// The mutable state read in the hot path, kept outside the object so
    /// that no access needs an exclusivity check: the current context, then
    /// per path (data, instruction) the last page, its mask, frame and size.
    /// A repeat access to the last page hits the path's top level with no
    /// change of replacement state, so it is counted without a lookup.
    @usableFromInline let hot: UnsafeMutablePointer<UInt64>

    /// Per path (data, instruction): a direct probe of the top level when it
    /// is one LRU or FIFO array for one page size with a power-of-two number
    /// of sets and at most 8 ways (so its sets keep clock stamps), the common
    /// L1 shape.
    @usableFromInline let directProbes: UnsafeMutablePointer<DirectProbe>

    /// CR4.PCIDE: CR3 writes select a PCID and may keep its entries.
    public var pcidEnabled = false
    /// CR4.PGE: leaves with G = 1 fill global entries.
    public private(set) var globalPagesEnabled = true

    /// The current VPID and PCID.
    @inlinable public var context: TLBContext { TLBContext(raw: UInt32(truncatingIfNeeded: hot[0])) }

    /// Builds the levels; the configuration must validate.
    public init(levels: [TLBLevelConfiguration]) throws(TLBConfigurationError) {
        guard !levels.isEmpty else { throw .invalid("a TLB configuration needs at least one level") }
        for level in levels { try level.validate() }
        self.levels = levels
        let arrayCount = levels.reduce(0) { $0 + $1.arrays.count }
        arrays = .allocate(capacity: arrayCount)
        arraySizes = arena.allocate(arrayCount, repeating: 0)
        occupancy = arena.allocate(arrayCount * 3, repeating: 0)
        levelArrays = .allocate(capacity: levels.count)
        levelSizes = arena.allocate(levels.count, repeating: 0)
        counters = arena.allocate(levels.count * 2, repeating: 0)
        hot = arena.allocate(9, repeating: 0)
        var index = 0
        for (levelIndex, level) in levels.enumerated() {
            let start = index
            for array in level.arrays {
                var policy = level.replacement
                if case let .random(seed) = policy { policy = .random(seed: seed &+ UInt64(index)) }
                (arrays + index).initialize(to: SetAssociativeArray(entries: array.entries, ways: array.ways,
                                                                    policy: policy, arena: arena))
                for size in array.pageSizes { arraySizes[index] |= 1 << TLBHierarchy.code(size) }
                levelSizes[levelIndex] |= arraySizes[index]
                index += 1
            }
            levelArrays[levelIndex] = (start, index)
        }
        // Per level, its probes in lookup order: by size code, then array.
        var levelProbes: [[(array: Int, code: Int)]] = []
        for level in levels.indices {
            var probes: [(array: Int, code: Int)] = []
            for code in 0..<3 {
                for arrayIndex in levelArrays[level].start..<levelArrays[level].end
                where arraySizes[arrayIndex] & (1 << UInt8(code)) != 0 {
                    probes.append((arrayIndex, code))
                }
            }
            levelProbes.append(probes)
        }
        let probeCount = levelProbes.reduce(0) { $0 + $1.count }
        let dataPath = levels.indices.filter { levels[$0].kind != .instruction }
        let hasInstructionLevel = levels.contains { $0.kind == .instruction }
        let instructionPath = hasInstructionLevel ? levels.indices.filter { levels[$0].kind != .data } : dataPath
        paths = .allocate(capacity: dataPath.count + instructionPath.count + 1)
        for (offset, level) in (dataPath + instructionPath).enumerated() { paths[offset] = level }
        dataPathCount = dataPath.count
        instructionPathStart = dataPath.count
        instructionPathCount = instructionPath.count
        pathProbes = .allocate(capacity: max(1, probeCount * 2))
        pathProbeRuns = .allocate(capacity: 2)
        fillTargets = .allocate(capacity: max(1, probeCount * 2))
        fillRuns = .allocate(capacity: 6)
        var pathProbeCount = 0
        var targetCount = 0
        for (path, (start, count)) in [(0, dataPath.count), (instructionPathStart, instructionPath.count)].enumerated() {
            let runStart = pathProbeCount
            for position in 0..<count {
                let level = paths[start + position]
                for (arrayIndex, code) in levelProbes[level] {
                    (pathProbes + pathProbeCount).initialize(to: PathProbe(
                        array: arrays[arrayIndex], occupancySlot: arrayIndex * 3 + code, code: code, level: level,
                        position: position))
                    pathProbeCount += 1
                }
            }
            pathProbeRuns[path] = (runStart, pathProbeCount)
            for code in 0..<3 {
                let codeStart = targetCount
                for index in runStart..<pathProbeCount where pathProbes[index].code == UInt64(code) {
                    fillTargets[targetCount] = index
                    targetCount += 1
                }
                fillRuns[path * 3 + code] = (codeStart, targetCount)
            }
        }
        // A path whose top level probes one array for one size gets a direct probe.
        directProbes = .allocate(capacity: 2)
        for (index, start) in [0, instructionPathStart].enumerated() {
            let level = paths[start]
            var probe = DirectProbe()
            if levelProbes[level].count == 1 {
                let (arrayIndex, code) = levelProbes[level][0]
                let array = arrays[arrayIndex]
                if array.setsArePowerOfTwo && array.ways <= 8 && (array.policyKind == 0 || array.policyKind == 2) {
                    probe = DirectProbe(array: array, lru: array.policyKind == 0, code: code, level: level,
                                        hits: counters + level * 2)
                }
            }
            (directProbes + index).initialize(to: probe)
        }
        forgetLastPages()
    }

    deinit {
        arrays.deinitialize(count: levelArrays[levels.count - 1].end)
        arrays.deallocate()
        levelArrays.deallocate()
        directProbes.deallocate()
        pathProbes.deinitialize(count: pathProbeRuns[1].end)
        pathProbes.deallocate()
        pathProbeRuns.deallocate()
        fillTargets.deallocate()
        fillRuns.deallocate()
        paths.deallocate()
    }

    /// The size code of a page size: 0, 1, 2 for 4K, 2M, 1G.
    @inlinable @inline(__always)
    static func code(_ size: PageSize) -> Int { Int(truncatingIfNeeded: (size.rawValue &- 12) / 9) }

    /// The tag of the page of `size` holding `address`: its page number
    /// shifted left by 2, with the size code in the low bits.
    @inlinable @inline(__always)
    public static func tag(_ address: UInt64, _ size: PageSize) -> UInt64 {
        (address &>> size.shift) &<< 2 | UInt64(truncatingIfNeeded: code(size))
    }

    /// The array `index`, for inspection.
    public func array(_ index: Int) -> SetAssociativeArray { arrays[index] }
    /// The arrays of level `level`.
    public func arrays(ofLevel level: Int) -> [SetAssociativeArray] {
        let range = levelArrays[level]
        return (range.start..<range.end).map { arrays[$0] }
    }

    // MARK: Lookup and fill

    /// A TLB hit: the level that hit, the page size and the stored frame.
    @frozen public struct Hit: Hashable, Sendable {
        public var level: Int
        public var pageSize: PageSize
        public var frame: UInt64
        @inlinable public init(level: Int, pageSize: PageSize, frame: UInt64) {
            self.level = level
            self.pageSize = pageSize
            self.frame = frame
        }
    }

    /// Looks `address` up for an access of `type`. On a hit below the top
    /// level, fills the levels above. On a miss in every level, returns nil:
    /// the caller walks and calls `fill`.
    @inlinable @inline(__always)
    public func lookup(_ address: UInt64, type: AccessType) -> Hit? {
        let instruction = type == .fetch
        let pathStart = instruction ? instructionPathStart : 0
        let shortcut = hot + (instruction ? 5 : 1)
        if address & shortcut[1] == shortcut[0] {
            counters[paths[pathStart] &* 2] &+= 1
            return Hit(level: paths[pathStart], pageSize: PageSize(rawValue: UInt8(truncatingIfNeeded: shortcut[3]))!,
                       frame: shortcut[2])
        }
        let direct = directProbes[instruction ? 1 : 0]
        if direct.enabled {
            let page = address &>> direct.shift
            let tag = page &<< 2 | direct.code
            let base = Int(truncatingIfNeeded: page & direct.setMask) &* direct.ways
            let context = UInt32(truncatingIfNeeded: hot[0])
            let global = (context & 0x0FFF_F000) | TLBContext.globalBit
            // Without branches: the matching way is unpredictable. The last
            // match wins, as in `find`.
            var slot = base
            var found = -1
            let end = base &+ direct.ways
            while slot < end {
                let owner = direct.contexts[slot]
                let sameTag: UInt8 = direct.tags[slot] == tag ? 1 : 0
                let sameOwner: UInt8 = (owner == context ? 1 : 0) | (owner == global ? 1 : 0)
                found = sameTag & sameOwner != 0 ? slot : found
                slot &+= 1
            }
            if found >= 0 {
                if direct.lru {
                    let clock = direct.state[0] &+ 1
                    direct.state[0] = clock
                    direct.stamps[found] = clock
                }
                direct.hits[0] &+= 1
                let frame = direct.payloads[found]
                remember(address, size: direct.size, frame: frame, instruction: instruction, pathStart: pathStart)
                return Hit(level: direct.level, pageSize: direct.size, frame: frame)
            }
            direct.hits[1] &+= 1
            return lookupSlow(address, instruction: instruction, from: 1)
        }
        return lookupSlow(address, instruction: instruction, from: 0)
    }

    @inlinable
    func lookupSlow(_ address: UInt64, instruction: Bool, from first: Int) -> Hit? {
        let run = pathProbeRuns[instruction ? 1 : 0]
        let current = UInt32(truncatingIfNeeded: hot[0])
        let global = (current & 0x0FFF_F000) | TLBContext.globalBit
        var index = run.start
        while index < run.end && pathProbes[index].position < first { index &+= 1 }
        while index < run.end {
            let probe = pathProbes + index
            index &+= 1
            if occupancy[probe.pointee.occupancySlot] != 0 {
                let page = address &>> probe.pointee.shift
                let set = probe.pointee.array.set(of: page)
                let slot = probe.pointee.array.find(tag: page &<< 2 | probe.pointee.code, set: set,
                                                    context: current, alternative: global)
                if slot >= 0 { return hit(probe, slot: slot, set: set, address: address, instruction: instruction) }
            }
            if index == run.end || pathProbes[index].position != probe.pointee.position {
                counters[probe.pointee.level &* 2 &+ 1] &+= 1
            }
        }
        forgetLastPages()
        return nil
    }

    /// A hit of `probe` in `slot` of `set`: updates replacement state and
    /// the hit counter, fills the levels above and returns the hit.
    @inlinable
    func hit(_ probe: UnsafeMutablePointer<PathProbe>, slot: Int, set: Int, address: UInt64, instruction: Bool) -> Hit {
        let array = probe.pointee.array
        array.touch(slot, set: set)
        let level = probe.pointee.level
        counters[level &* 2] &+= 1
        let size = probe.pointee.size
        let frame = array.payloads[slot]
        let position = probe.pointee.position
        if position > 0 {
            let isGlobal = array.contexts[slot] & TLBContext.globalBit != 0
            fill(address, size: size, frame: frame, global: isGlobal, instruction: instruction, upTo: position, afterMiss: true)
        }
        remember(address, size: size, frame: frame, instruction: instruction,
                 pathStart: instruction ? instructionPathStart : 0)
        return Hit(level: level, pageSize: size, frame: frame)
    }

    /// Fills the translation a walk found into every level on the path of
    /// `type` that holds `size`. `frame` is the physical page base; `global`
    /// is the leaf's G bit (it makes a global entry only under CR4.PGE).
    @inlinable
    public func fill(_ address: UInt64, size: PageSize, frame: UInt64, global: Bool, type: AccessType) {
        let instruction = type == .fetch
        let pathStart = instruction ? instructionPathStart : 0
        let pathCount = instruction ? instructionPathCount : dataPathCount
        let isGlobal = global && globalPagesEnabled
        fill(address, size: size, frame: frame, global: isGlobal, instruction: instruction, upTo: pathCount)
        remember(address, size: size, frame: frame, instruction: instruction, pathStart: pathStart)
    }

    @inlinable @inline(__always)
    func fill(_ address: UInt64, size: PageSize, frame: UInt64, global: Bool, instruction: Bool, upTo count: Int,
              afterMiss: Bool = false) {
        let code = TLBHierarchy.code(size)
        let page = address &>> size.shift
        let tag = page &<< 2 | UInt64(truncatingIfNeeded: code)
        let current = UInt32(truncatingIfNeeded: hot[0])
        let owner = global ? (current & 0x0FFF_F000) | TLBContext.globalBit : current
        let run = fillRuns[(instruction ? 3 : 0) &+ code]
        var index = run.start
        while index < run.end {
            let target = pathProbes + fillTargets[index]
            if target.pointee.position >= count { return }
            index &+= 1
            let array = target.pointee.array
            let set = array.set(of: page)
            let (_, evicted, inserted) = afterMiss ? array.insert(tag: tag, set: set, context: owner, payload: frame)
                : array.fill(tag: tag, set: set, context: owner, payload: frame)
            guard inserted else { continue }
            let slot = target.pointee.occupancySlot
            occupancy[slot] &+= 1
            if evicted != SetAssociativeArray.invalidTag {
                occupancy[slot &- code &+ Int(truncatingIfNeeded: evicted & 3)] &-= 1
            }
        }
    }

    /// `fill` right after `lookup` missed in every level, so the page is in
    /// none of them and no level needs searching before the insertion.
    @inlinable
    public func fillAfterMiss(_ address: UInt64, size: PageSize, frame: UInt64, global: Bool, type: AccessType) {
        let instruction = type == .fetch
        let pathStart = instruction ? instructionPathStart : 0
        let pathCount = instruction ? instructionPathCount : dataPathCount
        fill(address, size: size, frame: frame, global: global && globalPagesEnabled, instruction: instruction, upTo: pathCount,
             afterMiss: true)
        remember(address, size: size, frame: frame, instruction: instruction, pathStart: pathStart)
    }

    /// Keeps the page for the repeat-access shortcut when the path's top
    /// level holds it (it is then that level's most recent entry in its set).
    @inlinable
    func remember(_ address: UInt64, size: PageSize, frame: UInt64, instruction: Bool, pathStart: Int) {
        let other = hot + (instruction ? 1 : 5)
        other[0] = .max
        other[1] = 0
        let shortcut = hot + (instruction ? 5 : 1)
        guard levelSizes[paths[pathStart]] & (1 << UInt8(TLBHierarchy.code(size))) != 0 else {
            shortcut[0] = .max
            shortcut[1] = 0
            return
        }
        shortcut[0] = address & ~size.offsetMask
        shortcut[1] = ~size.offsetMask
        shortcut[2] = frame
        shortcut[3] = UInt64(size.rawValue)
    }

    /// Drops the repeat-access shortcut (after any fill, switch or flush).
    @inlinable
    func forgetLastPages() {
        hot[1] = .max
        hot[2] = 0
        hot[5] = .max
        hot[6] = 0
    }

    // MARK: Statistics

    /// Lookups of level `level` that hit.
    public func hits(_ level: Int) -> UInt64 { counters[level * 2] }
    /// Lookups of level `level` that missed.
    public func misses(_ level: Int) -> UInt64 { counters[level * 2 + 1] }
    /// Clears the hit and miss counters (not the entries).
    public func resetStatistics() {
        for index in 0..<(levels.count * 2) { counters[index] = 0 }
    }

    /// Whether `address` has a valid entry of `size` in `level` for the
    /// current context (without touching replacement state).
    public func contains(_ address: UInt64, size: PageSize, level: Int) -> Bool {
        let range = levelArrays[level]
        let code = TLBHierarchy.code(size)
        for index in range.start..<range.end where arraySizes[index] & (1 << UInt8(code)) != 0 {
            let array = arrays[index]
            let page = address >> size.shift
            if array.find(tag: TLBHierarchy.tag(address, size), set: array.set(of: page), context: context.raw,
                          alternative: context.global.raw) >= 0 { return true }
        }
        return false
    }

    /// The valid entries of `level`: page base, size and context.
    public func entries(ofLevel level: Int) -> [(page: UInt64, size: PageSize, context: TLBContext)] {
        var result: [(UInt64, PageSize, TLBContext)] = []
        let range = levelArrays[level]
        for index in range.start..<range.end {
            let array = arrays[index]
            for slot in 0..<array.entries {
                guard let entry = array.entry(at: slot) else { continue }
                let size = PageSize(rawValue: UInt8(12 + 9 * (entry.tag & 3)))!
                result.append(((entry.tag >> 2) << size.shift, size, TLBContext(raw: entry.context)))
            }
        }
        return result
    }

    // MARK: Invalidation primitives

    /// Invalidates, in every level, the entries for which `matches(page
    /// base, size, context)` holds.
    public func invalidate(where matches: (UInt64, PageSize, TLBContext) -> Bool) {
        forgetLastPages()
        for index in 0..<levelArrays[levels.count - 1].end {
            let array = arrays[index]
            for slot in 0..<array.entries {
                guard let entry = array.entry(at: slot) else { continue }
                let code = Int(entry.tag & 3)
                let size = PageSize(rawValue: UInt8(12 + 9 * code))!
                if matches((entry.tag >> 2) << size.shift, size, TLBContext(raw: entry.context)) {
                    array.invalidate(slot: slot)
                    occupancy[index * 3 + code] -= 1
                }
            }
        }
    }

    /// Sets the current context (a VM entry with another VPID, or a PCID
    /// change) without invalidating anything.
    public func setContext(_ newContext: TLBContext) {
        forgetLastPages()
        hot[0] = UInt64(newContext.raw & ~TLBContext.globalBit)
    }

    /// Sets CR4.PGE. Changing it invalidates every entry of the current
    /// VPID, global ones included (SDM vol. 3A §4.10.4.1).
    public func setGlobalPagesEnabled(_ enabled: Bool) {
        guard enabled != globalPagesEnabled else { return }
        globalPagesEnabled = enabled
        let vpid = context.vpid
        invalidate { _, _, owner in owner.vpid == vpid }
    }
}

/// One probe of a path: an array, the size it is probed for, and where it
/// sits on the path.
@usableFromInline struct PathProbe {
    @usableFromInline let array: SetAssociativeArray
    /// The index of the array's count of valid entries of this size in `occupancy`.
    @usableFromInline let occupancySlot: Int
    /// The size code, and the page-number shift of that size.
    @usableFromInline let code: UInt64
    @usableFromInline let shift: UInt64
    @usableFromInline let level: Int
    @usableFromInline let position: Int

    init(array: SetAssociativeArray, occupancySlot: Int, code: Int, level: Int, position: Int) {
        self.array = array
        self.occupancySlot = occupancySlot
        self.code = UInt64(code)
        shift = UInt64(12 + 9 * code)
        self.level = level
        self.position = position
    }

    /// The page size the probe looks for.
    @inlinable var size: PageSize { PageSize(rawValue: UInt8(truncatingIfNeeded: shift))! }
}

/// The fields of one array needed to probe it directly for one page size.
@usableFromInline struct DirectProbe {
    @usableFromInline var enabled = false
    @usableFromInline var tags = UnsafeMutablePointer<UInt64>(bitPattern: 8)!
    @usableFromInline var contexts = UnsafeMutablePointer<UInt32>(bitPattern: 8)!
    @usableFromInline var payloads = UnsafeMutablePointer<UInt64>(bitPattern: 8)!
    @usableFromInline var stamps = UnsafeMutablePointer<UInt64>(bitPattern: 8)!
    @usableFromInline var state = UnsafeMutablePointer<UInt64>(bitPattern: 8)!
    /// The level's hit counter, then its miss counter.
    @usableFromInline var hits = UnsafeMutablePointer<UInt64>(bitPattern: 8)!
    @usableFromInline var setMask: UInt64 = 0
    @usableFromInline var ways = 0
    @usableFromInline var shift: UInt64 = 12
    @usableFromInline var code: UInt64 = 0
    @usableFromInline var size = PageSize.size4K
    @usableFromInline var level = 0
    @usableFromInline var lru = false

    init() {}

    init(array: SetAssociativeArray, lru: Bool, code: Int, level: Int, hits: UnsafeMutablePointer<UInt64>) {
        enabled = true
        tags = array.tags
        contexts = array.contexts
        payloads = array.payloads
        stamps = array.stamps
        state = array.state
        self.hits = hits
        setMask = array.setMask
        ways = array.ways
        shift = UInt64(12 + 9 * code)
        self.code = UInt64(code)
        size = PageSize(rawValue: UInt8(12 + 9 * code))!
        self.level = level
        self.lru = lru
    }
}
