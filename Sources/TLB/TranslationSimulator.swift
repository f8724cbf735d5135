import Translation
import Workloads

/// Feeds an access stream through a TLB hierarchy; on a miss in every level
/// the engine walks real page tables and the walk cost model decides which
/// references caches serve and what they cost. It counts hits per level,
/// walks, references per walk by dimension and level, cache and nested-TLB
/// hits, and predicted cycles.
///
/// The simulator is a value whose TLB and caches live in shared storage:
/// copies see the same TLB state. The engine is generic, so `run` is one
/// specialized loop with no allocation, reference counting or existential.
public struct TranslationSimulator<Engine: TranslationEngine> {
    public let configuration: TLBConfiguration
    public let tlb: TLBHierarchy
    public let walkCosts: WalkCostModel
    public var engine: Engine
    @usableFromInline var recorder: WalkRecorder
    /// The block of accesses `run` has read ahead.
    @usableFromInline let lookahead: UnsafeMutablePointer<AccessRecord>
    @usableFromInline var accessCount: UInt64 = 0
    /// The accesses simulated so far.
    @inlinable public var accesses: UInt64 { accessCount }
    let arena: StorageArena

    /// Builds the TLB and caches of `configuration` (which must validate).
    public init(configuration: TLBConfiguration, engine: Engine) throws(TLBConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        tlb = try TLBHierarchy(levels: configuration.levels)
        arena = StorageArena()
        walkCosts = WalkCostModel(configuration: configuration, arena: arena)
        recorder = WalkRecorder(arena: arena)
        lookahead = arena.allocate(Self.blockSize, repeating: AccessRecord(address: 0))
        self.engine = engine
    }

    /// Translates one access.
    @inlinable @inline(__always)
    public mutating func access(_ record: AccessRecord) throws(SimulationError) {
        accessCount &+= 1
        if tlb.lookup(record.address, type: record.type) != nil { return }
        try walk(record)
    }

    /// The miss path: walk, account, fill.
    @inlinable
    mutating func walk(_ record: AccessRecord) throws(SimulationError) {
        let outcome = try engine.walk(record.address, type: record.type, recorder: &recorder)
        walkCosts.account(recorder, address: record.address, levels: engine.levels, guestRoot: engine.guestRoot,
                          context: tlb.context)
        tlb.fillAfterMiss(record.address, size: outcome.pageSize, frame: outcome.frame, global: outcome.global, type: record.type)
    }

    /// The accesses `run` reads ahead of the one it translates.
    @usableFromInline static var blockSize: Int { 64 }
    /// How many accesses ahead `run` prefetches a walk's memory.
    @usableFromInline static var prefetchDistance: Int { 8 }

    /// Translates every access of `stream`.
    ///
    /// Accesses are taken in blocks of `blockSize`. While the previous
    /// block walked on at least one access in eight, the block is read
    /// ahead and each access also prefetches the host memory of the walk
    /// `prefetchDistance` accesses later (its leaf entry and that entry's
    /// sets in the data-cache model), so the host fetches several walks'
    /// lines at once; otherwise accesses are translated as they are read.
    /// Prefetches are hints: the results are the same with or without them.
    @inlinable
    public mutating func run<Stream: AccessStream>(_ stream: inout Stream) throws(SimulationError) {
        let block = lookahead
        let size = Self.blockSize
        let distance = Self.prefetchDistance
        var prefetching = false
        while true {
            let walksBefore = walkCosts.counters[WalkCounter.walks]
            var count = 0
            if !prefetching {
                while count < size {
                    let next: AccessRecord?
                    do {
                        next = try stream.next()
                    } catch {
                        throw .trace(error)
                    }
                    guard let record = next else { return }
                    try access(record)
                    count &+= 1
                }
            } else {
                do {
                    while count < size, let record = try stream.next() {
                        block[count] = record
                        count &+= 1
                    }
                } catch {
                    // Translate what was read before the error, as reading one at a time would.
                    for index in 0..<count { try access(block[index]) }
                    throw .trace(error)
                }
                if count == 0 { return }
                for index in 0..<min(distance, count) { prefetchWalk(block[index].address) }
                var index = 0
                while index < count {
                    if index &+ distance < count { prefetchWalk(block[index &+ distance].address) }
                    try access(block[index])
                    index &+= 1
                }
            }
            prefetching = (walkCosts.counters[WalkCounter.walks] &- walksBefore) &* 8 >= UInt64(truncatingIfNeeded: count)
        }
    }

    /// Prefetches the host memory a walk of `address` would read first.
    @inlinable @inline(__always)
    func prefetchWalk(_ address: UInt64) {
        if let entry = engine.prefetchWalk(address) { walkCosts.prefetchRead(entry) }
    }

    // MARK: Architectural invalidation of the TLB and the paging-structure caches

    /// INVLPG: the TLB entries covering `address` at every page size, and
    /// the paging-structure caches of the current PCID.
    public func invalidatePage(_ address: UInt64) {
        tlb.invalidatePage(address)
        walkCosts.invalidatePagingStructureCaches(vpid: tlb.context.vpid, pcid: tlb.context.pcid)
    }

