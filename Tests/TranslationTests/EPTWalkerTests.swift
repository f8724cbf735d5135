import Testing
import Translation
import VMemLabTestSupport

/// EPT walks (Intel SDM vol. 3C §29.3.2 translation, §29.3.3.1
/// misconfigurations, §29.3.3.2 violations and table 29-7 for the exit
/// qualification, §29.3.5 accessed and dirty flags). Expectations are
/// written out by hand from the manual.
@Suite("EPTWalker: misconfigurations, violations, qualification and A/D")
struct EPTWalkerTests {
    static let hostPhysical: UInt64 = 0x1_4000_0000
    /// Read, write, execute and write-back memory type.
    static let rwxWriteBack: UInt64 = 0x7 | (6 << 3)

    static let layouts: [(PagingMode, PageSize)] = PagingMode.allCases.flatMap { mode in
        PageSize.allCases.map { (mode, $0) }
    }

    static func fixture(_ mode: PagingMode, _ size: PageSize, leafBits: UInt64 = rwxWriteBack) throws -> SinglePathFixture {
        try SinglePathFixture(mode: mode, pageSize: size, virtualAddress: SinglePathFixture.sampleVirtualAddress(mode: .fourLevel),
                              physicalAddress: hostPhysical, leafBits: leafBits, format: .ept)
    }

    static func controls(
        _ fixture: SinglePathFixture, accessedDirty: Bool = false, maxPhysical: Int = 52, executeOnly: Bool = true,
        modeBasedExecute: Bool = false, supports1GPages: Bool = true
    ) -> EPTControls {
        EPTControls(pointer: EPTPointer(root: HostPhysicalAddress(fixture.root), mode: fixture.mode,
                                        accessedDirtyEnabled: accessedDirty),
                    maxPhysicalAddressBits: maxPhysical, executeOnly: executeOnly,
                    modeBasedExecute: modeBasedExecute, supports1GPages: supports1GPages)
    }

    static func walk(
        _ fixture: SinglePathFixture, _ access: AccessType, userLinear: Bool = false, controls: EPTControls
    ) -> EPTWalkResult {
        var memory = fixture.memory
        var observer = NoWalkObserver()
        let address = fixture.virtualAddress + SinglePathFixture.sampleOffset(fixture.pageSize)
        return EPTWalker(controls: controls).walk(address, access: access, userLinear: userLinear, memory: &memory,
                                                  observer: &observer)
    }

    static func accessBit(_ access: AccessType) -> EPTViolationQualification {
        switch access {
        case .read: .read
        case .write: .write
        case .fetch: .fetch
        }
    }

    // MARK: Translation

    @Test("a permissive leaf translates, with the rights AND-ed over the levels", arguments: layouts)
    func translates(mode: PagingMode, size: PageSize) throws {
        let fixture = try Self.fixture(mode, size)
        for access in AccessType.allCases {
            guard case let .translated(translation) = Self.walk(fixture, access, controls: Self.controls(fixture)) else {
                Issue.record("\(mode) \(size) \(access) translates")
                continue
            }
            #expect(translation.hostPhysical == Self.hostPhysical + SinglePathFixture.sampleOffset(size))
            #expect(translation.pageSize == size)
            #expect(translation.rights.isSuperset(of: [.readable, .writable, .executable]))
            #expect(translation.leafEntryAddress == fixture.entryAddresses.last)
        }
    }

    // MARK: Misconfigurations (§29.3.3.1)

