import Testing
import Translation
import VMemLabTestSupport

/// Reserved bits per level (SDM vol. 3A §4.5, the entry-format tables, and
/// §4.7 for the RSVD error code) and canonical addresses. Expectations are
/// written out by hand from the manual.
@Suite("PageWalker: reserved bits and canonical addresses")
struct ReservedBitTests {
    static let physical: UInt64 = 0x1_4000_0000

    static func fixture(_ mode: PagingMode, _ size: PageSize, leafBits: UInt64 = 0x7) throws -> SinglePathFixture {
        try SinglePathFixture(mode: mode, pageSize: size, virtualAddress: SinglePathFixture.sampleVirtualAddress(mode: mode),
                              physicalAddress: physical, leafBits: leafBits)
    }

    static func walk(
        _ fixture: SinglePathFixture, _ access: MemoryAccess = .userRead, controls: PagingControls
    ) -> WalkResult {
        var memory = fixture.memory
        let address = fixture.virtualAddress + SinglePathFixture.sampleOffset(fixture.pageSize)
        return PageWalker(controls: controls).walk(address, access: access, root: fixture.root, memory: &memory)
    }

    /// The RSVD fault an access gets at `level`: P and RSVD, with W/R, U/S
    /// and I/D describing the access (NXE is on in these controls).
    static func reservedFault(_ access: MemoryAccess, level: Int) -> WalkResult {
        var code: PageFaultErrorCode = [.present, .reservedBit]
        if access.type == .write { code.insert(.write) }
        if access.type == .fetch { code.insert(.instructionFetch) }
        if access.privilege == .user { code.insert(.user) }
        return .fault(PageFault(errorCode: code, level: level))
    }

    static let sampleAccesses: [MemoryAccess] = [
        .userRead, .userWrite, MemoryAccess(.fetch, .user), .supervisorRead, MemoryAccess(.write, .implicitSupervisor),
    ]

    @Test("PS in a PML5E or PML4E is reserved", arguments: [PagingMode.fourLevel, .fiveLevel], sampleAccesses)
    func pageSizeInTopLevels(mode: PagingMode, access: MemoryAccess) throws {
        for level in 4...mode.levels {
            let fixture = try Self.fixture(mode, .size4K)
            let before = fixture.entries
            fixture.setEntry(fixture.entry(level: level) | (1 << 7), level: level)
            let result = Self.walk(fixture, access, controls: PagingControls(mode: mode))
            #expect(result == Self.reservedFault(access, level: level), "PS at \(levelName(level))")
            var expected = before
            expected[fixture.index(ofLevel: level)] |= 1 << 7
            #expect(fixture.entries == expected, "a faulting walk sets no A/D bit")
        }
    }

    @Test("a 1 GiB leaf is reserved when the CPU lacks 1 GiB pages", arguments: [PagingMode.fourLevel, .fiveLevel])
    func oneGigabytePagesUnsupported(mode: PagingMode) throws {
        let fixture = try Self.fixture(mode, .size1G)
        let unsupported = PagingControls(mode: mode, supports1GPages: false)
        #expect(Self.walk(fixture, controls: unsupported) == Self.reservedFault(.userRead, level: 3))
        guard case let .translated(translation) = Self.walk(fixture, controls: PagingControls(mode: mode)) else {
            Issue.record("a supported 1 GiB page translates")
            return
        }
        #expect(translation.pageSize == .size1G)
        #expect(translation.physicalAddress == Self.physical + SinglePathFixture.sampleOffset(.size1G))
    }

