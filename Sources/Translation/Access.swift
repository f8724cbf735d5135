/// What a memory access does.
@frozen public enum AccessType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case read, write, fetch
    public var description: String {
        switch self {
        case .read: "read"
        case .write: "write"
        case .fetch: "fetch"
        }
    }
}

/// Who makes a memory access.
@frozen public enum AccessPrivilege: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// An access at CPL 3.
    case user
    /// An explicit access at CPL < 3.
    case supervisor
    /// An implicit supervisor access, such as a GDT or TSS read: supervisor
    /// rights apply at any CPL, and EFLAGS.AC never relaxes SMAP for it.
    case implicitSupervisor
    public var description: String {
        switch self {
        case .user: "user"
        case .supervisor: "supervisor"
        case .implicitSupervisor: "implicit-supervisor"
        }
    }
}

/// One memory access to translate.
@frozen public struct MemoryAccess: Hashable, Sendable, CustomStringConvertible {
    public var type: AccessType
    public var privilege: AccessPrivilege
    @inlinable public init(_ type: AccessType, _ privilege: AccessPrivilege) {
        self.type = type
        self.privilege = privilege
    }
    public static let userRead = MemoryAccess(.read, .user)
    public static let userWrite = MemoryAccess(.write, .user)
    public static let supervisorRead = MemoryAccess(.read, .supervisor)
    public var description: String { "\(privilege) \(type)" }
}

/// The CPU state that decides how a linear address is translated: the
/// paging mode and the control bits that the SDM §4.6 access rules read.
@frozen public struct PagingControls: Hashable, Sendable {
    /// 4-level or 5-level (CR4.LA57) paging.
    public var mode: PagingMode
    /// CR0.WP: supervisor writes honour read-only pages.
    public var writeProtect: Bool
    /// EFER.NXE: the XD bit is valid; without it bit 63 is reserved.
    public var noExecute: Bool
    /// CR4.SMEP: supervisor fetches from user pages fault.
    public var smep: Bool
    /// CR4.SMAP: supervisor data accesses to user pages fault unless EFLAGS.AC.
    public var smap: Bool
    /// EFLAGS.AC: allows explicit supervisor data accesses to user pages under SMAP.
    public var alignmentCheck: Bool
    /// CR4.PKE: protection keys apply to user-mode addresses.
    public var protectionKeys: Bool
    /// PKRU: two bits per key, AD (bit 2k) and WD (bit 2k + 1).
    public var pkru: UInt32
    /// The CPU's physical-address width (MAXPHYADDR), at most 52.
    public var maxPhysicalAddressBits: Int
    /// Whether the CPU supports 1 GiB pages (CPUID 80000001H:EDX.Page1GB).
    public var supports1GPages: Bool

    public init(
        mode: PagingMode = .fourLevel, writeProtect: Bool = true, noExecute: Bool = true, smep: Bool = false,
        smap: Bool = false, alignmentCheck: Bool = false, protectionKeys: Bool = false, pkru: UInt32 = 0,
        maxPhysicalAddressBits: Int = 52, supports1GPages: Bool = true
    ) {
        precondition((32...52).contains(maxPhysicalAddressBits), "MAXPHYADDR is between 32 and 52")
        self.mode = mode
        self.writeProtect = writeProtect
        self.noExecute = noExecute
        self.smep = smep
        self.smap = smap
        self.alignmentCheck = alignmentCheck
        self.protectionKeys = protectionKeys
        self.pkru = pkru
        self.maxPhysicalAddressBits = maxPhysicalAddressBits
        self.supports1GPages = supports1GPages
    }

    /// Bits 51:MAXPHYADDR, reserved in every entry's address field.
    @inlinable public var reservedAddressBits: UInt64 {
        ((1 as UInt64) << 52) &- ((1 as UInt64) << UInt64(maxPhysicalAddressBits))
    }
}

/// The page-fault error code pushed with #PF (SDM vol. 3A §4.7).
@frozen public struct PageFaultErrorCode: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// P: the fault was a protection violation (0: a non-present entry).
    public static let present = PageFaultErrorCode(rawValue: 1 << 0)
    /// W/R: the access was a write.
    public static let write = PageFaultErrorCode(rawValue: 1 << 1)
    /// U/S: the access was a user-mode access.
    public static let user = PageFaultErrorCode(rawValue: 1 << 2)
    /// RSVD: a reserved bit was set in an entry.
    public static let reservedBit = PageFaultErrorCode(rawValue: 1 << 3)
    /// I/D: the access was an instruction fetch (reported when NXE or SMEP is on).
    public static let instructionFetch = PageFaultErrorCode(rawValue: 1 << 4)
    /// PK: the protection key denied the access.
    public static let protectionKey = PageFaultErrorCode(rawValue: 1 << 5)

    public var description: String {
        let names: [(PageFaultErrorCode, String)] = [
            (.present, "P"), (.write, "W"), (.user, "U"), (.reservedBit, "RSVD"),
            (.instructionFetch, "I/D"), (.protectionKey, "PK"),
        ]
        let set = names.filter { contains($0.0) }.map(\.1)
        return "0x" + String(rawValue, radix: 16) + (set.isEmpty ? "" : " (" + set.joined(separator: "|") + ")")
    }
}

/// A page fault: its error code and the paging level whose entry caused it
/// (the leaf level for a rights violation).
@frozen public struct PageFault: Hashable, Sendable, CustomStringConvertible {
    public var errorCode: PageFaultErrorCode
    public var level: Int
    @inlinable public init(errorCode: PageFaultErrorCode, level: Int) {
        self.errorCode = errorCode
        self.level = level
    }
    public var description: String { "#PF error \(errorCode) at \(levelName(level))" }
}

/// The rights a translation grants, combined over every level: R/W and U/S
/// AND-ed, XD OR-ed.
@frozen public struct EffectiveRights: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let writable = EffectiveRights(rawValue: 1 << 0)
    public static let user = EffectiveRights(rawValue: 1 << 1)
    public static let executable = EffectiveRights(rawValue: 1 << 2)

    public var description: String {
        (contains(.writable) ? "W" : "-") + (contains(.user) ? "U" : "S") + (contains(.executable) ? "X" : "-")
    }
}
