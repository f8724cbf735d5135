/// The outcome of a one-dimensional walk.
@frozen public enum WalkResult: Hashable, Sendable {
    case translated(WalkTranslation)
    case fault(PageFault)
    /// The address is not canonical: the access raises #GP (or #SS), not #PF.
    case nonCanonical
}

/// A successful translation.
@frozen public struct WalkTranslation: Hashable, Sendable {
    /// The physical address the access reaches.
    public var physicalAddress: UInt64
    /// The size of the page that maps it.
    public var pageSize: PageSize
    /// The rights combined over every level.
    public var rights: EffectiveRights
    /// The leaf's protection key (bits 62:59).
    public var protectionKey: UInt8
    /// The physical address of the leaf entry.
    public var leafEntryAddress: UInt64

    @inlinable public init(
        physicalAddress: UInt64, pageSize: PageSize, rights: EffectiveRights, protectionKey: UInt8,
        leafEntryAddress: UInt64
    ) {
        self.physicalAddress = physicalAddress
        self.pageSize = pageSize
        self.rights = rights
        self.protectionKey = protectionKey
        self.leafEntryAddress = leafEntryAddress
    }
}

/// The architectural x86-64 page walker (Intel SDM vol. 3A ch. 4, AMD APM
/// vol. 2 ch. 5), for 4- and 5-level paging.
///
/// - Reserved bits (§4.5): address bits at or above MAXPHYADDR; XD when
///   EFER.NXE = 0; PS in a PML5E or PML4E; PS in a PDPTE when 1 GiB pages
///   are unsupported; bits 29:13 of a 1 GiB leaf and 20:13 of a 2 MiB leaf.
/// - Rights (§4.6): R/W and U/S are AND-ed over the levels and XD is OR-ed,
///   then checked against the access, CR0.WP, SMEP, SMAP with EFLAGS.AC, and
///   PKRU for data accesses to user-mode addresses. The PK error-code bit is
///   set whenever the key denies the access, as KVM reports it.
/// - A/D (§4.8): a successful walk sets A in every entry used and D in the
///   leaf of a write. A walk that faults sets nothing.
@frozen public struct PageWalker: Sendable {
    public var controls: PagingControls

    @inlinable public init(controls: PagingControls) { self.controls = controls }

    /// Translates `address` for `access` through the tables rooted at `root`
    /// (CR3's table address), setting A/D bits on success.
    @inlinable
    public func walk<Memory: PhysicalMemory, Observer: WalkObserver>(
        _ address: UInt64, access: MemoryAccess, root: UInt64, memory: inout Memory,
        observer: inout Observer, dimension: WalkDimension = .native
    ) -> WalkResult {
        guard controls.mode.isCanonical(address) else { return .nonCanonical }
        let reserved = baseReservedBits
        var table = root & PageTableEntry.addressMask
        var level = controls.mode.levels
        // R/W, U/S and A are AND-ed over the levels, XD is OR-ed.
        var allBits: UInt64 = ~0
        var anyBits: UInt64 = 0
        var entry: UInt64 = 0
        var slot: UInt64 = 0
        while true {
            slot = table &+ PagingMode.index(of: address, at: level) &* 8
            entry = memory.load64(slot)
            observer.observe(WalkReference(dimension: dimension, level: level, step: level, address: slot, entry: entry))
            if entry & 1 == 0 {
                return .fault(PageFault(errorCode: notPresentCode(access), level: level))
            }
            if entry & reservedBits(level: level, entry: entry, base: reserved) != 0 {
                return .fault(PageFault(errorCode: reservedCode(access), level: level))
            }
            allBits &= entry
            anyBits |= entry
            if level == 1 || (level <= 3 && entry & (1 << 7) != 0) { break }
            table = entry & PageTableEntry.addressMask
            level &-= 1
        }
        let size = PageSize(leafLevel: level)!  // level is 1, 2 or 3 here
        let key = UInt8(truncatingIfNeeded: (entry &>> 59) & 0xF)
        let rights = RightsAccumulator(writable: allBits & (1 << 1) != 0, user: allBits & (1 << 2) != 0,
                                       executeDisabled: anyBits & (1 << 63) != 0)
        if let code = accessFault(access, rights: rights, protectionKey: key) {
            return .fault(PageFault(errorCode: code, level: level))
        }
        let write = access.type == .write
        if allBits & (1 << 5) == 0 || (write && entry & (1 << 6) == 0) {
            setAccessedDirty(address, root: root, leafLevel: level, write: write, memory: &memory)
        }
        return .translated(WalkTranslation(
            physicalAddress: (entry & PageTableEntry.addressMask & ~size.offsetMask) | (address & size.offsetMask),
            pageSize: size, rights: rights.effective, protectionKey: key, leafEntryAddress: slot))
    }

