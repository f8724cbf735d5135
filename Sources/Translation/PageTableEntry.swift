/// An x86-64 paging-structure entry (PML5E, PML4E, PDPTE, PDE or PTE), as
/// defined in the Intel SDM vol. 3A §4.5 and the AMD APM vol. 2 §5.3. AMD's
/// nested page tables (NPT) use the same format.
@frozen public struct PageTableEntry: Hashable, Sendable, CustomStringConvertible {
    /// The 64 bits of the entry.
    public var raw: UInt64

    @inlinable public init(raw: UInt64) { self.raw = raw }

    /// An entry pointing at `address` with `flags`.
    @inlinable public init(address: UInt64, flags: Flags) {
        raw = (address & PageTableEntry.addressMask) | flags.rawValue
    }

    /// The architectural bits of an entry. Bit 7 is PS in a PDE or PDPTE and
    /// PAT in a PTE; bit 12 is PAT in a large-page leaf.
    @frozen public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt64
        @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

        /// P: the entry is present.
        public static let present = Flags(rawValue: 1 << 0)
        /// R/W: writes are allowed.
        public static let writable = Flags(rawValue: 1 << 1)
        /// U/S: user-mode accesses are allowed.
        public static let user = Flags(rawValue: 1 << 2)
        /// PWT: page-level write-through.
        public static let writeThrough = Flags(rawValue: 1 << 3)
        /// PCD: page-level cache disable.
        public static let cacheDisable = Flags(rawValue: 1 << 4)
        /// A: the entry has been used for a translation.
        public static let accessed = Flags(rawValue: 1 << 5)
        /// D: the page has been written (leaf entries only).
        public static let dirty = Flags(rawValue: 1 << 6)
        /// PS: the entry maps a large page (PDE: 2 MiB, PDPTE: 1 GiB).
        public static let pageSize = Flags(rawValue: 1 << 7)
        /// PAT in a 4 KiB PTE (the same bit as PS).
        public static let pat4K = Flags(rawValue: 1 << 7)
        /// G: global translation, kept across CR3 loads when CR4.PGE = 1.
        public static let global = Flags(rawValue: 1 << 8)
        /// PAT in a 2 MiB or 1 GiB leaf.
        public static let patLarge = Flags(rawValue: 1 << 12)
        /// XD (NX): instruction fetches are not allowed when EFER.NXE = 1.
        public static let executeDisable = Flags(rawValue: 1 << 63)
    }

    /// Bits 51:12, the widest possible address field. The bits above the
    /// CPU's MAXPHYADDR are reserved; see `reservedBits(level:controls:)`.
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000
    /// Bits 62:59, the protection key of a leaf when CR4.PKE or CR4.PKS is set.
    public static let protectionKeyMask: UInt64 = 0x7800_0000_0000_0000

    @inlinable public var flags: Flags { Flags(rawValue: raw) }
    @inlinable public func has(_ flag: Flags) -> Bool { raw & flag.rawValue != 0 }
    @inlinable public mutating func set(_ flag: Flags) { raw |= flag.rawValue }
    @inlinable public mutating func clear(_ flag: Flags) { raw &= ~flag.rawValue }

    @inlinable public var isPresent: Bool { raw & 1 != 0 }
    /// The protection key (bits 62:59).
    @inlinable public var protectionKey: UInt8 { UInt8(truncatingIfNeeded: (raw &>> 59) & 0xF) }
    /// The physical address in bits 51:12 (a table, or a 4 KiB page).
    @inlinable public var address: UInt64 { raw & PageTableEntry.addressMask }

    /// The base address of the page that a leaf at `size` maps: bits 51:12,
    /// 51:21 or 51:30 (so the PAT bit of a large leaf is not part of it).
    @inlinable public func pageBase(_ size: PageSize) -> UInt64 {
        raw & PageTableEntry.addressMask & ~size.offsetMask
    }

    public var description: String {
        var names: [String] = []
        let known: [(Flags, String)] = [
            (.present, "P"), (.writable, "RW"), (.user, "US"), (.writeThrough, "PWT"), (.cacheDisable, "PCD"),
            (.accessed, "A"), (.dirty, "D"), (.pageSize, "PS"), (.global, "G"), (.executeDisable, "XD"),
        ]
        for (flag, name) in known where has(flag) { names.append(name) }
        return "0x" + String(raw, radix: 16) + " [" + names.joined(separator: " ") + "]"
    }
}

/// An EPT paging-structure entry (Intel SDM vol. 3C §29.3.2).
@frozen public struct EPTEntry: Hashable, Sendable, CustomStringConvertible {
    /// The 64 bits of the entry.
    public var raw: UInt64