    @Test("address bits at and above MAXPHYADDR are reserved at every level", arguments: [36, 39, 46, 52])
    func addressBitsAboveMaxPhysical(maxPhysical: Int) throws {
        let controls = PagingControls(mode: .fourLevel, maxPhysicalAddressBits: maxPhysical)
        for level in 1...4 {
            for bit in Set([maxPhysical, 51]) where bit >= maxPhysical && bit < 52 {
                let fixture = try Self.fixture(.fourLevel, .size4K)
                fixture.setEntry(fixture.entry(level: level) | (1 << UInt64(bit)), level: level)
                #expect(Self.walk(fixture, controls: controls) == Self.reservedFault(.userRead, level: level),
                        "bit \(bit) at \(levelName(level)) with MAXPHYADDR \(maxPhysical)")
            }
            // Bit MAXPHYADDR − 1 is an address bit: a table there is empty, so
            // the walk finds the next entry not present; a leaf maps there.
            let fixture = try Self.fixture(.fourLevel, .size4K)
            let highestAddressBit: UInt64 = 1 << UInt64(maxPhysical - 1)
            fixture.setEntry(fixture.entry(level: level) | highestAddressBit, level: level)
            let result = Self.walk(fixture, controls: controls)
            if level == 1 {
                guard case let .translated(translation) = result else {
                    Issue.record("bit \(maxPhysical - 1) in a PTE is an address bit, got \(result)")
                    continue
                }
                #expect(translation.physicalAddress
                    == (Self.physical | highestAddressBit) + SinglePathFixture.sampleOffset(.size4K))
            } else {
                #expect(result == .fault(PageFault(errorCode: [.user], level: level - 1)),
                        "bit \(maxPhysical - 1) at \(levelName(level)) points to an empty table")
            }
        }
    }

    @Test("XD is reserved without EFER.NXE and denies fetches with it", arguments: [PagingMode.fourLevel, .fiveLevel])
    func executeDisable(mode: PagingMode) throws {
        for level in 1...mode.levels {
            let fixture = try Self.fixture(mode, .size4K)
            fixture.setEntry(fixture.entry(level: level) | (1 << 63), level: level)
            let withoutNXE = PagingControls(mode: mode, noExecute: false)
            #expect(Self.walk(fixture, .userRead, controls: withoutNXE)
                == .fault(PageFault(errorCode: [.present, .reservedBit, .user], level: level)),
                "XD at \(levelName(level)) with NXE = 0")
            let withNXE = PagingControls(mode: mode, noExecute: true)
            #expect(Self.walk(fixture, MemoryAccess(.fetch, .user), controls: withNXE)
                == .fault(PageFault(errorCode: [.present, .user, .instructionFetch], level: 1)),
                "XD at \(levelName(level)) denies a fetch, reported at the leaf")
            guard case let .translated(translation) = Self.walk(fixture, .userRead, controls: withNXE) else {
                Issue.record("XD with NXE = 1 allows reads")
                continue
            }
            #expect(!translation.rights.contains(.executable))
        }
    }

    @Test("bits 20:13 of a 2 MiB leaf and 29:13 of a 1 GiB leaf are reserved; bit 12 is PAT",
          arguments: [PageSize.size2M, .size1G])
    func largeLeafReservedBits(size: PageSize) throws {
        let controls = PagingControls(mode: .fourLevel)
        let topReserved = size == .size2M ? 20 : 29
        for bit in 13...topReserved {
            let fixture = try Self.fixture(.fourLevel, size)
            fixture.setEntry(fixture.entry(level: size.leafLevel) | (1 << UInt64(bit)), level: size.leafLevel)
            #expect(Self.walk(fixture, controls: controls) == Self.reservedFault(.userRead, level: size.leafLevel),
                    "bit \(bit) of a \(size) leaf")
        }
        let fixture = try Self.fixture(.fourLevel, size, leafBits: 0x7 | PageTableEntry.Flags.patLarge.rawValue)
        guard case let .translated(translation) = Self.walk(fixture, controls: controls) else {
            Issue.record("PAT (bit 12) of a large leaf is not reserved")
            return
        }
        #expect(translation.physicalAddress == Self.physical + SinglePathFixture.sampleOffset(size),
                "PAT is not part of the page address")
    }

    @Test("bit 7 of a PTE is PAT, and bits 62:52 are ignored")
    func ignoredAndPATBitsOfAPTE() throws {
        let fixture = try Self.fixture(.fourLevel, .size4K, leafBits: 0x7 | PageTableEntry.Flags.pat4K.rawValue
            | (0x3F << 52) | PageTableEntry.Flags.global.rawValue)
        guard case let .translated(translation) = Self.walk(fixture, controls: PagingControls(mode: .fourLevel)) else {
            Issue.record("PAT, G and the ignored bits 57:52 fault nothing")
            return
        }
        #expect(translation.physicalAddress == Self.physical + SinglePathFixture.sampleOffset(.size4K))
        #expect(translation.pageSize == .size4K)
    }

    static let canonicalCases: [(PagingMode, UInt64, Bool)] = [
        (.fourLevel, 0x0000_7FFF_FFFF_F000, true),
        (.fourLevel, 0xFFFF_8000_0000_0000, true),
        (.fourLevel, 0x0000_8000_0000_0000, false),
        (.fourLevel, 0xFFFF_7FFF_FFFF_F000, false),
        (.fourLevel, 0x8000_0000_0000_0000, false),
        (.fourLevel, 0x00A5_3F80_4000_0000, false),
        (.fiveLevel, 0x0000_8000_0000_0000, true),
        (.fiveLevel, 0x00FF_FFFF_FFFF_F000, true),
        (.fiveLevel, 0xFF00_0000_0000_0000, true),
        (.fiveLevel, 0x0100_0000_0000_0000, false),
        (.fiveLevel, 0xFEFF_FFFF_FFFF_F000, false),
        (.fiveLevel, 0x7F00_0000_0000_0000, false),
    ]

    @Test("non-canonical addresses give .nonCanonical, canonical ones walk", arguments: canonicalCases)
    func canonical(mode: PagingMode, address: UInt64, isCanonical: Bool) throws {
        let fixture = try Self.fixture(mode, .size4K)
        var memory = fixture.memory
        let result = PageWalker(controls: PagingControls(mode: mode))
            .walk(address, access: .userRead, root: fixture.root, memory: &memory)
        #expect((result == .nonCanonical) == !isCanonical, "\(mode) 0x\(String(address, radix: 16)): \(result)")
        #expect(fixture.entries == fixture.builtEntries, "no entry changes unless the sample page is reached")
    }
}