    /// The walk of a user-mode access to `address` when every entry on its
    /// path grants all rights and needs no A/D update: present, writable,
    /// user, accessed (and dirty in the leaf), XD clear, no reserved bit,
    /// and CR4.PKE off. `walk` would then translate a user read, write or
    /// fetch with these references and write nothing, so this is that walk
    /// without its checks. It returns the page size and the page's physical
    /// base, or nil at the first entry that is not so (having observed the
    /// entries up to it); the caller then uses `walk`.
    @inlinable @inline(__always)
    public func walkGrantingAll<Memory: PhysicalMemory, Observer: WalkObserver>(
        _ address: UInt64, root: UInt64, memory: inout Memory, observer: inout Observer
    ) -> (pageSize: PageSize, frame: UInt64)? {
        guard !controls.protectionKeys, controls.mode.isCanonical(address) else { return nil }
        let forbidden = baseReservedBits | (1 << 63)
        // P, R/W, U/S and A; a leaf also needs D (bit 6). Literals: this
        // inlinable code runs in other modules, where a static would be
        // read through an accessor call on every walk.
        let tableBits: UInt64 = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 5
        var table = root & PageTableEntry.addressMask
        var level = controls.mode.levels
        while true {
            let slot = table &+ PagingMode.index(of: address, at: level) &* 8
            let entry = memory.load64(slot)
            observer.observe(WalkReference(dimension: .native, level: level, step: level, address: slot, entry: entry))
            let maps = level == 1 || (level <= 3 && entry & (1 << 7) != 0)
            let required = maps ? tableBits | 1 << 6 : tableBits
            if entry & required != required || entry & reservedBits(level: level, entry: entry, base: forbidden) != 0 {
                return nil
            }
            if maps {
                let size = PageSize(leafLevel: level)!
                return (size, entry & PageTableEntry.addressMask & ~size.offsetMask)
            }
            table = entry & PageTableEntry.addressMask
            level &-= 1
        }
    }

    /// Translates without observing the references.
    @inlinable
    public func walk<Memory: PhysicalMemory>(
        _ address: UInt64, access: MemoryAccess, root: UInt64, memory: inout Memory
    ) -> WalkResult {
        var observer = NoWalkObserver()
        return walk(address, access: access, root: root, memory: &memory, observer: &observer)
    }

    // MARK: The rules, shared with the nested walker

    /// Bits reserved in every entry: 51:MAXPHYADDR, and XD without EFER.NXE.
    @inlinable @inline(__always) public var baseReservedBits: UInt64 {
        controls.reservedAddressBits | (controls.noExecute ? 0 : 1 << 63)
    }

    /// The reserved bits of `entry` at `level`, given the base mask.
    @inlinable @inline(__always)
    public func reservedBits(level: Int, entry: UInt64, base: UInt64) -> UInt64 {
        if level >= 4 { return base | (1 << 7) }
        guard level > 1, entry & (1 << 7) != 0 else { return base }
        if level == 2 { return base | 0x1F_E000 }
        return base | (controls.supports1GPages ? 0x3FFF_E000 : 1 << 7)
    }

