import Testing
import TLB
import Translation
import Workloads

/// A one-entry TLB, so every access to a new page walks.
func tinyTLB(walkCache: WalkCacheConfiguration, nestedTLB: NestedTLBConfiguration? = nil) -> TLBConfiguration {
    TLBConfiguration(levels: [TLBLevelConfiguration(name: "L1", entries: 1, ways: 1, pageSizes: [.size4K, .size2M, .size1G])],
                     walkCache: walkCache, nestedTLB: nestedTLB)
}

/// Memory references of the walk of `address` after warming with `warm`.
func referencesAfterWarming<Engine: TranslationEngine>(
    _ configuration: TLBConfiguration, engine: Engine, warm: UInt64, address: UInt64
) throws -> UInt64 {
    var simulator = try TranslationSimulator(configuration: configuration, engine: engine)
    try simulator.access(AccessRecord(address: warm))
    let before = simulator.statistics.walkReferences
    try simulator.access(AccessRecord(address: address))
    #expect(simulator.statistics.walks == 2)
    return simulator.statistics.walkReferences - before
}

@Suite("Paging-structure caches")
struct WalkCacheTests {
    static let base: UInt64 = 0x1000_0000_0000
    /// Second addresses sharing the PD table (same 2M), the PDPT (same 1G),
    /// the PML4 (same 512G) or nothing, with the references a warm walk needs.
    static let distances: [(UInt64, UInt64)] = [
        (base + 0x5000, 1), (base + 0x20_0000, 2), (base + 0x4000_0000, 3), (base + (1 << 39), 4),
    ]
    static let designs: [WalkCacheConfiguration] = [
        WalkCacheConfiguration(design: .pwc, entries: 32, ways: 32),
        WalkCacheConfiguration(design: .translation, entries: 32, ways: 32),
        WalkCacheConfiguration(design: .translation, splitEntries: [2: 32, 3: 4, 4: 2]),
    ]

    @Test("with warm caches a native walk takes as few steps as the address distance allows",
          arguments: designs, distances.map(\.0))
    func nativeDistance(design: WalkCacheConfiguration, address: UInt64) throws {
        let expected = Self.distances.first { $0.0 == address }!.1
        let refs = try referencesAfterWarming(tinyTLB(walkCache: design), engine: try NativeEngine(pageSize: .size4K),
                                              warm: Self.base, address: address)
        #expect(refs == expected)
    }

    @Test("without a cache every walk takes every step", arguments: distances.map(\.0))
    func noCache(address: UInt64) throws {
        let refs = try referencesAfterWarming(tinyTLB(walkCache: .none), engine: try NativeEngine(pageSize: .size4K),
                                              warm: Self.base, address: address)
        #expect(refs == 4)
    }

    @Test("2M pages: one level fewer, and the caches skip above it")
    func largePages() throws {
        let pwc = WalkCacheConfiguration(design: .translation, entries: 16, ways: 16)
        let refs = try referencesAfterWarming(tinyTLB(walkCache: pwc), engine: try NativeEngine(pageSize: .size2M),
                                              warm: Self.base, address: Self.base + 0x20_0000)
        #expect(refs == 1)
    }

    @Test("nested: an uncached 2D walk makes 24 references; each Bhargava design makes fewer")
    func nestedDesigns() throws {
        func refs(_ walkCache: WalkCacheConfiguration, _ nested: NestedTLBConfiguration? = nil) throws -> UInt64 {
            try referencesAfterWarming(tinyTLB(walkCache: walkCache, nestedTLB: nested),
                                       engine: try NestedEngine(guestPageSize: .size4K, hostPageSize: .size4K),
                                       warm: Self.base, address: Self.base + 0x5000)
        }
        let none = try refs(.none)
        let oneD = try refs(WalkCacheConfiguration(design: .pwc, entries: 64, ways: 64, scope: .guest))
        let twoD = try refs(WalkCacheConfiguration(design: .pwc, entries: 64, ways: 64, scope: .all))
        let withNTLB = try refs(WalkCacheConfiguration(design: .pwc, entries: 64, ways: 64, scope: .all),
                                NestedTLBConfiguration(entries: 16))
        #expect(none == 24)
        // 1D PWC: the 3 upper guest entries hit; 20 nested + 1 guest leaf remain.
        #expect(oneD == 21)
        // 2D PWC: also the upper 3 of each of the 5 nested walks hit: 5 nested leaves + 1 guest leaf.
        #expect(twoD == 6)
        // + nested TLB: the guest tables' nested walks hit; only the data page's is new, and its
        // upper entries hit the PWC: 1 nested leaf + 1 guest leaf.
        #expect(withNTLB == 2)
    }

    @Test("INVLPG and a flushing CR3 write empty the paging-structure caches; no-flush keeps them")
    func invalidation() throws {
        for design in Self.designs {
            var simulator = try TranslationSimulator(configuration: tinyTLB(walkCache: design), engine: try NativeEngine(pageSize: .size4K))
            simulator.tlb.pcidEnabled = true
            try simulator.access(AccessRecord(address: Self.base))
            simulator.invalidatePage(Self.base)
            var before = simulator.statistics.walkReferences
            try simulator.access(AccessRecord(address: Self.base + 0x1000))
            #expect(simulator.statistics.walkReferences - before == 4)
            simulator.writeCR3(1 << 63)
            before = simulator.statistics.walkReferences
            try simulator.access(AccessRecord(address: Self.base + 0x2000))
            #expect(simulator.statistics.walkReferences - before == 1)
        }
    }
}
