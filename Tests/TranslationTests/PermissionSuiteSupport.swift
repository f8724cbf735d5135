import Translation
import VMemLabTestSupport

/// Where the permission suite varies entries: a paging mode, the size of
/// the page mapped, the upper level whose entry varies besides the leaf, and
/// the reserved bit it may set at each of the two.
struct PermissionLayout: Sendable, CustomStringConvertible {
    var mode: PagingMode
    var pageSize: PageSize
    var upperLevel: Int

    /// The MAXPHYADDR the suite runs with: bit 46 is the lowest reserved address bit.
    static let maxPhysicalAddressBits = 46
    /// The protection key of the leaf; PKRU gives every other key the opposite rights.
    static let leafKey: UInt64 = 0xB

    /// Every mode and page size, each with a different upper level: the
    /// level right above the leaf, or the root.
    static let all: [PermissionLayout] = [
        PermissionLayout(mode: .fourLevel, pageSize: .size4K, upperLevel: 2),
        PermissionLayout(mode: .fourLevel, pageSize: .size2M, upperLevel: 4),
        PermissionLayout(mode: .fourLevel, pageSize: .size1G, upperLevel: 4),
        PermissionLayout(mode: .fiveLevel, pageSize: .size4K, upperLevel: 5),
        PermissionLayout(mode: .fiveLevel, pageSize: .size2M, upperLevel: 3),
        PermissionLayout(mode: .fiveLevel, pageSize: .size1G, upperLevel: 4),
    ]

    /// The reserved bit set at `level` when a case asks for one: PS in a
    /// PML5E or PML4E, bit 13 in a large leaf, else address bit MAXPHYADDR.
    func reservedBit(level: Int) -> UInt64 {
        if level >= 4 { return 1 << 7 }
        if level == pageSize.leafLevel && pageSize != .size4K { return 1 << 13 }
        return 1 << UInt64(PermissionLayout.maxPhysicalAddressBits)
    }

    var description: String { "\(mode) \(pageSize) page, upper \(levelName(upperLevel))" }
}

/// The flags a permission case sets in one entry.
struct EntryFlags: Hashable, Sendable, CustomStringConvertible {
    var present = false, writable = false, user = false, accessed = false, dirty = false
    var executeDisable = false, reserved = false

    /// Every combination of the flags in `varying` with P = 1, then one
    /// entry with P = 0 and every other varied flag set (nothing in a
    /// non-present entry may matter).
    static func combinations(_ varying: [WritableKeyPath<EntryFlags, Bool>]) -> [EntryFlags] {
        var all: [EntryFlags] = []
        for mask in 0..<(1 << varying.count) {
            var flags = EntryFlags(present: true)
            for (bit, path) in varying.enumerated() where mask & (1 << bit) != 0 { flags[keyPath: path] = true }
            all.append(flags)
        }
        var notPresent = EntryFlags()
        for path in varying { notPresent[keyPath: path] = true }
        all.append(notPresent)
        return all
    }

    /// The entry bits, with `reservedBit` for the reserved flag.
    func bits(reservedBit: UInt64) -> UInt64 {
        var raw: UInt64 = 0
        if present { raw |= 1 << 0 }
        if writable { raw |= 1 << 1 }
        if user { raw |= 1 << 2 }
        if accessed { raw |= 1 << 5 }
        if dirty { raw |= 1 << 6 }
        if executeDisable { raw |= 1 << 63 }
        if reserved { raw |= reservedBit }
        return raw
    }

    var description: String {
        let names: [(Bool, String)] = [
            (present, "P"), (writable, "RW"), (user, "US"), (accessed, "A"), (dirty, "D"),
            (executeDisable, "XD"), (reserved, "RSVD"),
        ]
        return "[" + names.filter(\.0).map(\.1).joined(separator: " ") + "]"
    }
}

/// One setting of the controls the access rules read.
struct ControlProfile: Hashable, Sendable, CustomStringConvertible {
    var writeProtect: Bool, noExecute: Bool, smep: Bool, smap: Bool, alignmentCheck: Bool
    var protectionKeys: Bool, accessDisable: Bool, writeDisable: Bool

    /// CR0.WP × EFER.NXE × CR4.SMEP × (SMAP off; on with AC = 0; on with
    /// AC = 1) × (PKE off with AD = WD = 1; PKE on with each AD/WD): 120.
    /// Off-switches come with their most restrictive companion bits, so a
    /// rule applied without its enable bit shows.
    static let all: [ControlProfile] = {
        var all: [ControlProfile] = []
        let smapSettings = [(false, false), (true, false), (true, true)]
        let keySettings = [(false, true, true), (true, false, false), (true, false, true), (true, true, false),
                           (true, true, true)]
        for writeProtect in [false, true] {
            for noExecute in [false, true] {
                for smep in [false, true] {
                    for (smap, alignmentCheck) in smapSettings {
                        for (protectionKeys, accessDisable, writeDisable) in keySettings {
                            all.append(ControlProfile(
                                writeProtect: writeProtect, noExecute: noExecute, smep: smep, smap: smap,
                                alignmentCheck: alignmentCheck, protectionKeys: protectionKeys,
                                accessDisable: accessDisable, writeDisable: writeDisable))
                        }
                    }
                }
            }
        }
        return all
    }()