    /// The error code of a fault on a non-present entry.
    @inlinable public func notPresentCode(_ access: MemoryAccess) -> PageFaultErrorCode {
        var code: PageFaultErrorCode = []
        if access.type == .write { code.insert(.write) }
        if access.privilege == .user { code.insert(.user) }
        if access.type == .fetch && (controls.noExecute || controls.smep) { code.insert(.instructionFetch) }
        return code
    }

    /// The error code of a fault on a reserved bit.
    @inlinable public func reservedCode(_ access: MemoryAccess) -> PageFaultErrorCode {
        notPresentCode(access).union([.present, .reservedBit])
    }

    /// The error code if the combined rights deny `access`, or nil.
    @inlinable @inline(__always)
    public func accessFault(_ access: MemoryAccess, rights: RightsAccumulator, protectionKey: UInt8) -> PageFaultErrorCode? {
        let isWrite = access.type == .write
        let isFetch = access.type == .fetch
        var denied = false
        if access.privilege == .user {
            denied = !rights.user || (isWrite && !rights.writable)
        } else {
            if rights.user {
                if isFetch {
                    denied = controls.smep
                } else if controls.smap {
                    denied = access.privilege == .implicitSupervisor || !controls.alignmentCheck
                }
            }
            if isWrite && !rights.writable && controls.writeProtect { denied = true }
        }
        if isFetch && controls.noExecute && rights.executeDisabled { denied = true }
        var keyDenied = false
        if controls.protectionKeys && rights.user && !isFetch {
            let bits = controls.pkru &>> (2 &* UInt32(protectionKey))
            keyDenied = bits & 1 != 0
                || (isWrite && bits & 2 != 0 && (access.privilege == .user || controls.writeProtect))
        }
        guard denied || keyDenied else { return nil }
        var code = notPresentCode(access).union(.present)
        if keyDenied { code.insert(.protectionKey) }
        return code
    }

    /// Sets A on every entry from the root down to `leafLevel`, and D on the
    /// leaf for a write. The walk already succeeded, so every entry exists.
    @usableFromInline @inline(never)
    func setAccessedDirty<Memory: PhysicalMemory>(
        _ address: UInt64, root: UInt64, leafLevel: Int, write: Bool, memory: inout Memory
    ) {
        var table = root & PageTableEntry.addressMask
        var level = controls.mode.levels
        while true {
            let slot = table &+ PagingMode.index(of: address, at: level) &* 8
            let entry = memory.load64(slot)
            let bits: UInt64 = (1 << 5) | (level == leafLevel && write ? 1 << 6 : 0)
            if entry & bits != bits { memory.store64(slot, entry | bits) }
            if level == leafLevel { return }
            table = entry & PageTableEntry.addressMask
            level &-= 1
        }
    }
}

/// Combines entry rights over the levels of a walk.
@frozen public struct RightsAccumulator: Sendable {
    public var writable = true
    public var user = true
    public var executeDisabled = false

    @inlinable public init() {}

    /// Rights already combined.
    @inlinable public init(writable: Bool, user: Bool, executeDisabled: Bool) {
        self.writable = writable
        self.user = user
        self.executeDisabled = executeDisabled
    }

    /// Folds in one x86-64 entry.
    @inlinable @inline(__always) public mutating func add(_ entry: UInt64) {
        writable = writable && entry & (1 << 1) != 0
        user = user && entry & (1 << 2) != 0
        executeDisabled = executeDisabled || entry & (1 << 63) != 0
    }

    @inlinable public var effective: EffectiveRights {
        // The raw values of .writable, .user and .executable: this inlinable
        // code runs in other modules, where a static would be read through
        // an accessor call on every walk.
        EffectiveRights(rawValue: (writable ? 1 : 0) | (user ? 2 : 0) | (executeDisabled ? 0 : 4))
    }
}
