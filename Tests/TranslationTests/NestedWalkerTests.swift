import Testing
import Translation
import VMemLabTestSupport

/// Two-dimensional walks (Intel SDM vol. 3C §29.3.2 and §29.3.5, AMD APM
/// vol. 2 §15.25): the references in order, EPT violations against
/// misconfigurations, A/D bits in both dimensions, guest A/D writes through
/// nested rights, and NPT's user-access rule.
@Suite("NestedWalker: 2D walks with EPT and NPT")
struct NestedWalkerTests {
    /// A combination of the two dimensions.
    struct Shape: Sendable, CustomStringConvertible {
        var guestMode: PagingMode, hostMode: PagingMode, guestPage: PageSize, hostPage: PageSize
        var description: String { "guest \(guestMode) \(guestPage), host \(hostMode) \(hostPage)" }
    }

    static let modePairs: [(PagingMode, PagingMode)] = [
        (.fourLevel, .fourLevel), (.fiveLevel, .fiveLevel), (.fiveLevel, .fourLevel), (.fourLevel, .fiveLevel),
    ]
    static let shapes: [Shape] = modePairs.flatMap { pair in
        PageSize.allCases.flatMap { guestPage in
            PageSize.allCases.map { Shape(guestMode: pair.0, hostMode: pair.1, guestPage: guestPage, hostPage: $0) }
        }
    }
    static let kinds: [NestedFixtureKind] = [.ept(accessedDirty: false), .ept(accessedDirty: true), .npt]

    static let guestLeafBits = PageTableEntry.Flags([.present, .writable, .user]).rawValue

    static func fixture(
        _ shape: Shape, _ kind: NestedFixtureKind, guestLeafBits: UInt64 = guestLeafBits,
        tableRegionBits: UInt64? = nil, dataBits: UInt64? = nil
    ) throws -> NestedFixture {
        try NestedFixture(guestMode: shape.guestMode, hostMode: shape.hostMode, guestPageSize: shape.guestPage,
                          hostPageSize: shape.hostPage, kind: kind, guestLeafBits: guestLeafBits,
                          tableRegionBits: tableRegionBits, dataBits: dataBits)
    }

    static func walk(
        _ fixture: NestedFixture, _ access: MemoryAccess, address: UInt64? = nil
    ) -> (NestedWalkResult, [WalkReference]) {
        var memory = fixture.memory
        var log = WalkLog()
        let walker = NestedWalker(guest: PagingControls(mode: fixture.guestMode), nested: fixture.nestedPaging())
        let result = walker.walk(address ?? fixture.sampleAddress, access: access, guestRoot: fixture.guestRoot,
                                 memory: &memory, observer: &log)
        return (result, log.references)
    }

    static let fourKShape = Shape(guestMode: .fourLevel, hostMode: .fourLevel, guestPage: .size4K, hostPage: .size4K)

    /// The guest levels a walk of the sample address reads, top down.
    static func guestLevels(_ fixture: NestedFixture) -> [Int] {
        Array(stride(from: fixture.guestMode.levels, through: fixture.guestPageSize.leafLevel, by: -1))
    }

    /// The nested levels a nested walk reads, top down.
    static func nestedLevels(_ fixture: NestedFixture) -> [Int] {
        Array(stride(from: fixture.hostMode.levels, through: fixture.hostPageSize.leafLevel, by: -1))
    }

    // MARK: References: count and order

