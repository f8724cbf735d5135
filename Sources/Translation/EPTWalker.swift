/// The exit qualification of an EPT violation (Intel SDM vol. 3C, table 29-7).
@frozen public struct EPTViolationQualification: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Bit 0: the access was a data read.
    public static let read = EPTViolationQualification(rawValue: 1 << 0)
    /// Bit 1: the access was a data write.
    public static let write = EPTViolationQualification(rawValue: 1 << 1)
    /// Bit 2: the access was an instruction fetch.
    public static let fetch = EPTViolationQualification(rawValue: 1 << 2)
    /// Bit 3: the guest-physical address was readable (AND over levels).
    public static let readable = EPTViolationQualification(rawValue: 1 << 3)
    /// Bit 4: it was writable.
    public static let writable = EPTViolationQualification(rawValue: 1 << 4)
    /// Bit 5: it was executable (for supervisor-mode linear addresses under MBEC).
    public static let executable = EPTViolationQualification(rawValue: 1 << 5)
    /// Bit 6: it was executable for user-mode linear addresses (MBEC).
    public static let userExecutable = EPTViolationQualification(rawValue: 1 << 6)
    /// Bit 7: the guest linear-address field is valid.
    public static let linearAddressValid = EPTViolationQualification(rawValue: 1 << 7)
    /// Bit 8 (with bit 7): the access was to the final translation, not to a
    /// guest paging-structure entry.
    public static let finalTranslation = EPTViolationQualification(rawValue: 1 << 8)

    public var description: String {
        let names: [(EPTViolationQualification, String)] = [
            (.read, "read"), (.write, "write"), (.fetch, "fetch"), (.readable, "R"), (.writable, "W"),
            (.executable, "X"), (.userExecutable, "XU"), (.linearAddressValid, "GLA"),
            (.finalTranslation, "final"),
        ]
        return "0x" + String(rawValue, radix: 16) + " (" + names.filter { contains($0.0) }.map(\.1).joined(separator: "|") + ")"
    }
}

/// The EPT-related CPU capabilities and controls.
@frozen public struct EPTControls: Hashable, Sendable {
    /// The EPT pointer: root table, walk length, A/D enable.
    public var pointer: EPTPointer
    /// The CPU's physical-address width (MAXPHYADDR).
    public var maxPhysicalAddressBits: Int
    /// Whether execute-only translations are supported (IA32_VMX_EPT_VPID_CAP bit 0).
    public var executeOnly: Bool
    /// Mode-based execute control: bit 2 governs supervisor fetches and bit 10 user fetches.
    public var modeBasedExecute: Bool
    /// Whether 1 GiB EPT pages are supported.
    public var supports1GPages: Bool

    public init(
        pointer: EPTPointer, maxPhysicalAddressBits: Int = 52, executeOnly: Bool = true,
        modeBasedExecute: Bool = false, supports1GPages: Bool = true
    ) {
        self.pointer = pointer
        self.maxPhysicalAddressBits = maxPhysicalAddressBits
        self.executeOnly = executeOnly
        self.modeBasedExecute = modeBasedExecute
        self.supports1GPages = supports1GPages
    }
}

/// The outcome of a walk through EPT.
@frozen public enum EPTWalkResult: Hashable, Sendable {
    case translated(EPTTranslation)
    /// The access is not allowed, or an entry is not present. The
    /// qualification's access and rights bits are filled in; the caller adds
    /// the linear-address bits.
    case violation(EPTViolationQualification, level: Int)
    /// An entry is malformed: W without R, X without R where execute-only is
    /// unsupported, a reserved bit, or a reserved memory type.
    case misconfiguration(level: Int)
}

/// A guest-physical to host-physical translation through EPT (or NPT).
@frozen public struct EPTTranslation: Hashable, Sendable {
    public var hostPhysical: UInt64
    public var pageSize: PageSize
    /// Rights combined over the levels, as qualification bits 3–6.
    public var rights: EPTViolationQualification
    /// The host-physical address of the leaf entry.
    public var leafEntryAddress: UInt64
    @inlinable public init(hostPhysical: UInt64, pageSize: PageSize, rights: EPTViolationQualification, leafEntryAddress: UInt64) {
        self.hostPhysical = hostPhysical
        self.pageSize = pageSize
        self.rights = rights
        self.leafEntryAddress = leafEntryAddress
    }
    /// Whether writes are allowed.
    @inlinable public var isWritable: Bool { rights.contains(.writable) }
}

/// Walks EPT paging structures (Intel SDM vol. 3C §29.3.2).
@frozen public struct EPTWalker: Sendable {
    public var controls: EPTControls

    @inlinable public init(controls: EPTControls) { self.controls = controls }

