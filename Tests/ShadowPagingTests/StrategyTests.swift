import Experiments
import ShadowPaging
import TLB
import Testing
import Translation
import Workloads

@Suite("Strategy comparison: TLB, walks and virtualization events")
struct StrategyTests {
    func run(_ strategy: PagingStrategy, _ trace: String, hostPage: PageSize = .size4K, warmup: Int = 0,
             caches: StrategyCacheParameters = StrategyCacheParameters()) throws -> StrategyResult {
        var comparison = StrategyComparison()
        comparison.guestMemoryBytes = 256 << 20
        comparison.hostPageSize = hostPage
        comparison.caches = caches
        return try comparison.run(strategy, events: try GuestOSTrace.parse(trace), warmup: warmup)
    }

    /// No walk cache and no nested TLB: every reference goes to memory.
    var uncached: StrategyCacheParameters {
        var caches = StrategyCacheParameters()
        caches.walkCacheEntries = 0
        caches.nestedTLBEntries = 0
        return caches
    }

    @Test("uncached walks: 4 references native and shadow, 24 nested (4K/4K), 4-level", arguments: [
        (PagingStrategy.native, 4), (.shadow, 4), (.nested, 24), (.agile, 4),
    ])
    func referencesPerWalk(_ strategy: PagingStrategy, _ expected: Int) throws {
        let trace = """
            spawn 1
            spawn 2
            mmap 1 0x400000 8K rw
            access 1 0x400000 w
            access 1 0x401000 w
            switch 2
            switch 1
            access 1 0x400008 r
            access 1 0x400010 r
            """
        let result = try run(strategy, trace, warmup: 7, caches: uncached)
        #expect(result.tlbMisses == 1)
        #expect(result.tlbHits == 1)
        #expect(result.walkReferences == expected)
    }

    @Test("splintering: a guest 2M page on 4K host pages gives 4K TLB entries", arguments: [PagingStrategy.nested, .shadow])
    func splinteredTLBEntries(_ strategy: PagingStrategy) throws {
        let trace = "spawn 1\nmmap 1 0x40000000 2M rw 2M\naccess 1 0x40000000 w\naccess 1 0x40000000 r\naccess 1 0x40001000 r\naccess 1 0x40002000 r\n"
        let small = try run(strategy, trace, hostPage: .size4K, warmup: 3)
        #expect(small.tlbMisses == 2)
        #expect(small.tlbHits == 1)
        let large = try run(strategy, trace, hostPage: .size2M, warmup: 3)
        #expect(large.tlbMisses == 0)
        #expect(large.tlbHits == 3)
    }

    @Test("native and nested take no exits; shadow's exits carry the costs")
    func costComponents() throws {
        let trace = "spawn 1\nmmap 1 0x400000 64K rw\naccess 1 0x400000 w\naccess 1 0x401000 w\naccess 1 0x402000 w\n"
        for strategy in [PagingStrategy.native, .nested] {
            let result = try run(strategy, trace)
            #expect(result.shadow.exits == 0)
            #expect(result.trapCycles + result.exitCycles + result.syncCycles == 0)
            #expect(result.totalCycles == result.walkCycles)
        }
        let shadow = try run(.shadow, trace)
        let costs = StrategyCostParameters()
        #expect(shadow.shadow.pageTableWriteTraps == 1)
        #expect(shadow.trapCycles == costs.pageTableWriteTrapCycles)
        #expect(shadow.exitCycles == Double(shadow.shadow.exits - 1) * costs.exitCycles)
        #expect(shadow.totalCycles == shadow.walkCycles + shadow.trapCycles + shadow.exitCycles + shadow.syncCycles)
    }