    @Test("each nested walk precedes the guest entry it locates; the final gPA walk comes last; g·h + g + h in all",
          arguments: shapes, kinds)
    func referenceOrder(shape: Shape, kind: NestedFixtureKind) throws {
        let fixture = try Self.fixture(shape, kind)
        let guestBefore = Self.guestLevels(fixture).map { fixture.guestEntry(level: $0) }
        let (result, references) = Self.walk(fixture, .userRead)

        var expected: [WalkReference] = []
        for (index, guestLevel) in Self.guestLevels(fixture).enumerated() {
            let entryGuestPhysical = fixture.guestEntryGuestPhysical(level: guestLevel)
            for nestedLevel in Self.nestedLevels(fixture) {
                let address = fixture.nestedEntryAddress(of: entryGuestPhysical, level: nestedLevel)
                expected.append(WalkReference(dimension: .nested, level: nestedLevel, step: guestLevel,
                                              address: address, entry: 0))
            }
            expected.append(WalkReference(dimension: .guest, level: guestLevel, step: guestLevel,
                                          address: entryGuestPhysical + NestedFixture.hostOffset,
                                          entry: guestBefore[index]))
        }
        for nestedLevel in Self.nestedLevels(fixture) {
            expected.append(WalkReference(
                dimension: .nested, level: nestedLevel, step: 0,
                address: fixture.nestedEntryAddress(of: fixture.sampleGuestPhysical, level: nestedLevel), entry: 0))
        }
        // Nested entry values change with A/D; compare them by position only.
        func shapeOf(_ reference: WalkReference) -> WalkReference {
            var copy = reference
            if copy.dimension == .nested { copy.entry = 0 }
            return copy
        }
        #expect(references.map(shapeOf) == expected, "\(shape) \(kind)")

        let g = Self.guestLevels(fixture).count, h = Self.nestedLevels(fixture).count
        #expect(references.count == g * h + g + h)
        if shape.guestPage == .size4K && shape.hostPage == .size4K {
            let published = [(PagingMode.fourLevel, PagingMode.fourLevel, 24), (.fiveLevel, .fiveLevel, 35),
                             (.fiveLevel, .fourLevel, 29), (.fourLevel, .fiveLevel, 29)]
            for (guestMode, hostMode, count) in published where guestMode == shape.guestMode && hostMode == shape.hostMode {
                #expect(references.count == count)
            }
        }
        guard case let .translated(translation) = result else {
            Issue.record("\(shape) \(kind) translates, got \(result)")
            return
        }
        #expect(translation.guestPhysical == fixture.sampleGuestPhysical)
        #expect(translation.hostPhysical == fixture.sampleGuestPhysical + NestedFixture.hostOffset)
        #expect(translation.guestPageSize == shape.guestPage)
        #expect(translation.hostPageSize == shape.hostPage)
    }

    @Test("a guest page fault inside a 2D walk is the guest's, not an exit, and sets no guest A bit",
          arguments: [NestedFixtureKind.ept(accessedDirty: false), .npt])
    func guestFault(kind: NestedFixtureKind) throws {
        let fixture = try Self.fixture(Self.fourKShape, kind)
        fixture.setGuestEntry(fixture.guestEntry(level: 1) & ~1, level: 1)
        let before = Self.guestLevels(fixture).map { fixture.guestEntry(level: $0) }
        let (result, references) = Self.walk(fixture, .userWrite)
        #expect(result == .guestFault(PageFault(errorCode: [.write, .user], level: 1)))
        #expect(!result.isVMExit)
        #expect(references.count == 4 * 4 + 4, "four nested walks and four guest entries, no final walk")
        #expect(Self.guestLevels(fixture).map { fixture.guestEntry(level: $0) } == before)
    }

    @Test("a non-canonical guest-virtual address gives .nonCanonical and no reference")
    func nonCanonical() throws {
        let fixture = try Self.fixture(Self.fourKShape, .ept(accessedDirty: false))
        let (result, references) = Self.walk(fixture, .userRead, address: 0x0000_8000_0000_0000)
        #expect(result == .nonCanonical)
        #expect(references.isEmpty)
    }

    // MARK: EPT violation against misconfiguration

