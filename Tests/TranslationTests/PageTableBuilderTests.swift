import Testing
import Translation
import VMemLabTestSupport

@Suite("PageTableBuilder and FrameAllocator")
struct PageTableBuilderTests {
    static let tableBase: UInt64 = 0x10_0000

    static func builder(
        _ format: TableFormat = .x86, _ mode: PagingMode = .fourLevel, tableBytes: UInt64 = 0x10_0000,
        memory: inout SparsePhysicalMemory
    ) throws -> PageTableBuilder {
        try PageTableBuilder(format: format, mode: mode, allocator: FrameAllocator(base: tableBase, size: tableBytes),
                             memory: &memory)
    }

    @Test("a mapping writes permissive table entries and a leaf with the large-page bit where needed",
          arguments: TableFormat.allCases, PageSize.allCases)
    func entriesWritten(format: TableFormat, size: PageSize) throws {
        var memory = SparsePhysicalMemory()
        var builder = try Self.builder(format, memory: &memory)
        let virtual: UInt64 = 0x0000_3F80_4000_0000, physical: UInt64 = 0x1_4000_0000
        let leafBits: UInt64 = format == .x86 ? 0x5 : 0x5 | (6 << 3)
        try builder.map(virtual: virtual, physical: physical, size: size, leafBits: leafBits, memory: &memory)

        #expect(builder.root == Self.tableBase)
        #expect(builder.tables.count == 1 + (4 - size.leafLevel), "one table per level above the leaf")
        #expect(builder.tables.first == builder.root)
        let nonLeaf: UInt64 = format == .x86 ? 0x7 : 0x407
        for level in stride(from: 4, to: size.leafLevel, by: -1) {
            let entry = memory.load64(try #require(builder.entryAddress(of: virtual, level: level, memory: memory)))
            #expect(entry & 0xFFF == nonLeaf, "\(levelName(level)) entry bits")
            #expect(builder.tables.contains(entry & PageTableEntry.addressMask))
        }
        let leaf = memory.load64(try #require(builder.entryAddress(of: virtual, level: size.leafLevel, memory: memory)))
        #expect(leaf == physical | leafBits | (size == .size4K ? 0 : 1 << 7))
    }

    @Test("count maps consecutive pages, and each one walks to its own frame", arguments: PageSize.allCases)
    func countMapsConsecutivePages(size: PageSize) throws {
        var memory = SparsePhysicalMemory()
        var builder = try Self.builder(memory: &memory)
        let virtual: UInt64 = 0x40_0000_0000, physical: UInt64 = 0x80_0000_0000
        try builder.map(virtual: virtual, physical: physical, size: size, count: 5, leafBits: 0x7, memory: &memory)
        for page in 0..<UInt64(5) {
            let address = virtual + page * size.bytes + 0x18
            let result = PageWalker(controls: PagingControls()).walk(address, access: .userRead, root: builder.root,
                                                                     memory: &memory)
            guard case let .translated(translation) = result else {
                Issue.record("page \(page) translates, got \(result)")
                continue
            }
            #expect(translation.physicalAddress == physical + page * size.bytes + 0x18)
            #expect(translation.pageSize == size)
        }
    }

    @Test("a misaligned virtual or physical address is rejected", arguments: [PageSize.size4K, .size2M, .size1G])
    func misaligned(size: PageSize) throws {
        var memory = SparsePhysicalMemory()
        var builder = try Self.builder(memory: &memory)
        let half = size.bytes / 2
        #expect(throws: PageTableBuildError.misaligned(virtual: half, physical: 0, size: size)) {
            try builder.map(virtual: half, physical: 0, size: size, leafBits: 0x7, memory: &memory)
        }
        #expect(throws: PageTableBuildError.misaligned(virtual: 0, physical: 0x1000 + half, size: size)) {
            try builder.map(virtual: 0, physical: 0x1000 + half, size: size, leafBits: 0x7, memory: &memory)
        }
        #expect(builder.tables.count == 1, "nothing was allocated")
    }