    @inlinable public init(raw: UInt64) { self.raw = raw }

    /// An entry pointing at `address` with `flags`.
    @inlinable public init(address: UInt64, flags: Flags) {
        raw = (address & PageTableEntry.addressMask) | flags.rawValue
    }

    /// The bits of an EPT entry.
    @frozen public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt64
        @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

        /// Bit 0: reads allowed.
        public static let read = Flags(rawValue: 1 << 0)
        /// Bit 1: writes allowed.
        public static let write = Flags(rawValue: 1 << 1)
        /// Bit 2: instruction fetches allowed (supervisor-mode linear
        /// addresses only, when mode-based execute control is on).
        public static let execute = Flags(rawValue: 1 << 2)
        /// Bit 6: ignore the guest PAT memory type (leaf only).
        public static let ignorePAT = Flags(rawValue: 1 << 6)
        /// Bit 7: the entry maps a 2 MiB or 1 GiB page.
        public static let largePage = Flags(rawValue: 1 << 7)
        /// Bit 8: accessed, when the EPTP enables A/D flags.
        public static let accessed = Flags(rawValue: 1 << 8)
        /// Bit 9: dirty (leaf only), when the EPTP enables A/D flags.
        public static let dirty = Flags(rawValue: 1 << 9)
        /// Bit 10: fetches from user-mode linear addresses allowed, when
        /// mode-based execute control (MBEC) is on.
        public static let userExecute = Flags(rawValue: 1 << 10)
        /// Bit 63: suppress #VE.
        public static let suppressVE = Flags(rawValue: 1 << 63)

        /// Read, write and execute.
        public static let rwx: Flags = [.read, .write, .execute]
    }

    /// The EPT memory types (bits 5:3 of a leaf). 2, 3 and 7 are reserved.
    @frozen public enum MemoryType: UInt8, Sendable {
        case uncacheable = 0, writeCombining = 1, writeThrough = 4, writeProtected = 5, writeBack = 6
    }

    @inlinable public var flags: Flags { Flags(rawValue: raw) }
    @inlinable public func has(_ flag: Flags) -> Bool { raw & flag.rawValue != 0 }
    @inlinable public mutating func set(_ flag: Flags) { raw |= flag.rawValue }

    /// An EPT entry is present when any of bits 2:0 (or bit 10 under MBEC) is set.
    @inlinable public func isPresent(modeBasedExecute: Bool) -> Bool {
        raw & (modeBasedExecute ? 0x407 : 0x7) != 0
    }

    /// The raw memory type, bits 5:3.
    @inlinable public var memoryTypeBits: UInt8 { UInt8(truncatingIfNeeded: (raw &>> 3) & 7) }
    @inlinable public var address: UInt64 { raw & PageTableEntry.addressMask }
    @inlinable public func pageBase(_ size: PageSize) -> UInt64 {
        raw & PageTableEntry.addressMask & ~size.offsetMask
    }

    public var description: String {
        var names: [String] = []
        let known: [(Flags, String)] = [
            (.read, "R"), (.write, "W"), (.execute, "X"), (.ignorePAT, "IPAT"), (.largePage, "LP"),
            (.accessed, "A"), (.dirty, "D"), (.userExecute, "XU"),
        ]
        for (flag, name) in known where has(flag) { names.append(name) }
        names.append("MT\(memoryTypeBits)")
        return "0x" + String(raw, radix: 16) + " [" + names.joined(separator: " ") + "]"
    }
}

/// The EPT pointer (VMCS field EPTP, Intel SDM vol. 3C §25.6.11).
@frozen public struct EPTPointer: Hashable, Sendable {
    public var raw: UInt64
    @inlinable public init(raw: UInt64) { self.raw = raw }

    /// An EPTP for a write-back table at `root` with `mode` levels.
    @inlinable public init(root: HostPhysicalAddress, mode: PagingMode, accessedDirtyEnabled: Bool) {
        raw = (root.raw & PageTableEntry.addressMask) | 6 | (UInt64(mode.levels - 1) << 3)
            | (accessedDirtyEnabled ? 1 << 6 : 0)
    }

    /// The host-physical address of the root table.
    @inlinable public var root: HostPhysicalAddress { HostPhysicalAddress(raw & PageTableEntry.addressMask) }
    /// The page-walk length: 4 or 5 levels (bits 5:3 hold length − 1).
    @inlinable public var mode: PagingMode? { PagingMode(rawValue: Int((raw &>> 3) & 7) + 1) }
    /// Bit 6: EPT accessed and dirty flags are enabled.
    @inlinable public var accessedDirtyEnabled: Bool { raw & (1 << 6) != 0 }
}