    @Test("W without R is a misconfiguration at any level", arguments: layouts)
    func writeWithoutRead(mode: PagingMode, size: PageSize) throws {
        for level in size.leafLevel...mode.levels {
            let fixture = try Self.fixture(mode, size)
            fixture.setEntry(fixture.entry(level: level) & ~1, level: level)
            for access in AccessType.allCases {
                #expect(Self.walk(fixture, access, controls: Self.controls(fixture)) == .misconfiguration(level: level),
                        "W|X without R at \(levelName(level)), \(access)")
            }
        }
    }

    @Test("X without R is a misconfiguration only where execute-only is unsupported", arguments: layouts)
    func executeWithoutRead(mode: PagingMode, size: PageSize) throws {
        for level in size.leafLevel...mode.levels {
            let fixture = try Self.fixture(mode, size)
            fixture.setEntry(fixture.entry(level: level) & ~3, level: level)
            #expect(Self.walk(fixture, .fetch, controls: Self.controls(fixture, executeOnly: false))
                == .misconfiguration(level: level), "X only at \(levelName(level)) without execute-only support")
            let executeOnly = Self.controls(fixture, executeOnly: true)
            guard case .translated = Self.walk(fixture, .fetch, controls: executeOnly) else {
                Issue.record("an execute-only \(levelName(level)) entry allows fetches")
                continue
            }
            #expect(Self.walk(fixture, .read, controls: executeOnly)
                == .violation([.read, .executable], level: size.leafLevel), "read through execute-only \(levelName(level))")
        }
    }

    @Test("address bits at and above MAXPHYADDR are reserved", arguments: [36, 39, 46])
    func addressBitsAboveMaxPhysical(maxPhysical: Int) throws {
        for (mode, size) in Self.layouts {
            for level in size.leafLevel...mode.levels {
                let fixture = try Self.fixture(mode, size)
                fixture.setEntry(fixture.entry(level: level) | (1 << UInt64(maxPhysical)), level: level)
                #expect(Self.walk(fixture, .read, controls: Self.controls(fixture, maxPhysical: maxPhysical))
                    == .misconfiguration(level: level), "\(mode) \(size): bit \(maxPhysical) at \(levelName(level))")
            }
        }
    }

    @Test("bits 7:3 of a PML5E or PML4E and 6:3 of a non-leaf PDPTE or PDE are reserved",
          arguments: [PagingMode.fourLevel, .fiveLevel])
    func nonLeafReservedBits(mode: PagingMode) throws {
        for level in 2...mode.levels {
            let topBit = level >= 4 ? 7 : 6
            for bit in 3...topBit {
                let fixture = try Self.fixture(mode, .size4K)
                fixture.setEntry(fixture.entry(level: level) | (1 << UInt64(bit)), level: level)
                #expect(Self.walk(fixture, .read, controls: Self.controls(fixture)) == .misconfiguration(level: level),
                        "bit \(bit) of the \(levelName(level))E")
            }
        }
    }

    @Test("bits 20:12 of a 2 MiB leaf and 29:12 of a 1 GiB leaf are reserved", arguments: [PageSize.size2M, .size1G])
    func largeLeafReservedBits(size: PageSize) throws {
        let topBit = size == .size2M ? 20 : 29
        for bit in 12...topBit {
            let fixture = try Self.fixture(.fourLevel, size)
            fixture.setEntry(fixture.entry(level: size.leafLevel) | (1 << UInt64(bit)), level: size.leafLevel)
            #expect(Self.walk(fixture, .read, controls: Self.controls(fixture))
                == .misconfiguration(level: size.leafLevel), "bit \(bit) of a \(size) leaf")
        }
    }

    @Test("memory types 2, 3 and 7 are reserved in a leaf; 0, 1, 4, 5, 6 are valid",
          arguments: PageSize.allCases, 0..<UInt64(8))
    func memoryTypes(size: PageSize, type: UInt64) throws {
        let fixture = try Self.fixture(.fourLevel, size, leafBits: 0x7 | (type << 3))
        let result = Self.walk(fixture, .read, controls: Self.controls(fixture))
        if [2, 3, 7].contains(type) {
            #expect(result == .misconfiguration(level: size.leafLevel))
        } else {
            guard case .translated = result else {
                Issue.record("memory type \(type) is valid, got \(result)")
                return
            }
        }
    }

    @Test("a 1 GiB leaf is a misconfiguration when 1 GiB EPT pages are unsupported",
          arguments: [PagingMode.fourLevel, .fiveLevel])
    func oneGigabyteUnsupported(mode: PagingMode) throws {
        let fixture = try Self.fixture(mode, .size1G)
        #expect(Self.walk(fixture, .read, controls: Self.controls(fixture, supports1GPages: false))
            == .misconfiguration(level: 3))
    }

    @Test("a not-present entry is a violation whatever its other bits", arguments: layouts)
    func notPresentIsAViolation(mode: PagingMode, size: PageSize) throws {
        for level in size.leafLevel...mode.levels {
            let fixture = try Self.fixture(mode, size)
            // Bits 2:0 clear; bit 7 and memory type 7 would be misconfigurations if it were present.
            fixture.setEntry(fixture.entry(level: level) & ~7 | (7 << 3) | (1 << 7), level: level)
            for access in AccessType.allCases {
                #expect(Self.walk(fixture, access, controls: Self.controls(fixture))
                    == .violation(Self.accessBit(access), level: level),
                    "not present at \(levelName(level)): the rights bits AND to 0")
            }
        }
    }

    // MARK: Violations (§29.3.3.2) and the qualification (table 29-7)

    @Test("an access the rights deny is a violation, with rights bits AND-ed over the levels", arguments: layouts)
    func rightsViolations(mode: PagingMode, size: PageSize) throws {
        // R and X at the leaf: writes are denied.
        var fixture = try Self.fixture(mode, size, leafBits: 0x5 | (6 << 3))
        #expect(Self.walk(fixture, .write, controls: Self.controls(fixture))
            == .violation([.write, .readable, .executable], level: size.leafLevel))
        // R and W at the leaf, R only at the root: writes and fetches are denied, reads allowed.
        fixture = try Self.fixture(mode, size, leafBits: 0x3 | (6 << 3))
        fixture.setEntry(fixture.entry(level: mode.levels) & ~6, level: mode.levels)
        #expect(Self.walk(fixture, .write, controls: Self.controls(fixture))
            == .violation([.write, .readable], level: size.leafLevel))
        #expect(Self.walk(fixture, .fetch, controls: Self.controls(fixture))
            == .violation([.fetch, .readable], level: size.leafLevel))
        guard case let .translated(translation) = Self.walk(fixture, .read, controls: Self.controls(fixture)) else {
            Issue.record("R at every level allows reads")
            return
        }
        #expect(translation.rights == [.readable])
    }

    @Test("with mode-based execute control, bit 2 governs supervisor fetches and bit 10 user fetches (bit 6)")
    func modeBasedExecute() throws {
        let supervisorOnly = try Self.fixture(.fourLevel, .size4K, leafBits: 0x7 | (6 << 3))
        let mbec = Self.controls(supervisorOnly, modeBasedExecute: true)
        guard case .translated = Self.walk(supervisorOnly, .fetch, userLinear: false, controls: mbec) else {
            Issue.record("bit 2 allows supervisor-mode fetches")
            return
        }
        #expect(Self.walk(supervisorOnly, .fetch, userLinear: true, controls: mbec)
            == .violation([.fetch, .readable, .writable, .executable], level: 1))

        let userOnly = try Self.fixture(.fourLevel, .size4K, leafBits: 0x3 | (1 << 10) | (6 << 3))
        let userControls = Self.controls(userOnly, modeBasedExecute: true)
        guard case let .translated(translation) = Self.walk(userOnly, .fetch, userLinear: true, controls: userControls)
        else {
            Issue.record("bit 10 allows user-mode fetches")
            return
        }
        #expect(translation.rights == [.readable, .writable, .userExecutable])
        #expect(Self.walk(userOnly, .fetch, userLinear: false, controls: userControls)
            == .violation([.fetch, .readable, .writable, .userExecutable], level: 1))
    }

    // MARK: Accessed and dirty flags (§29.3.5)

    @Test("EPT A/D bits are set only when the EPTP enables them", arguments: layouts)
    func accessedDirty(mode: PagingMode, size: PageSize) throws {
        for access in AccessType.allCases {
            let fixture = try Self.fixture(mode, size)
            guard case .translated = Self.walk(fixture, access, controls: Self.controls(fixture, accessedDirty: false))
            else {
                Issue.record("\(access) translates")
                continue
            }
            #expect(fixture.entries == fixture.builtEntries, "A/D disabled: bits 8 and 9 stay clear")

            guard case .translated = Self.walk(fixture, access, controls: Self.controls(fixture, accessedDirty: true))
            else {
                Issue.record("\(access) translates")
                continue
            }
            var expected = fixture.builtEntries.map { $0 | (1 << 8) }
            if access == .write { expected[expected.count - 1] |= 1 << 9 }
            #expect(fixture.entries == expected, "A/D enabled: A on every entry, D on the leaf of a write (\(access))")
        }
    }

    @Test("a misconfiguration or a violation is never a translation, and sets no A/D bit")
    func faultsSetNothing() throws {
        let fixture = try Self.fixture(.fourLevel, .size4K, leafBits: 0x2 | (6 << 3))
        #expect(Self.walk(fixture, .read, controls: Self.controls(fixture, accessedDirty: true))
            == .misconfiguration(level: 1))
        #expect(fixture.entries == fixture.builtEntries)
    }
}
