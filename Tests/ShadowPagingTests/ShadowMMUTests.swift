import ShadowPaging
import Testing
import Translation
import VMemLabTestSupport
import Workloads

@Suite("ShadowMMU: hand-written sequences with known counts")
struct ShadowMMUTests {
    @Test("a first touch: one guest fault, one trap on the shadowed root, one shadow fault, four shadow pages")
    func firstTouch() throws {
        var fixture = ShadowFixture()
        try fixture.apply("""
            spawn 1
            mmap 1 0x400000 16K rw
            access 1 0x400000 w
            """)
        let counters = fixture.mmu.counters
        #expect(counters.cr3Loads == 1)
        #expect(counters.rootCacheMisses == 1)
        #expect(counters.guestFaultsInjected == 1)
        #expect(counters.pageTableWriteTraps == 1)  // the PML4E store into the shadowed root
        #expect(counters.shadowFaults == 1)
        #expect(counters.shadowPagesCreated == 4)
        #expect(counters.unsyncs == 0)
        #expect(counters.exits == 4)
        #expect(fixture.violations().isEmpty)
    }

    @Test("a leaf table goes unsync on its first store, is synced by a CR3 load, and traps again after")
    func unsyncAndSync() throws {
        var fixture = ShadowFixture()
        try fixture.apply("""
            spawn 1
            spawn 2
            mmap 1 0x400000 64K rw
            access 1 0x400000 w
            access 1 0x401000 w
            access 1 0x402000 w
            """)
        var counters = fixture.mmu.counters
        #expect(counters.unsyncFaults == 1)  // the first PTE store into the shadowed PT
        #expect(counters.unsyncs == 1)
        #expect(counters.pageTableWriteTraps == 1)  // only the PML4E
        #expect(counters.guestFaultsInjected == 3)
        #expect(counters.shadowFaults == 3)
        try fixture.apply(GuestOSEvent.contextSwitch(2))
        try fixture.apply(GuestOSEvent.contextSwitch(1))
        counters = fixture.mmu.counters
        #expect(counters.rootCacheMisses == 2)
        #expect(counters.rootCacheHits == 1)
        #expect(counters.syncs == 1)
        #expect(counters.syncedEntries == 3)
        try fixture.apply(GuestOSEvent.access(1, address: 0x403000, .write))
        #expect(fixture.mmu.counters.unsyncFaults == 2)
        #expect(fixture.mmu.counters.unsyncs == 2)
        #expect(fixture.violations().isEmpty)
    }

    @Test("every store into a non-leaf table traps: 2M guest pages live in a PD")
    func nonLeafTablesTrap() throws {
        var fixture = ShadowFixture(hostPage: .size2M)
        try fixture.apply("""
            spawn 1
            mmap 1 0x40000000 8M rw 2M
            access 1 0x40000000 w
            access 1 0x40200000 w
            access 1 0x40400000 w
            access 1 0x40600000 w
            """)
        let counters = fixture.mmu.counters
        #expect(counters.pageTableWriteTraps == 4)  // the PML4E, then three PDEs into the shadowed PD
        #expect(counters.unsyncs == 0)
        #expect(counters.flooded == 0)  // a fault through the PD between stores resets its flood count
        #expect(fixture.violations().isEmpty)
    }

    @Test("three stores into a non-leaf table with no fault between zap it as write-flooded")
    func writeFlooding() throws {
        var fixture = ShadowFixture(hostPage: .size2M)
        try fixture.apply("""
            spawn 1
            mmap 1 0x40000000 8M rw 2M
            access 1 0x40000000 w
            fault 1 0x40200000
            fault 1 0x40400000
            fault 1 0x40600000
            """)
        #expect(fixture.mmu.counters.flooded == 1)
        #expect(fixture.violations().isEmpty)
    }

    @Test("without unsync every store into a shadowed leaf table traps")
    func unsyncOff() throws {
        var fixture = ShadowFixture(unsync: false)
        try fixture.apply("""
            spawn 1
            mmap 1 0x400000 64K rw
            access 1 0x400000 w
            access 1 0x401000 w
            access 1 0x402000 w
            """)
        #expect(fixture.mmu.counters.pageTableWriteTraps == 3)
        #expect(fixture.mmu.counters.unsyncs == 0)
        #expect(fixture.violations().isEmpty)
    }

    @Test("a clean page is mapped read-only; its first write faults and sets the guest D bit")
    func dirtyTracking() throws {
        var fixture = ShadowFixture()
        try fixture.apply("""
            spawn 1
            mmap 1 0x400000 16K rw
            fault 1 0x400000
            access 1 0x400000 r
            """)
        let before = fixture.mmu.counters.shadowFaults
        let root = try #require(fixture.kernel.root(of: 1))
        let memory = fixture.mmu.memory, base = fixture.mmu.host.guestBase
        let clean = try #require(ShadowConsistencyOracle.guestWalk(0x400000, root: root, mode: .fourLevel) { memory.load64($0 + base) })
        #expect(clean.leaf & 0x40 == 0)
        try fixture.apply(GuestOSEvent.access(1, address: 0x400008, .write))
        #expect(fixture.mmu.counters.shadowFaults == before + 1)
        let dirty = try #require(ShadowConsistencyOracle.guestWalk(0x400000, root: root, mode: .fourLevel) { memory.load64($0 + base) })
        #expect(dirty.leaf & 0x60 == 0x60)
        #expect(fixture.violations().isEmpty)
    }