    /// Translates the guest-physical `address`. `userLinear` says whether the
    /// access is for a user-mode linear address (it matters only under MBEC).
    /// With EPT A/D enabled, A is set in every entry used and D in the leaf of
    /// a write.
    @inlinable
    public func walk<Memory: PhysicalMemory, Observer: WalkObserver>(
        _ address: UInt64, access: AccessType, userLinear: Bool = false, memory: inout Memory,
        observer: inout Observer, dimension: WalkDimension = .native, step: Int = 0
    ) -> EPTWalkResult {
        let levels = controls.pointer.mode?.levels ?? 4
        let addressReserved = ((1 as UInt64) << 52) &- ((1 as UInt64) << UInt64(controls.maxPhysicalAddressBits))
        let presentMask: UInt64 = controls.modeBasedExecute ? 0x407 : 0x7
        let accessBit: UInt64 = access == .read ? 1 : access == .write ? 2 : 4
        var table = controls.pointer.raw & PageTableEntry.addressMask
        var level = levels
        var rightsAnd: UInt64 = 0x407
        var accessedAnd: UInt64 = 1 << 8
        var entry: UInt64 = 0
        var slot: UInt64 = 0
        guard address >> UInt64(12 &+ 9 &* levels) == 0 || levels == 5 else {
            // Guest-physical bits above the walk's reach: reported as a violation at the root.
            return .violation(EPTViolationQualification(rawValue: accessBit), level: levels)
        }
        while true {
            slot = table &+ PagingMode.index(of: address, at: level) &* 8
            entry = memory.load64(slot)
            observer.observe(WalkReference(dimension: dimension, level: level, step: dimension == .nested ? step : level, address: slot, entry: entry))
            if entry & presentMask == 0 {
                return .violation(EPTViolationQualification(rawValue: accessBit), level: level)
            }
            if isMisconfigured(entry, level: level, addressReserved: addressReserved) {
                return .misconfiguration(level: level)
            }
            rightsAnd &= entry
            accessedAnd &= entry
            if level == 1 || (level <= 3 && entry & (1 << 7) != 0) { break }
            table = entry & PageTableEntry.addressMask
            level &-= 1
        }
        var rights = EPTViolationQualification(rawValue: (rightsAnd & 7) &<< 3)
        if controls.modeBasedExecute && rightsAnd & (1 << 10) != 0 { rights.insert(.userExecutable) }
        let allowed: Bool
        switch access {
        case .read: allowed = rights.contains(.readable)
        case .write: allowed = rights.contains(.writable)
        case .fetch:
            allowed = controls.modeBasedExecute && userLinear ? rights.contains(.userExecutable) : rights.contains(.executable)
        }
        if !allowed {
            return .violation(EPTViolationQualification(rawValue: accessBit).union(rights), level: level)
        }
        if controls.pointer.accessedDirtyEnabled && (accessedAnd == 0 || (access == .write && entry & (1 << 9) == 0)) {
            setAccessedDirty(address, leafLevel: level, write: access == .write, memory: &memory)
        }
        let size = PageSize(leafLevel: level)!  // level is 1, 2 or 3 here
        return .translated(EPTTranslation(
            hostPhysical: (entry & PageTableEntry.addressMask & ~size.offsetMask) | (address & size.offsetMask),
            pageSize: size, rights: rights, leafEntryAddress: slot))
    }

    /// Whether a present entry is an EPT misconfiguration.
    @inlinable @inline(__always)
    public func isMisconfigured(_ entry: UInt64, level: Int, addressReserved: UInt64) -> Bool {
        if entry & 3 == 2 { return true }  // write without read
        if entry & 5 == 4 && !controls.executeOnly { return true }  // execute without read
        if entry & addressReserved != 0 { return true }
        let isLarge = level > 1 && entry & (1 << 7) != 0
        if level >= 4 { return entry & 0xF8 != 0 }  // bits 7:3 reserved in PML5E and PML4E
        if !isLarge {
            if level > 1 { return entry & 0x78 != 0 }  // bits 6:3 reserved in a non-leaf PDPTE or PDE
        } else if level == 3 {
            if !controls.supports1GPages || entry & 0x3FFF_F000 != 0 { return true }
        } else if entry & 0x1F_F000 != 0 {
            return true
        }
        let memoryType = (entry &>> 3) & 7
        return memoryType == 2 || memoryType == 3 || memoryType == 7
    }

    @usableFromInline @inline(never)
    func setAccessedDirty<Memory: PhysicalMemory>(_ address: UInt64, leafLevel: Int, write: Bool, memory: inout Memory) {
        var table = controls.pointer.raw & PageTableEntry.addressMask
        var level = controls.pointer.mode?.levels ?? 4
        while true {
            let slot = table &+ PagingMode.index(of: address, at: level) &* 8
            let entry = memory.load64(slot)
            let bits: UInt64 = (1 << 8) | (level == leafLevel && write ? 1 << 9 : 0)
            if entry & bits != bits { memory.store64(slot, entry | bits) }
            if level == leafLevel { return }
            table = entry & PageTableEntry.addressMask
            level &-= 1
        }
    }
}