    @Test("direction: shadow wins GUPS, nested wins fork churn and a fault storm")
    func direction() throws {
        var comparison = StrategyComparison()
        comparison.guestMemoryBytes = 256 << 20
        let gupsOptions = GuestOSWorkloadOptions(seed: 5, events: 12_000, footprintBytes: 16 << 20)
        let gups = GuestOSWorkload.gups.events(gupsOptions)
        let warm = StrategyComparison.warmup(of: .gups, events: gups, options: gupsOptions)
        #expect(try comparison.run(.shadow, events: gups, warmup: warm).totalCycles
            < comparison.run(.nested, events: gups, warmup: warm).totalCycles)
        for workload in [GuestOSWorkload.forkChurn, .faultStorm] {
            let events = workload.events(GuestOSWorkloadOptions(seed: 5, events: 6_000, footprintBytes: 1 << 20))
            #expect(try comparison.run(.nested, events: events).totalCycles < comparison.run(.shadow, events: events).totalCycles)
        }
    }

    @Test("agile: a table that keeps trapping moves to nested mode, and back when it goes quiet")
    func agileSwitches() throws {
        var comparison = StrategyComparison()
        comparison.guestMemoryBytes = 256 << 20
        comparison.hostPageSize = .size2M
        comparison.policy.intervalEvents = 50
        var trace = "spawn 1\nmmap 1 0x40000000 64M rw 2M\n"
        for page in 0..<32 { trace += "access 1 0x\(String(0x4000_0000 + page << 21, radix: 16)) w\n" }
        for _ in 0..<120 { trace += "access 1 0x40000000 r\n" }
        let result = try comparison.run(.agile, events: try GuestOSTrace.parse(trace))
        #expect(result.agileToNested >= 1)
        #expect(result.agileToShadow >= 1)
        #expect(result.shadow.prefetchedEntries > 0)
        let shadow = try comparison.run(.shadow, events: try GuestOSTrace.parse(trace))
        #expect(result.shadow.pageTableWriteTraps < shadow.shadow.pageTableWriteTraps)
    }

    @Test("the TLB module's hierarchy stands in for the built-in TLB", arguments: [(4, 4 * 4), (5, 0)])
    func tlbHierarchy(_ pages: Int, _ expectedHits: Int) throws {
        var caches = StrategyCacheParameters()
        caches.tlbLevels = [TLBLevelConfiguration(name: "tiny", entries: 4, ways: 4, pageSizes: [.size4K, .size2M, .size1G])]
        var trace = "spawn 1\nmmap 1 0x400000 64K rw\n"
        for page in 0..<pages { trace += "access 1 0x\(String(0x40_0000 + page * 4096, radix: 16)) w\n" }
        for _ in 0..<4 { for page in 0..<pages { trace += "access 1 0x\(String(0x40_0000 + page * 4096 + 8, radix: 16)) r\n" } }
        let result = try run(.shadow, trace, warmup: 2 + pages, caches: caches)
        #expect(result.tlbHits == expectedHits)
        #expect(result.tlbMisses == 4 * pages - expectedHits)
    }

    @Test("the comparison's TLB: cycling ways+1 pages of one set under LRU never hits")
    func tlbLRU() {
        var tlb = StrategyTLB(entries: 16, ways: 4)
        let pages = (0..<5).map { UInt64($0) * 4 * 4096 }  // 4 sets: every 4th page shares set 0
        var hits = 0
        for _ in 0..<10 {
            for page in pages {
                if tlb.lookup(page) { hits += 1 } else { tlb.fill(page, .size4K) }
            }
        }
        #expect(hits == 0)
        tlb.fill(0x4000_0000, .size2M)
        let inside = tlb.lookup(0x4012_3456)
        #expect(inside)
        tlb.invalidate(0x4000_0000)
        let afterInvalidation = tlb.lookup(0x4012_3456)
        #expect(!afterInvalidation)
    }

    @Test("PVM stacking: world switches and L0 exits per guest page fault", arguments: NestedStacking.allCases)
    func pvmStacking(_ stacking: NestedStacking) throws {
        for mode in PagingMode.allCases {
            let log = try PVMStackingModel.guestPageFault(stacking, mode: mode)
            let published = PVMSwitchesReproduction.published(stacking, levels: mode.levels)
            #expect(log.worldSwitches == published.switches)
            #expect(log.l0Exits == published.exits)
            #expect(log.switches.first?.from == .l2)
            #expect(log.switches.last?.to == .l2)
        }
    }
}