    @Test("CR3 switches among more processes than the root cache holds miss")
    func rootCache() throws {
        var fixture = ShadowFixture()
        var trace = ""
        for pid in 1...5 { trace += "spawn \(pid)\n" }
        for _ in 0..<2 { for pid in 1...5 { trace += "switch \(pid)\n" } }
        try fixture.apply(trace)
        #expect(fixture.mmu.counters.cr3Loads == 10)
        #expect(fixture.mmu.counters.rootCacheMisses == 10)  // round robin over 5 with 4 slots: LRU always misses
        var small = ShadowFixture()
        try small.apply("spawn 1\nspawn 2\nswitch 1\nswitch 2\nswitch 1\nswitch 2\n")
        #expect(small.mmu.counters.rootCacheHits == 2)
        #expect(small.mmu.counters.rootCacheMisses == 2)
    }

    @Test("a guest 2M page on 4K host pages is split into 4K shadow leaves under a direct page", arguments: [PageSize.size4K, .size2M])
    func splintering(hostPage: PageSize) throws {
        var fixture = ShadowFixture(hostPage: hostPage)
        try fixture.apply("""
            spawn 1
            mmap 1 0x40000000 2M rw 2M
            access 1 0x40000000 w
            """)
        for offset: UInt64 in [0x1000, 0x1F_F000] {
            guard case let .translated(hostPhysical, size) = fixture.mmu.access(0x4000_0000 + offset, .read) else {
                Issue.record("no translation")
                return
            }
            #expect(size == hostPage)
            let root = try #require(fixture.kernel.root(of: 1))
            let memory = fixture.mmu.memory, base = fixture.mmu.host.guestBase
            let guest = try #require(ShadowConsistencyOracle.guestWalk(0x4000_0000 + offset, root: root, mode: .fourLevel) { memory.load64($0 + base) })
            #expect(guest.size == .size2M)
            #expect(hostPhysical == guest.physical + base)
        }
        let leaf = try #require(leafTable(of: 0x4000_1000, fixture: fixture))
        let info = try #require(fixture.mmu.shadowPageInfo(tableAt: leaf.table))
        if hostPage == .size4K {
            #expect(leaf.level == 1)
            #expect(info.role.direct)
        } else {
            #expect(leaf.level == 2)
            #expect(!info.role.direct)
        }
        #expect(fixture.violations().isEmpty)
    }

    /// The shadow table holding the leaf for `address`, and the leaf's level.
    func leafTable(of address: UInt64, fixture: ShadowFixture) -> (table: UInt64, level: Int)? {
        guard var table = fixture.mmu.currentShadowRoot else { return nil }
        for level in stride(from: 4, through: 1, by: -1) {
            let entry = fixture.mmu.memory.load64(table + PagingMode.index(of: address, at: level) * 8)
            guard entry & 1 != 0 else { return nil }
            if level == 1 || entry & 0x80 != 0 { return (table, level) }
            table = entry & PageTableEntry.addressMask
        }
        return nil
    }

    @Test("the page limit zaps the oldest pages no root holds, and accesses still translate")
    func capacity() throws {
        var fixture = ShadowFixture(maxShadowPages: 12)
        var trace = "spawn 1\nmmap 1 0x0 0x100000000 rw\n"
        for gigabyte: UInt64 in 0..<4 {
            for table: UInt64 in 0..<4 {
                let address = gigabyte << 30 | table << 21
                trace += "access 1 0x" + String(address, radix: 16) + " w\n"
            }
        }
        try fixture.apply(trace)
        #expect(fixture.mmu.counters.recycled > 0)
        #expect(fixture.mmu.pageCount <= 12)
        #expect(fixture.violations().isEmpty)
        guard case .translated = fixture.mmu.access(0x40_0000, .read) else {
            Issue.record("a zapped path was not rebuilt")
            return
        }
    }

    @Test("a fault prefetches the present, accessed neighbours in its aligned group of 8")
    func prefetch() throws {
        var fixture = ShadowFixture()
        var trace = "spawn 1\nmmap 1 0x400000 64K rw\nswitch 1\n"
        for page in 0..<16 { trace += "fault 1 0x\(String(0x40_0000 + page * 4096, radix: 16))\n" }
        try fixture.apply(trace)
        for page in 0..<8 { try fixture.apply(GuestOSEvent.access(1, address: 0x40_0000 + UInt64(page) * 4096, .read)) }
        #expect(fixture.mmu.counters.shadowFaults == 1)
        #expect(fixture.mmu.counters.faultPrefetches == 7)
        try fixture.apply(GuestOSEvent.access(1, address: 0x40_8000, .read))
        #expect(fixture.mmu.counters.shadowFaults == 2)
        // Prefetched leaves of clean pages are read-only: a write faults to set D.
        try fixture.apply(GuestOSEvent.access(1, address: 0x40_1000, .write))
        #expect(fixture.mmu.counters.shadowFaults == 3)
        #expect(fixture.violations().isEmpty)
        var off = ShadowFixture(prefetch: false)
        try off.apply(trace)
        for page in 0..<8 { try off.apply(GuestOSEvent.access(1, address: 0x40_0000 + UInt64(page) * 4096, .read)) }
        #expect(off.mmu.counters.shadowFaults == 8)
    }

    @Test("INVLPG resyncs the one entry it names in an unsync page")
    func invlpgSync() throws {
        var fixture = ShadowFixture()
        try fixture.apply("""
            spawn 1
            mmap 1 0x400000 64K rw
            access 1 0x400000 w
            access 1 0x401000 w
            mprotect 1 0x400000 4K r
            """)
        #expect(fixture.mmu.counters.invlpgs == 1)
        #expect(fixture.mmu.counters.invlpgSyncs == 1)
        #expect(fixture.violations().isEmpty)
        #expect(fixture.mmu.access(0x400000, .write) != .translated(hostPhysical: 0, pageSize: .size4K))
        guard case .guestFault = fixture.mmu.access(0x400000, .write) else {
            Issue.record("a write to a page made read-only did not fault")
            return
        }
    }
}
