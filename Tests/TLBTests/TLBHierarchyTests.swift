import Testing
import TLB
import Translation

func twoLevels(l1Ways: Int = 4) throws -> TLBHierarchy {
    try TLBHierarchy(levels: [
        TLBLevelConfiguration(name: "L1D", kind: .data, arrays: [
            TLBArrayConfiguration(entries: 64, ways: l1Ways, pageSizes: [.size4K]),
            TLBArrayConfiguration(entries: 32, ways: 4, pageSizes: [.size2M]),
        ]),
        TLBLevelConfiguration(name: "L2", entries: 512, ways: 8, pageSizes: [.size4K, .size2M]),
    ])
}

/// Looks up `address`; on a miss fills it as a walk would.
@discardableResult
func translate(_ tlb: TLBHierarchy, _ address: UInt64, size: PageSize = .size4K, global: Bool = false,
               type: AccessType = .read) -> Int? {
    if let hit = tlb.lookup(address, type: type) { return hit.level }
    tlb.fill(address, size: size, frame: address & ~size.offsetMask, global: global, type: type)
    return nil
}

@Suite("TLB hierarchy")
struct TLBHierarchyTests {
    @Test("ways + 1 pages of one L1 set under LRU: zero L1 hits")
    func lruKnownAnswer() throws {
        let tlb = try TLBHierarchy(levels: [TLBLevelConfiguration(name: "L1", entries: 64, ways: 4)])
        for _ in 0..<20 { for page in 0..<5 { translate(tlb, UInt64(page * 16) << 12) } }
        #expect(tlb.hits(0) == 0)
        #expect(tlb.misses(0) == 100)
    }

    @Test("the set index is the page number at the entry's size modulo the sets")
    func setIndex() throws {
        let tlb = try TLBHierarchy(levels: [TLBLevelConfiguration(name: "L1", entries: 64, ways: 4, pageSizes: [.size4K, .size2M])])
        translate(tlb, 0x5000)
        translate(tlb, 0x40_0000 * 3, size: .size2M)
        let array = tlb.array(0)
        #expect(array.tags(inSet: 5) == [TLBHierarchy.tag(0x5000, .size4K)])
        #expect(array.tags(inSet: 6) == [TLBHierarchy.tag(0xC0_0000, .size2M)])
    }

    @Test("a hit in L2 fills L1; a walk fills every level holding the size")
    func inclusiveFill() throws {
        let tlb = try twoLevels()
        translate(tlb, 0x1234_5000)
        #expect(tlb.contains(0x1234_5000, size: .size4K, level: 0))
        #expect(tlb.contains(0x1234_5000, size: .size4K, level: 1))
        // Evict it from L1 (4 ways, set of page 0x12345) with 4 other pages of that set.
        for index in 1...4 { translate(tlb, 0x1234_5000 + UInt64(index * 16) << 12) }
        #expect(!tlb.contains(0x1234_5000, size: .size4K, level: 0))
        #expect(translate(tlb, 0x1234_5008) == 1)
        #expect(tlb.contains(0x1234_5000, size: .size4K, level: 0))
        #expect(translate(tlb, 0x1234_5010) == 0)
    }

    @Test("instruction fetches use the ITLB and the unified level, data the DTLB")
    func instructionPath() throws {
        let tlb = try TLBHierarchy(levels: [
            TLBLevelConfiguration(name: "L1I", entries: 8, ways: 8, kind: .instruction),
            TLBLevelConfiguration(name: "L1D", entries: 8, ways: 8, kind: .data),
            TLBLevelConfiguration(name: "L2", entries: 64, ways: 4),
        ])
        translate(tlb, 0x40_0000, type: .fetch)
        #expect(tlb.contains(0x40_0000, size: .size4K, level: 0))
        #expect(!tlb.contains(0x40_0000, size: .size4K, level: 1))
        #expect(translate(tlb, 0x40_0000, type: .read) == 2)
        #expect(tlb.contains(0x40_0000, size: .size4K, level: 1))
    }

    @Test("INVLPG removes every page size covering the address, and only those")
    func invlpg() throws {
        let tlb = try twoLevels()
        translate(tlb, 0x20_1000)
        translate(tlb, 0x40_0000, size: .size2M)
        translate(tlb, 0x60_0000, size: .size2M)
        tlb.invalidatePage(0x40_3000)
        #expect(!tlb.contains(0x40_0000, size: .size2M, level: 0))
        #expect(!tlb.contains(0x40_0000, size: .size2M, level: 1))
        #expect(tlb.contains(0x60_0000, size: .size2M, level: 0))
        #expect(tlb.contains(0x20_1000, size: .size4K, level: 1))
        tlb.invalidatePage(0x20_1FFF)
        #expect(!tlb.contains(0x20_1000, size: .size4K, level: 0))
        #expect(!tlb.contains(0x20_1000, size: .size4K, level: 1))
    }

