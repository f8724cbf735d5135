import Testing
import Translation
import VMemLabTestSupport

/// The oracle checked on its own against cases worked out by hand from the
/// SDM, so that the permission suite's yardstick is itself tested.
@Suite("AccessOracle: hand-worked SDM cases")
struct AccessOracleTests {
    /// One hand-worked case on a 4-level 4 KiB path whose PML4E, PDPTE and
    /// PDE are P|RW|US with A set, and whose PTE is given.
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var pte: UInt64
        var pde: UInt64 = 0x7 | 0x20
        var access: MemoryAccess
        var controls = PagingControls()
        /// nil: translates; else the error code at `level`.
        var fault: PageFaultErrorCode?
        var level = 1
        var description: String { name }
    }

    static let frame: UInt64 = 0x1234_5000
    static let user: UInt64 = 0x5, userRW: UInt64 = 0x7, supervisorRO: UInt64 = 0x1, supervisorRW: UInt64 = 0x3

    static let cases: [Case] = [
        Case(name: "supervisor write to a read-only page with WP = 0 succeeds",
             pte: frame | supervisorRO, access: MemoryAccess(.write, .supervisor),
             controls: PagingControls(writeProtect: false)),
        Case(name: "supervisor write to a read-only page with WP = 1 faults P|W",
             pte: frame | supervisorRO, access: MemoryAccess(.write, .supervisor), fault: [.present, .write]),
        Case(name: "U/S = 0 at the PDE denies a user read: P|U",
             pte: frame | userRW, pde: 0x3 | 0x20, access: .userRead, fault: [.present, .user]),
        Case(name: "SMAP with AC = 1 allows an explicit supervisor read of a user page",
             pte: frame | user, access: .supervisorRead, controls: PagingControls(smap: true, alignmentCheck: true)),
        Case(name: "SMAP denies an implicit supervisor read of a user page even with AC = 1: P only",
             pte: frame | user, access: MemoryAccess(.read, .implicitSupervisor),
             controls: PagingControls(smap: true, alignmentCheck: true), fault: [.present]),
        Case(name: "SMEP denies a supervisor fetch from a user page even with NXE = 0: P|I/D",
             pte: frame | user, access: MemoryAccess(.fetch, .supervisor),
             controls: PagingControls(noExecute: false, smep: true), fault: [.present, .instructionFetch]),
        Case(name: "a fetch from a not-present page without NXE or SMEP reports no I/D",
             pte: frame, access: MemoryAccess(.fetch, .user), controls: PagingControls(noExecute: false),
             fault: [.user]),
        Case(name: "a user write with PKRU.WD = 1 faults P|W|U|PK",
             pte: frame | userRW | (3 << 59), access: .userWrite,
             controls: PagingControls(protectionKeys: true, pkru: 2 << 6), fault: [.present, .write, .user, .protectionKey]),
        Case(name: "a supervisor write with PKRU.WD = 1 and WP = 0 succeeds",
             pte: frame | userRW | (3 << 59), access: MemoryAccess(.write, .supervisor),
             controls: PagingControls(writeProtect: false, protectionKeys: true, pkru: 2 << 6)),
        Case(name: "a supervisor write with PKRU.WD = 1 and WP = 1 faults P|W|PK",
             pte: frame | userRW | (3 << 59), access: MemoryAccess(.write, .supervisor),
             controls: PagingControls(writeProtect: true, protectionKeys: true, pkru: 2 << 6),
             fault: [.present, .write, .protectionKey]),
        Case(name: "protection keys never affect fetches",
             pte: frame | userRW | (3 << 59), access: MemoryAccess(.fetch, .user),
             controls: PagingControls(protectionKeys: true, pkru: 3 << 6)),
        Case(name: "protection keys never affect supervisor-mode addresses",
             pte: frame | supervisorRW | (3 << 59), access: .supervisorRead,
             controls: PagingControls(protectionKeys: true, pkru: 3 << 6)),
        Case(name: "a write to a read-only page whose key also denies it reports PK too",
             pte: frame | user | (3 << 59), access: .userWrite,
             controls: PagingControls(protectionKeys: true, pkru: 2 << 6), fault: [.present, .write, .user, .protectionKey]),
        Case(name: "a reserved bit above a not-present entry is found first: RSVD at the PD",
             pte: 0, pde: 0x7 | (1 << 51), access: .userRead, controls: PagingControls(maxPhysicalAddressBits: 46),
             fault: [.present, .reservedBit, .user], level: 2),
        Case(name: "a not-present entry's other bits are ignored: P = 0 at the PD",
             pte: frame | userRW, pde: 0x6 | (1 << 51) | (1 << 63), access: .userWrite,
             controls: PagingControls(noExecute: false, maxPhysicalAddressBits: 46), fault: [.write, .user], level: 2),
        Case(name: "XD without NXE is reserved at the PTE, and a write says so",
             pte: frame | userRW | (1 << 63), access: .userWrite, controls: PagingControls(noExecute: false),
             fault: [.present, .write, .user, .reservedBit]),
    ]

    @Test("hand-worked cases", arguments: cases)
    func handWorked(_ example: Case) {
        let path: [UInt64] = [0x7 | 0x20, 0x7 | 0x20, example.pde, example.pte]
        let address: UInt64 = 0x0000_1234_5678_9ABC
        let verdict = AccessOracle(controls: example.controls).decide(address: address, access: example.access, path: path)
        if let code = example.fault {
            #expect(verdict.outcome == .fault(PageFault(errorCode: code, level: example.level)), "\(verdict)")
            #expect(verdict.entriesAfter == path, "a faulting walk sets nothing")
        } else {
            guard case let .translated(physical, size, _, _) = verdict.outcome else {
                Issue.record("translates: \(verdict)")
                return
            }
            #expect(physical == Self.frame | 0xABC)
            #expect(size == .size4K)
            var after = path.map { $0 | 0x20 }
            if example.access.type == .write { after[3] |= 0x40 }
            #expect(verdict.entriesAfter == after, "A everywhere, D on the PTE of a write")
        }
    }

    @Test("a 2 MiB leaf: the PAT bit is not part of the address, bits 20:13 are reserved")
    func largeLeaf() {
        let oracle = AccessOracle(controls: PagingControls())
        let address: UInt64 = 0x4000_0000 + 0x12_3456
        let path: [UInt64] = [0x7, 0x7, 0x8000_0000 | 0x87 | (1 << 12)]
        #expect(oracle.decide(address: address, access: .userRead, path: path).outcome
            == .translated(physicalAddress: 0x8012_3456, pageSize: .size2M, rights: [.writable, .user, .executable],
                           protectionKey: 0))
        let reserved: [UInt64] = [0x7, 0x7, 0x8000_0000 | 0x87 | (1 << 13)]
        #expect(oracle.decide(address: address, access: .userRead, path: reserved).outcome
            == .fault(PageFault(errorCode: [.present, .user, .reservedBit], level: 2)))
    }

    @Test("non-canonical addresses never reach the tables")
    func nonCanonical() {
        let verdict = AccessOracle(controls: PagingControls()).decide(address: 0x8000_0000_0000, access: .userRead, path: [])
        #expect(verdict.outcome == .nonCanonical)
        #expect(verdict.entriesUsed == 0)
    }
}