    @Test("overlapping mappings are rejected at the level where they meet")
    func overlaps() throws {
        var memory = SparsePhysicalMemory()
        var builder = try Self.builder(memory: &memory)
        try builder.map(virtual: 0x20_0000, physical: 0x4000_0000, size: .size2M, leafBits: 0x7, memory: &memory)
        try builder.map(virtual: 0x4000_0000, physical: 0x8000_0000, size: .size4K, leafBits: 0x7, memory: &memory)

        #expect(throws: PageTableBuildError.overlaps(virtual: 0x20_0000, level: 2), "the same 2M page twice") {
            try builder.map(virtual: 0x20_0000, physical: 0, size: .size2M, leafBits: 0x7, memory: &memory)
        }
        #expect(throws: PageTableBuildError.overlaps(virtual: 0x20_1000, level: 2), "a 4K page inside a 2M page") {
            try builder.map(virtual: 0x20_1000, physical: 0, size: .size4K, leafBits: 0x7, memory: &memory)
        }
        #expect(throws: PageTableBuildError.overlaps(virtual: 0x4000_0000, level: 1), "the same 4K page twice") {
            try builder.map(virtual: 0x4000_0000, physical: 0, size: .size4K, leafBits: 0x7, memory: &memory)
        }
        #expect(throws: PageTableBuildError.overlaps(virtual: 0x4000_0000, level: 2), "a 2M page over a page table") {
            try builder.map(virtual: 0x4000_0000, physical: 0, size: .size2M, leafBits: 0x7, memory: &memory)
        }
        #expect(throws: PageTableBuildError.overlaps(virtual: 0, level: 3), "a 1G page over a page directory") {
            try builder.map(virtual: 0, physical: 0, size: .size1G, leafBits: 0x7, memory: &memory)
        }
        try builder.map(virtual: 0xC000_0000, physical: 0xC000_0000, size: .size1G, leafBits: 0x7, memory: &memory)
        #expect(throws: PageTableBuildError.overlaps(virtual: 0xC000_1000, level: 3), "a 4K page inside a 1G page") {
            try builder.map(virtual: 0xC000_1000, physical: 0, size: .size4K, leafBits: 0x7, memory: &memory)
        }
    }

    @Test("running out of table frames is an error, not a crash")
    func outOfTableMemory() throws {
        var memory = SparsePhysicalMemory()
        #expect(throws: PageTableBuildError.outOfTableMemory(limit: Self.tableBase)) {
            _ = try Self.builder(tableBytes: 0, memory: &memory)
        }
        var builder = try Self.builder(tableBytes: 0x3000, memory: &memory)
        #expect(throws: PageTableBuildError.outOfTableMemory(limit: Self.tableBase + 0x3000)) {
            try builder.map(virtual: 0, physical: 0, size: .size4K, leafBits: 0x7, memory: &memory)
        }
        // Two frames beyond the root are enough for a 1 GiB page.
        var roomy = try Self.builder(tableBytes: 0x2000, memory: &memory)
        try roomy.map(virtual: 0, physical: 0, size: .size1G, leafBits: 0x7, memory: &memory)
        #expect(roomy.tables.count == 2)
    }

    @Test("addresses beyond the hierarchy's width are rejected", arguments: PagingMode.allCases)
    func outOfRange(mode: PagingMode) throws {
        var memory = SparsePhysicalMemory()
        var builder = try Self.builder(.x86, mode, memory: &memory)
        let tooHigh: UInt64 = 1 << mode.addressBits
        #expect(throws: PageTableBuildError.outOfRange(virtual: tooHigh, mode: mode)) {
            try builder.map(virtual: tooHigh, physical: 0, size: .size4K, leafBits: 0x7, memory: &memory)
        }
        let highest: UInt64 = (1 << mode.addressBits) - 0x1000
        try builder.map(virtual: highest, physical: 0, size: .size4K, leafBits: 0x7, memory: &memory)
        #expect(builder.entryAddress(of: highest, level: 1, memory: memory) != nil)
    }

    @Test("entryAddress is nil where the path is missing or a large page ends it")
    func entryAddressOnMissingPaths() throws {
        var memory = SparsePhysicalMemory()
        var builder = try Self.builder(memory: &memory)
        try builder.map(virtual: 0x20_0000, physical: 0, size: .size2M, leafBits: 0x7, memory: &memory)
        #expect(builder.entryAddress(of: 0x20_0000, level: 1, memory: memory) == nil)
        #expect(builder.entryAddress(of: 0x80_0000_0000, level: 3, memory: memory) == nil)
        #expect(builder.entryAddress(of: 0x80_0000_0000, level: 4, memory: memory) != nil, "the root always exists")
    }

    @Test("errors describe the problem with hex addresses")
    func errorDescriptions() {
        #expect(PageTableBuildError.misaligned(virtual: 0x1800, physical: 0, size: .size4K).description
            == "mapping 0x1800 -> 0x0 is not aligned to its 4K page size")
        #expect(PageTableBuildError.outOfRange(virtual: 1 << 48, mode: .fourLevel).description.contains("0x1000000000000"))
        #expect(PageTableBuildError.overlaps(virtual: 0x2000, level: 2).description.contains("PD"))
        #expect(PageTableBuildError.outOfTableMemory(limit: 0x3000).description.contains("0x3000"))
    }

    @Test("a frame allocator hands out consecutive frames until its range ends")
    func frameAllocator() {
        var allocator = FrameAllocator(base: 0x5000, size: 0x2800)
        #expect(allocator.allocate() == 0x5000)
        #expect(allocator.allocate() == 0x6000)
        #expect(allocator.allocate() == nil, "half a frame is not a frame")
        #expect(allocator.next == 0x7000)
        #expect(allocator.limit == 0x7800)
    }
}