    @Test("a CR3 write without PCID flushes everything but global pages")
    func cr3WithoutPCID() throws {
        let tlb = try twoLevels()
        translate(tlb, 0x1000)
        translate(tlb, 0x2000, global: true)
        tlb.writeCR3(0x5000)
        #expect(!tlb.contains(0x1000, size: .size4K, level: 0))
        #expect(tlb.contains(0x2000, size: .size4K, level: 0))
        #expect(translate(tlb, 0x2000) == 0)
    }

    @Test("PCIDs isolate address spaces; the no-flush bit keeps a PCID's entries")
    func pcidIsolation() throws {
        let tlb = try twoLevels()
        tlb.pcidEnabled = true
        tlb.writeCR3(0x1000 | 1)
        translate(tlb, 0x7000)
        tlb.writeCR3(0x2000 | 2)
        #expect(translate(tlb, 0x7000) == nil, "PCID 2 does not see PCID 1's entry")
        tlb.writeCR3(0x1000 | 1 | 1 << 63)
        #expect(translate(tlb, 0x7000) == 0, "no-flush: PCID 1's entry survives")
        tlb.writeCR3(0x2000 | 2 | 1 << 63)
        tlb.writeCR3(0x1000 | 1)
        #expect(!tlb.contains(0x7000, size: .size4K, level: 0), "a flushing CR3 write empties PCID 1")
        #expect(tlb.entries(ofLevel: 0).contains { $0.page == 0x7000 && $0.context.pcid == 2 },
                "PCID 2's entry stays after PCID 1 is flushed")
    }

    @Test("INVPCID types", arguments: INVPCIDType.allCases)
    func invpcid(type: INVPCIDType) throws {
        let tlb = try twoLevels()
        tlb.pcidEnabled = true
        tlb.writeCR3(1)
        translate(tlb, 0x1000)
        translate(tlb, 0x3000)
        translate(tlb, 0x9000, global: true)
        tlb.writeCR3(2 | 1 << 63)
        translate(tlb, 0x1000)
        tlb.invalidatePCID(type, pcid: 1, address: 0x1000)
        let remaining = Set(tlb.entries(ofLevel: 1).map { "\($0.page):\($0.context.isGlobal ? "g" : String($0.context.pcid))" })
        let expected: Set<String>
        switch type {
        case .individualAddress: expected = ["12288:1", "36864:g", "4096:2"]
        case .singleContext: expected = ["36864:g", "4096:2"]
        case .allContextsIncludingGlobal: expected = []
        case .allContextsExceptGlobal: expected = ["36864:g"]
        }
        #expect(remaining == expected)
    }

    @Test("global entries match every PCID, and disappear when CR4.PGE changes")
    func globalPages() throws {
        let tlb = try twoLevels()
        tlb.pcidEnabled = true
        tlb.writeCR3(3)
        translate(tlb, 0xA000, global: true)
        tlb.writeCR3(4)
        #expect(translate(tlb, 0xA000) == 0)
        tlb.setGlobalPagesEnabled(false)
        #expect(translate(tlb, 0xA000) == nil)
        translate(tlb, 0xB000, global: true)
        #expect(tlb.entries(ofLevel: 0).allSatisfy { !$0.context.isGlobal }, "without CR4.PGE, G makes no global entry")
    }

    @Test("VPIDs isolate virtual machines, and INVVPID flushes one")
    func vpidIsolation() throws {
        let tlb = try twoLevels()
        tlb.setContext(TLBContext(vpid: 1))
        translate(tlb, 0x1000, global: true)
        tlb.setContext(TLBContext(vpid: 2))
        #expect(translate(tlb, 0x1000) == nil, "a global entry of VPID 1 is not VPID 2's")
        tlb.invalidateVPID(1)
        tlb.setContext(TLBContext(vpid: 1))
        #expect(translate(tlb, 0x1000) == nil)
    }

    @Test("the repeat-access shortcut counts exactly what lookups would")
    func shortcutIsExact() throws {
        let fast = try twoLevels()
        let slow = try twoLevels()
        var random = SplitMixForTests(seed: 11)
        for _ in 0..<20_000 {
            let page = random.next() % 200
            let repeats = Int(random.next() % 3) + 1
            for _ in 0..<repeats { translate(fast, page << 12) }
            for _ in 0..<repeats {
                translate(slow, page << 12)
                slow.invalidatePage(0xFFFF_F000_0000)  // defeats the shortcut, changes nothing else
            }
        }
        #expect(fast.hits(0) == slow.hits(0) && fast.misses(0) == slow.misses(0))
        #expect(fast.hits(1) == slow.hits(1) && fast.misses(1) == slow.misses(1))
    }

    @Test("bad geometry is rejected with its reason")
    func badGeometry() {
        #expect(throws: TLBConfigurationError.invalid("level 'X': entries (10) is not divisible by ways (4)")) {
            try TLBHierarchy(levels: [TLBLevelConfiguration(name: "X", entries: 10, ways: 4)])
        }
        #expect(throws: TLBConfigurationError.self) {
            try TLBHierarchy(levels: [TLBLevelConfiguration(name: "P", entries: 12, ways: 6, replacement: .treePLRU)])
        }
    }
}

struct SplitMixForTests {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