    @Test("an EPT entry for a guest table: not present is a violation, W without R a misconfiguration",
          arguments: [PageSize.size4K, .size2M, .size1G])
    func exitsOnAGuestTableAccess(hostPage: PageSize) throws {
        let shape = Shape(guestMode: .fourLevel, hostMode: .fourLevel, guestPage: .size4K, hostPage: hostPage)
        for nestedLevel in hostPage.leafLevel...4 {
            var fixture = try Self.fixture(shape, .ept(accessedDirty: false))
            let rootEntry = fixture.guestEntryGuestPhysical(level: 4)
            var entry = fixture.nestedEntry(of: rootEntry, level: nestedLevel)
            fixture.setNestedEntry(entry & ~7, of: rootEntry, level: nestedLevel)
            var (result, references) = Self.walk(fixture, .userRead)
            #expect(result == .eptViolation([.read, .linearAddressValid], guestPhysical: rootEntry, level: nestedLevel),
                    "not present at EPT \(levelName(nestedLevel)): a paging-structure access, bit 8 clear")
            #expect(result.isVMExit)
            #expect(references.count == 4 - nestedLevel + 1, "the walk stops at the failing EPT entry")

            fixture = try Self.fixture(shape, .ept(accessedDirty: false))
            entry = fixture.nestedEntry(of: rootEntry, level: nestedLevel)
            fixture.setNestedEntry(entry & ~1, of: rootEntry, level: nestedLevel)
            (result, references) = Self.walk(fixture, .userRead)
            #expect(result == .eptMisconfiguration(guestPhysical: rootEntry, level: nestedLevel))
        }
    }

    @Test("an EPT entry for the final address: a denied write is a violation with bits 7 and 8, a bad memory type a misconfiguration",
          arguments: [PageSize.size4K, .size2M, .size1G])
    func exitsOnTheFinalAccess(hostPage: PageSize) throws {
        let shape = Shape(guestMode: .fourLevel, hostMode: .fourLevel, guestPage: .size4K, hostPage: hostPage)
        let readExecute: UInt64 = 0x5 | (6 << 3)
        var fixture = try Self.fixture(shape, .ept(accessedDirty: false), dataBits: readExecute)
        var (result, _) = Self.walk(fixture, .userWrite)
        #expect(result == .eptViolation([.write, .readable, .executable, .linearAddressValid, .finalTranslation],
                                        guestPhysical: fixture.sampleGuestPhysical, level: hostPage.leafLevel))
        (result, _) = Self.walk(fixture, .userRead)
        guard case .translated = result else {
            Issue.record("a read through a read-execute EPT leaf translates")
            return
        }

        fixture = try Self.fixture(shape, .ept(accessedDirty: false), dataBits: 0x7 | (2 << 3))
        (result, _) = Self.walk(fixture, .userRead)
        #expect(result == .eptMisconfiguration(guestPhysical: fixture.sampleGuestPhysical, level: hostPage.leafLevel))
    }

    // MARK: A/D bits in both dimensions

    @Test("A/D bits: guest A on every entry and D on the leaf of a write; nested bits only as the nested paging defines",
          arguments: shapes.filter { $0.guestMode == $0.hostMode }, kinds)
    func accessedDirtyInBothDimensions(shape: Shape, kind: NestedFixtureKind) throws {
        for access in [MemoryAccess.userRead, .userWrite] {
            let fixture = try Self.fixture(shape, kind)
            let tablePage = fixture.guestEntryGuestPhysical(level: shape.guestMode.levels)
            let nestedLevels = Self.nestedLevels(fixture)
            let tableBefore = nestedLevels.map { fixture.nestedEntry(of: tablePage, level: $0) }
            let dataBefore = nestedLevels.map { fixture.nestedEntry(of: fixture.sampleGuestPhysical, level: $0) }
            let (result, _) = Self.walk(fixture, access)
            guard case .translated = result else {
                Issue.record("\(shape) \(kind) \(access) translates, got \(result)")
                continue
            }
            // Guest dimension (SDM vol. 3A §4.8).
            for level in Self.guestLevels(fixture) {
                let entry = fixture.guestEntry(level: level)
                #expect(entry & (1 << 5) != 0, "guest A at \(levelName(level))")
                let isLeaf = level == shape.guestPage.leafLevel
                #expect((entry & (1 << 6) != 0) == (isLeaf && access == .userWrite), "guest D at \(levelName(level))")
            }
            // Nested dimension.
            let tableAfter = nestedLevels.map { fixture.nestedEntry(of: tablePage, level: $0) }
            let dataAfter = nestedLevels.map { fixture.nestedEntry(of: fixture.sampleGuestPhysical, level: $0) }
            let dataWritten = access == .userWrite
            switch kind {
            case .ept(accessedDirty: false):
                #expect(tableAfter == tableBefore, "EPT A/D disabled: EPT entries unchanged")
                #expect(dataAfter == dataBefore, "EPT A/D disabled: EPT entries unchanged")
            case .ept(accessedDirty: true):
                // §29.3.5: A on every entry used; D on a leaf written through. The
                // guest tables were written (A/D updates, and table accesses count as writes).
                #expect(tableAfter == Self.withAccessedDirty(tableBefore, accessed: 1 << 8, dirty: 1 << 9, written: true))
                #expect(dataAfter == Self.withAccessedDirty(dataBefore, accessed: 1 << 8, dirty: 1 << 9,
                                                            written: dataWritten))
            case .npt:
                // Nested walks are ordinary x86-64 walks: A on every entry, D on a leaf written through.
                #expect(tableAfter == Self.withAccessedDirty(tableBefore, accessed: 1 << 5, dirty: 1 << 6, written: true))
                #expect(dataAfter == Self.withAccessedDirty(dataBefore, accessed: 1 << 5, dirty: 1 << 6,
                                                            written: dataWritten))
            }
        }
    }

    /// `entries` (root first, leaf last) with A on each and D on the leaf if `written`.
    static func withAccessedDirty(_ entries: [UInt64], accessed: UInt64, dirty: UInt64, written: Bool) -> [UInt64] {
        var result = entries.map { $0 | accessed }
        if written { result[result.count - 1] |= dirty }
        return result
    }

    @Test("NPT: guest tables whose A bits are already set are only read, so their nested leaf stays clean")
    func nptReadsDoNotDirtyGuestTables() throws {
        let fixture = try Self.fixture(Self.fourKShape, .npt, guestLeafBits: Self.guestLeafBits | (1 << 5))
        for level in 2...4 { fixture.setGuestEntry(fixture.guestEntry(level: level) | (1 << 5), level: level) }
        let tablePage = fixture.guestEntryGuestPhysical(level: 4)
        let (result, _) = Self.walk(fixture, .userRead)
        guard case .translated = result else {
            Issue.record("the walk translates, got \(result)")
            return
        }
        #expect(fixture.nestedEntry(of: tablePage, level: 1) & (1 << 6) == 0)
        #expect(fixture.nestedEntry(of: tablePage, level: 1) & (1 << 5) != 0)
    }

    // MARK: Guest A/D updates against read-only EPT

    /// Read and execute, write-back: guest tables the guest can read but not write.
    static let readOnlyTables: UInt64 = 0x5 | (6 << 3)

    @Test("a guest A update that meets a read-only EPT entry exits with a write violation on a paging-structure access",
          arguments: [PageSize.size4K, .size2M, .size1G])
    func guestAccessedUpdateMeetsReadOnlyEPT(hostPage: PageSize) throws {
        let shape = Shape(guestMode: .fourLevel, hostMode: .fourLevel, guestPage: .size4K, hostPage: hostPage)
        let fixture = try Self.fixture(shape, .ept(accessedDirty: false), tableRegionBits: Self.readOnlyTables)
        let before = Self.guestLevels(fixture).map { fixture.guestEntry(level: $0) }
        let (result, _) = Self.walk(fixture, .userRead)
        guard case let .eptViolation(qualification, guestPhysical, level) = result else {
            Issue.record("an EPT violation, got \(result)")
            return
        }
        #expect(qualification.contains(.write), "the A update is a data write (bit 1)")
        #expect(!qualification.contains(.fetch))
        #expect(qualification.contains(.linearAddressValid))
        #expect(!qualification.contains(.finalTranslation), "bit 8 clear: a paging-structure access")
        #expect(qualification.contains(.readable) && !qualification.contains(.writable), "the rights of that gPA")
        #expect(Self.guestLevels(fixture).map { fixture.guestEntryGuestPhysical(level: $0) }.contains(guestPhysical))
        #expect(level == hostPage.leafLevel)
        #expect(Self.guestLevels(fixture).map { fixture.guestEntry(level: $0) } == before, "guest entries unchanged")
    }

    @Test("with guest A bits set, reads pass read-only EPT tables; a write's D update still exits, at the leaf's gPA")
    func guestDirtyUpdateMeetsReadOnlyEPT() throws {
        let fixture = try Self.fixture(Self.fourKShape, .ept(accessedDirty: false),
                                       guestLeafBits: Self.guestLeafBits | (1 << 5), tableRegionBits: Self.readOnlyTables)
        for level in 2...4 { fixture.setGuestEntry(fixture.guestEntry(level: level) | (1 << 5), level: level) }
        let before = (1...4).map { fixture.guestEntry(level: $0) }
        var (result, _) = Self.walk(fixture, .userRead)
        guard case .translated = result else {
            Issue.record("no guest write is needed, so the read translates; got \(result)")
            return
        }
        (result, _) = Self.walk(fixture, .userWrite)
        #expect(result == .eptViolation([.write, .readable, .executable, .linearAddressValid],
                                        guestPhysical: fixture.guestEntryGuestPhysical(level: 1), level: 1))
        #expect((1...4).map { fixture.guestEntry(level: $0) } == before, "guest entries unchanged")
    }

    @Test("with EPT A/D enabled, guest table reads are EPT writes: read-only EPT tables exit at the first guest entry")
    func tableAccessesAreWritesWithEPTAccessedDirty() throws {
        let fixture = try Self.fixture(Self.fourKShape, .ept(accessedDirty: true),
                                       guestLeafBits: Self.guestLeafBits | (1 << 5), tableRegionBits: Self.readOnlyTables)
        for level in 2...4 { fixture.setGuestEntry(fixture.guestEntry(level: level) | (1 << 5), level: level) }
        let (result, references) = Self.walk(fixture, .userRead)
        guard case let .eptViolation(qualification, guestPhysical, level) = result else {
            Issue.record("an EPT violation, got \(result)")
            return
        }
        #expect(qualification.isSuperset(of: [.write, .linearAddressValid, .readable]))
        #expect(!qualification.contains(.finalTranslation) && !qualification.contains(.writable))
        #expect(guestPhysical == fixture.guestEntryGuestPhysical(level: 4))
        #expect(level == 1)
        #expect(references.count == 4, "only the nested walk of the guest root entry")
        #expect(references.allSatisfy { $0.dimension == .nested })
    }

    @Test("only the guest entry whose A update meets a read-only EPT entry stays unchanged; the walk exits there")
    func readOnlyPageTablePageOnly() throws {
        let fixture = try Self.fixture(Self.fourKShape, .ept(accessedDirty: false))
        let pageTable = fixture.guestEntryGuestPhysical(level: 1) & ~0xFFF
        fixture.setNestedEntry(fixture.nestedEntry(of: pageTable, level: 1) & ~2, of: pageTable, level: 1)
        let pteBefore = fixture.guestEntry(level: 1)
        let (result, _) = Self.walk(fixture, .userRead)
        #expect(result == .eptViolation([.write, .readable, .executable, .linearAddressValid],
                                        guestPhysical: fixture.guestEntryGuestPhysical(level: 1), level: 1))
        #expect(fixture.guestEntry(level: 1) == pteBefore, "the PTE is unchanged")
        for level in 2...4 {
            #expect(fixture.guestEntry(level: level) & (1 << 5) != 0,
                    "\(levelName(level))E: its A update came first, through writable EPT, as hardware does it in walk order")
        }
    }

    @Test("guest fetches need EPT execute on the final address only; guest tables are read, not fetched")
    func fetchNeedsExecuteOnTheFinalAddressOnly() throws {
        let readWrite: UInt64 = 0x3 | (6 << 3)
        var fixture = try Self.fixture(Self.fourKShape, .ept(accessedDirty: false), tableRegionBits: readWrite)
        var (result, _) = Self.walk(fixture, MemoryAccess(.fetch, .user))
        guard case .translated = result else {
            Issue.record("a fetch through non-executable guest tables translates, got \(result)")
            return
        }
        fixture = try Self.fixture(Self.fourKShape, .ept(accessedDirty: false), dataBits: readWrite)
        (result, _) = Self.walk(fixture, MemoryAccess(.fetch, .supervisor))
        #expect(result == .eptViolation([.fetch, .readable, .writable, .linearAddressValid, .finalTranslation],
                                        guestPhysical: fixture.sampleGuestPhysical, level: 1))
    }

    @Test("NPT: XD on the nested leaf of the final address denies a fetch with I/D and bit 32")
    func nptExecuteDisable() throws {
        let dataBits = PageTableEntry.Flags([.present, .writable, .user, .executeDisable]).rawValue
        let fixture = try Self.fixture(Self.fourKShape, .npt, dataBits: dataBits)
        let (result, _) = Self.walk(fixture, MemoryAccess(.fetch, .supervisor))
        #expect(result == .nestedPageFault(exitInfo1: (1 << 32) | 0b1_0101, guestPhysical: fixture.sampleGuestPhysical,
                                           level: 1))
    }

    @Test("NPT: a guest A update through a read-only nested leaf faults as a user write, bit 33")
    func nptGuestAccessedUpdateMeetsReadOnlyLeaf() throws {
        let readOnly = PageTableEntry.Flags([.present, .user]).rawValue
        let fixture = try Self.fixture(Self.fourKShape, .npt, tableRegionBits: readOnly)
        let before = (1...4).map { fixture.guestEntry(level: $0) }
        let (result, _) = Self.walk(fixture, .userRead)
        #expect(result == .nestedPageFault(exitInfo1: (1 << 33) | 0b111,
                                           guestPhysical: fixture.guestEntryGuestPhysical(level: 4), level: 1))
        #expect((1...4).map { fixture.guestEntry(level: $0) } == before)
    }

    // MARK: NPT: nested accesses are user accesses

    @Test("NPT: a nested entry with U/S = 0 faults; EXITINFO1 bit 33 for a guest table, bit 32 for the final address",
          arguments: [PageSize.size4K, .size2M, .size1G])
    func nptUserAccesses(hostPage: PageSize) throws {
        let shape = Shape(guestMode: .fourLevel, hostMode: .fourLevel, guestPage: .size4K, hostPage: hostPage)
        let supervisorLeaf = PageTableEntry.Flags([.present, .writable]).rawValue
        for access in [MemoryAccess.supervisorRead, .userWrite] {
            let writeBit: UInt64 = access.type == .write ? 1 << 1 : 0
            // The guest tables' nested leaf is supervisor-only.
            var fixture = try Self.fixture(shape, .npt, tableRegionBits: supervisorLeaf)
            var (result, _) = Self.walk(fixture, access)
            guard case let .nestedPageFault(exitInfo1, guestPhysical, level) = result else {
                Issue.record("an NPF, got \(result)")
                continue
            }
            #expect(exitInfo1 & (1 << 33) != 0 && exitInfo1 & (1 << 32) == 0, "a guest table access")
            #expect(exitInfo1 & 0b101 == 0b101, "P and U/S: a protection fault on a user access")
            #expect(exitInfo1 & (1 << 4) == 0, "not a fetch")
            #expect(guestPhysical == fixture.guestEntryGuestPhysical(level: 4))
            #expect(level == hostPage.leafLevel)

            // The data page's nested leaf is supervisor-only.
            fixture = try Self.fixture(shape, .npt, dataBits: supervisorLeaf)
            (result, _) = Self.walk(fixture, access)
            #expect(result == .nestedPageFault(exitInfo1: (1 << 32) | 0b101 | writeBit,
                                               guestPhysical: fixture.sampleGuestPhysical, level: hostPage.leafLevel),
                    "the final translation, \(access)")

            // An upper nested entry with U/S = 0 stops the very first nested walk.
            fixture = try Self.fixture(shape, .npt)
            let rootEntry = fixture.guestEntryGuestPhysical(level: 4)
            fixture.setNestedEntry(fixture.nestedEntry(of: rootEntry, level: 4) & ~4, of: rootEntry, level: 4)
            (result, _) = Self.walk(fixture, access)
            guard case let .nestedPageFault(upperInfo, upperAddress, _) = result else {
                Issue.record("an NPF, got \(result)")
                continue
            }
            #expect(upperInfo & (1 << 33) != 0 && upperAddress == rootEntry)
        }
    }

    @Test("NPT: a not-present nested entry for the final address gives P = 0 and bit 32")
    func nptNotPresent() throws {
        let fixture = try Self.fixture(Self.fourKShape, .npt, dataBits: 0)
        let (result, _) = Self.walk(fixture, .userRead)
        #expect(result == .nestedPageFault(exitInfo1: (1 << 32) | 0b100, guestPhysical: fixture.sampleGuestPhysical,
                                           level: 1))
    }
}