    /// The controls for `mode`: PKRU holds AD/WD for the leaf's key and the
    /// opposite pair for every other key.
    func controls(mode: PagingMode) -> PagingControls {
        let leafPair: UInt32 = (accessDisable ? 1 : 0) | (writeDisable ? 2 : 0)
        var pkru: UInt32 = 0
        for key in 0..<UInt32(16) {
            let pair = key == UInt32(PermissionLayout.leafKey) ? leafPair : ~leafPair & 3
            pkru |= pair << (2 * key)
        }
        return PagingControls(
            mode: mode, writeProtect: writeProtect, noExecute: noExecute, smep: smep, smap: smap,
            alignmentCheck: alignmentCheck, protectionKeys: protectionKeys, pkru: pkru,
            maxPhysicalAddressBits: PermissionLayout.maxPhysicalAddressBits, supports1GPages: true)
    }

    var description: String {
        var parts: [String] = []
        parts.append(writeProtect ? "WP" : "!WP")
        parts.append(noExecute ? "NXE" : "!NXE")
        parts.append(smep ? "SMEP" : "!SMEP")
        parts.append(smap ? (alignmentCheck ? "SMAP+AC" : "SMAP") : "!SMAP")
        parts.append(protectionKeys ? "PKE" : "!PKE")
        parts.append("AD=\(accessDisable ? 1 : 0) WD=\(writeDisable ? 1 : 0)")
        return parts.joined(separator: " ")
    }
}

/// Every access: read, write and fetch, as user, supervisor and implicit supervisor.
let allAccesses: [MemoryAccess] = AccessType.allCases.flatMap { type in
    AccessPrivilege.allCases.map { MemoryAccess(type, $0) }
}

/// Runs permission cases on one layout's tables, compares `PageWalker` with
/// `AccessOracle`, and keeps the first mismatches in readable form.
struct PermissionRunner {
    let layout: PermissionLayout
    let fixture: SinglePathFixture
    private(set) var cases = 0
    private(set) var agreements = 0
    private(set) var mismatches: [String] = []

    init(layout: PermissionLayout) throws {
        self.layout = layout
        let leafBits = PermissionLayout.leafKey << 59
        fixture = try SinglePathFixture(
            mode: layout.mode, pageSize: layout.pageSize,
            virtualAddress: SinglePathFixture.sampleVirtualAddress(mode: layout.mode),
            physicalAddress: 0x1_4000_0000, leafBits: leafBits)
    }

    /// Runs one case.
    mutating func run(leaf: EntryFlags, upper: EntryFlags, access: MemoryAccess, profile: ControlProfile) {
        let leafLevel = layout.pageSize.leafLevel
        var path = fixture.builtEntries
        let leafIndex = fixture.index(ofLevel: leafLevel)
        let upperIndex = fixture.index(ofLevel: layout.upperLevel)
        let keep = PageTableEntry.addressMask | PageTableEntry.protectionKeyMask | (1 << 7)
        path[leafIndex] = (path[leafIndex] & keep) | leaf.bits(reservedBit: layout.reservedBit(level: leafLevel))
        path[upperIndex] = (path[upperIndex] & PageTableEntry.addressMask)
            | upper.bits(reservedBit: layout.reservedBit(level: layout.upperLevel))
        fixture.setEntries(path)

        let controls = profile.controls(mode: layout.mode)
        let address = fixture.virtualAddress + SinglePathFixture.sampleOffset(layout.pageSize)
        var memory = fixture.memory
        let result = PageWalker(controls: controls).walk(address, access: access, root: fixture.root, memory: &memory)
        let after = fixture.entries
        let verdict = AccessOracle(controls: controls).decide(address: address, access: access, path: path)

        var agree = AccessVerdict.Outcome(result) == verdict.outcome && after == verdict.entriesAfter
        if case let .translated(translation) = result, translation.leafEntryAddress != fixture.entryAddresses[leafIndex] {
            agree = false
        }
        cases += 1
        if agree {
            agreements += 1
        } else if mismatches.count < 12 {
            func hex(_ values: [UInt64]) -> String { values.map { "0x" + String($0, radix: 16) }.joined(separator: ", ") }
            mismatches.append("""
                \(layout): leaf \(leaf) \(levelName(layout.upperLevel)) \(upper), \(access), \(profile)
                  walker: \(AccessVerdict.Outcome(result)); entries after [\(hex(after))]
                  oracle: \(verdict); entries after [\(hex(verdict.entriesAfter))]
                """)
        }
    }
}