    /// A MOV to CR3, with or without PCID and the no-flush bit.
    public func writeCR3(_ value: UInt64) {
        tlb.writeCR3(value)
        if !tlb.pcidEnabled || value & (1 << 63) == 0 {
            walkCosts.invalidatePagingStructureCaches(vpid: tlb.context.vpid, pcid: tlb.context.pcid)
        }
    }

    /// INVPCID of `type`.
    public func invalidatePCID(_ type: INVPCIDType, pcid: UInt16 = 0, address: UInt64 = 0) {
        tlb.invalidatePCID(type, pcid: pcid, address: address)
        let single = type == .individualAddress || type == .singleContext
        walkCosts.invalidatePagingStructureCaches(vpid: tlb.context.vpid, pcid: single ? pcid & 0xFFF : nil)
    }

    // MARK: Results

    /// The counts and predicted cycles so far.
    public var statistics: SimulationStatistics {
        SimulationStatistics(accesses: accesses, tlb: tlb, walkCosts: walkCosts)
    }
}

/// The results of a simulation.
public struct SimulationStatistics: Sendable, Equatable {
    /// One TLB level's lookups.
    public struct Level: Sendable, Equatable {
        public var name: String
        public var hits: UInt64
        public var misses: UInt64
        public var hitLatencyCycles: Double
    }

    public var accesses: UInt64
    public var levels: [Level]
    public var walks: UInt64
    /// References made by the walker, by dimension and level (before caches).
    public var referencesMade: [WalkDimension: [Int: UInt64]]
    /// References that reached memory, by dimension and level.
    public var memoryReferences: [WalkDimension: [Int: UInt64]]
    public var pwcHits: UInt64
    public var translationCacheHits: UInt64
    /// References the translation caches or nested TLB let a walk skip.
    public var skippedReferences: UInt64
    public var nestedTLBHits: UInt64
    public var nestedTLBMisses: UInt64
    /// Where the memory references' lines were: L1, L2, LLC, DRAM.
    public var lineHits: (l1: UInt64, l2: UInt64, llc: UInt64, dram: UInt64)
    /// The cycles of every walk.
    public var walkCycles: Double
    /// TLB lookup cycles: for each level, its lookups times its latency.
    public var lookupCycles: Double

    init(accesses: UInt64, tlb: TLBHierarchy, walkCosts: WalkCostModel) {
        self.accesses = accesses
        levels = tlb.levels.indices.map {
            Level(name: tlb.levels[$0].name, hits: tlb.hits($0), misses: tlb.misses($0),
                  hitLatencyCycles: tlb.levels[$0].hitLatencyCycles)
        }
        walks = walkCosts.counter(WalkCounter.walks)
        var made: [WalkDimension: [Int: UInt64]] = [:]
        var memory: [WalkDimension: [Int: UInt64]] = [:]
        for dimension in [WalkDimension.native, .guest, .nested] {
            for level in 1...5 {
                let m = walkCosts.counter(WalkCounter.made(dimension: dimension, level: level))
                let r = walkCosts.counter(WalkCounter.memory(dimension: dimension, level: level))
                if m > 0 { made[dimension, default: [:]][level] = m }
                if r > 0 { memory[dimension, default: [:]][level] = r }
            }
        }
        referencesMade = made
        memoryReferences = memory
        pwcHits = walkCosts.counter(WalkCounter.pwcHits)
        translationCacheHits = walkCosts.counter(WalkCounter.translationCacheHits)
        skippedReferences = walkCosts.counter(WalkCounter.skipped)
        nestedTLBHits = walkCosts.counter(WalkCounter.nestedTLBHits)
        nestedTLBMisses = walkCosts.counter(WalkCounter.nestedTLBMisses)
        lineHits = (walkCosts.counter(WalkCounter.lineL1), walkCosts.counter(WalkCounter.lineL2),
                    walkCosts.counter(WalkCounter.lineLLC), walkCosts.counter(WalkCounter.lineDRAM))
        walkCycles = walkCosts.walkCycles
        lookupCycles = levels.reduce(0) { $0 + Double($1.hits + $1.misses) * $1.hitLatencyCycles }
    }

    /// References that reached memory.
    public var walkReferences: UInt64 { memoryReferences.values.reduce(0) { $0 + $1.values.reduce(0, +) } }
    /// References the walker made.
    public var walkReferencesMade: UInt64 { referencesMade.values.reduce(0) { $0 + $1.values.reduce(0, +) } }
    /// Memory references per walk.
    public var referencesPerWalk: Double { walks == 0 ? 0 : Double(walkReferences) / Double(walks) }
    /// Lookup plus walk cycles.
    public var predictedCycles: Double { lookupCycles + walkCycles }
    /// Predicted translation cycles per access.
    public var cyclesPerAccess: Double { accesses == 0 ? 0 : predictedCycles / Double(accesses) }

    public static func == (lhs: SimulationStatistics, rhs: SimulationStatistics) -> Bool {
        lhs.accesses == rhs.accesses && lhs.levels == rhs.levels && lhs.walks == rhs.walks
            && lhs.memoryReferences == rhs.memoryReferences && lhs.referencesMade == rhs.referencesMade
            && lhs.pwcHits == rhs.pwcHits && lhs.nestedTLBHits == rhs.nestedTLBHits && lhs.walkCycles == rhs.walkCycles
    }
}
