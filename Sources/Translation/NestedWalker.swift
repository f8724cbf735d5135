/// The nested (second-dimension) paging of a 2D walk.
@frozen public enum NestedPaging: Hashable, Sendable {
    /// Intel EPT.
    case ept(EPTControls)
    /// AMD nested paging: x86-64 tables at nCR3, walked as user accesses
    /// with the host's paging controls (protection keys aside: they govern
    /// linear addresses only).
    case npt(root: UInt64, controls: PagingControls)

    /// The depth of the nested hierarchy.
    public var mode: PagingMode {
        switch self {
        case let .ept(controls): controls.pointer.mode ?? .fourLevel
        case let .npt(_, controls): controls.mode
        }
    }
}

/// How a 2D walk ended.
@frozen public enum NestedWalkResult: Hashable, Sendable {
    case translated(NestedTranslation)
    /// The guest's own tables fault: the guest gets this #PF.
    case guestFault(PageFault)
    /// An EPT violation; the qualification includes bits 7 and 8.
    case eptViolation(EPTViolationQualification, guestPhysical: UInt64, level: Int)
    /// An EPT misconfiguration.
    case eptMisconfiguration(guestPhysical: UInt64, level: Int)
    /// An AMD nested page fault: EXITINFO1 holds the #PF error code, with
    /// bit 32 for the final translation or bit 33 for a guest table access.
    case nestedPageFault(exitInfo1: UInt64, guestPhysical: UInt64, level: Int)
    /// The guest-virtual address is not canonical.
    case nonCanonical

    /// Whether the walk exits to the hypervisor (nested fault or misconfiguration).
    public var isVMExit: Bool {
        switch self {
        case .eptViolation, .eptMisconfiguration, .nestedPageFault: true
        case .translated, .guestFault, .nonCanonical: false
        }
    }
}

/// A successful 2D translation.
@frozen public struct NestedTranslation: Hashable, Sendable {
    public var guestPhysical: UInt64
    public var hostPhysical: UInt64
    /// The page size of the guest's leaf.
    public var guestPageSize: PageSize
    /// The page size of the nested leaf for the final address.
    public var hostPageSize: PageSize
    /// The guest rights combined over the guest levels.
    public var guestRights: EffectiveRights

    @inlinable public init(
        guestPhysical: UInt64, hostPhysical: UInt64, guestPageSize: PageSize, hostPageSize: PageSize,
        guestRights: EffectiveRights
    ) {
        self.guestPhysical = guestPhysical
        self.hostPhysical = hostPhysical
        self.guestPageSize = guestPageSize
        self.hostPageSize = hostPageSize
        self.guestRights = guestRights
    }

    /// The size a TLB entry for this translation can have: the smaller of the two.
    @inlinable public var effectivePageSize: PageSize { min(guestPageSize, hostPageSize) }
}

/// The two-dimensional walker of nested paging (EPT or NPT).
///
/// Every guest paging-structure reference is a guest-physical address, first
/// translated through the nested tables: CR3's table first, then each guest
/// level, then the final guest-physical address. A walk with g guest levels
/// and h nested levels makes g·h + g + h references when nothing is cached.
/// Every reference goes to the observer in order.
///
/// A/D bits are set in both dimensions. A guest A/D update is a write to
/// guest memory: it needs nested write permission (or it exits with a write
/// violation on a paging-structure access) and sets the nested D bit. With
/// EPT A/D enabled, guest paging-structure reads count as EPT writes (SDM
/// §29.3.5). Guest A/D bits are written after the guest walk succeeds and
/// before the final address is translated; a walk that faults in the guest
/// dimension sets no guest bit.
@frozen public struct NestedWalker: Sendable {
    /// The guest's paging controls (its CR0, CR4, EFER, PKRU).
    public var guest: PageWalker
    /// The nested paging.
    public var nested: NestedPaging

    @inlinable public init(guest: PagingControls, nested: NestedPaging) {
        self.guest = PageWalker(controls: guest)
        self.nested = nested
    }

    /// The outcome of one nested translation inside a 2D walk.
    @usableFromInline enum NestedStep {
        case ok(EPTTranslation)
        case exit(NestedWalkResult)
    }

    /// Translates a guest-physical address through the nested tables.
    /// `step` is the guest level it serves, or 0 for the final address.
    @inlinable @inline(__always)
    func translateNested<Memory: PhysicalMemory, Observer: WalkObserver>(
        _ guestPhysical: UInt64, access: AccessType, userLinear: Bool, step: Int, memory: inout Memory,
        observer: inout Observer
    ) -> NestedStep {
        switch nested {
        case let .ept(controls):
            let walker = EPTWalker(controls: controls)
            switch walker.walk(guestPhysical, access: access, userLinear: userLinear, memory: &memory,
                               observer: &observer, dimension: .nested, step: step) {
            case let .translated(translation): return .ok(translation)
            case let .violation(qualification, level):
                var full = qualification.union(.linearAddressValid)
                if step == 0 { full.insert(.finalTranslation) }
                return .exit(.eptViolation(full, guestPhysical: guestPhysical, level: level))
            case let .misconfiguration(level):
                return .exit(.eptMisconfiguration(guestPhysical: guestPhysical, level: level))
            }
        case let .npt(root, controls):
            // Protection keys govern linear addresses only (SDM vol. 3A
            // §4.6.2, AMD APM vol. 2 §5.6.7); a nested walk translates a
            // guest-physical address, so PKRU never applies to it.
            var nestedControls = controls
            nestedControls.protectionKeys = false
            let walker = PageWalker(controls: nestedControls)
            var forwarded = StepObserver(inner: observer, step: step)
            // A guest-physical address has no canonical form: one the nested
            // tables reach goes to the 1D walker sign-extended from its top
            // bit, which selects the same entries and the same page offset.
            let reach = controls.mode.addressBits
            let walked = guestPhysical >> reach == 0
                ? UInt64(bitPattern: Int64(bitPattern: guestPhysical &<< (64 &- reach)) &>> (64 &- reach))
                : guestPhysical
            let result = walker.walk(walked, access: MemoryAccess(access, .user), root: root,
                                     memory: &memory, observer: &forwarded, dimension: .nested)
            observer = forwarded.inner
            switch result {
            case let .translated(translation):
                var rights: EPTViolationQualification = [.readable]
                if translation.rights.contains(.writable) { rights.insert(.writable) }
                if translation.rights.contains(.executable) { rights.insert(.executable) }
                return .ok(EPTTranslation(hostPhysical: translation.physicalAddress, pageSize: translation.pageSize,
                                          rights: rights, leafEntryAddress: translation.leafEntryAddress))
            case let .fault(fault):
                let info = UInt64(fault.errorCode.rawValue) | (step == 0 ? 1 << 32 : 1 << 33)
                return .exit(.nestedPageFault(exitInfo1: info, guestPhysical: guestPhysical, level: fault.level))
            case .nonCanonical:
                // A guest-physical address wider than the nested tables reach.
                let info = UInt64(walker.reservedCode(MemoryAccess(access, .user)).rawValue) | (step == 0 ? 1 << 32 : 1 << 33)
                return .exit(.nestedPageFault(exitInfo1: info, guestPhysical: guestPhysical, level: controls.mode.levels))
            }
        }
    }

    /// Whether guest paging-structure accesses count as nested writes.
    @inlinable var tableAccessesAreWrites: Bool {
        if case let .ept(controls) = nested { return controls.pointer.accessedDirtyEnabled }
        return false
    }

    /// Translates the guest-virtual `address` for `access`, with the guest's
    /// CR3 table at guest-physical `guestRoot`.
    @inlinable
    public func walk<Memory: PhysicalMemory, Observer: WalkObserver>(
        _ address: UInt64, access: MemoryAccess, guestRoot: UInt64, memory: inout Memory,
        observer: inout Observer
    ) -> NestedWalkResult {
        guard guest.controls.mode.isCanonical(address) else { return .nonCanonical }
        let reserved = guest.baseReservedBits
        let tableAccess: AccessType = tableAccessesAreWrites ? .write : .read
        let userLinear = access.privilege == .user
        return withUnsafeTemporaryAllocation(of: UsedEntry.self, capacity: 5) { used in
            var table = guestRoot & PageTableEntry.addressMask
            var level = guest.controls.mode.levels
            var rights = RightsAccumulator()
            var entry: UInt64 = 0
            var count = 0
            while true {
                let entryGuestPhysical = table &+ PagingMode.index(of: address, at: level) &* 8
                let located: EPTTranslation
                switch translateNested(entryGuestPhysical, access: tableAccess, userLinear: userLinear, step: level,
                                       memory: &memory, observer: &observer) {
                case let .ok(translation): located = translation
                case let .exit(result): return result
                }
                entry = memory.load64(located.hostPhysical)
                observer.observe(WalkReference(dimension: .guest, level: level, step: level,
                                               address: located.hostPhysical, entry: entry))
                if entry & 1 == 0 {
                    return .guestFault(PageFault(errorCode: guest.notPresentCode(access), level: level))
                }
                if entry & guest.reservedBits(level: level, entry: entry, base: reserved) != 0 {
                    return .guestFault(PageFault(errorCode: guest.reservedCode(access), level: level))
                }
                rights.add(entry)
                used[count] = UsedEntry(guestPhysical: entryGuestPhysical, translation: located, level: level)
                count &+= 1
                if level == 1 || (level <= 3 && entry & (1 << 7) != 0) { break }
                table = entry & PageTableEntry.addressMask
                level &-= 1
            }
            let guestSize = PageSize(leafLevel: level)!  // level is 1, 2 or 3 here
            let key = UInt8(truncatingIfNeeded: (entry &>> 59) & 0xF)
            if let code = guest.accessFault(access, rights: rights, protectionKey: key) {
                return .guestFault(PageFault(errorCode: code, level: level))
            }
            if let exit = updateGuestAccessedDirty(used: used, count: count, write: access.type == .write, memory: &memory) {
                return exit
            }
            let guestPhysical = (entry & PageTableEntry.addressMask & ~guestSize.offsetMask) | (address & guestSize.offsetMask)
            switch translateNested(guestPhysical, access: access.type, userLinear: userLinear, step: 0,
                                   memory: &memory, observer: &observer) {
            case let .ok(final):
                return .translated(NestedTranslation(
                    guestPhysical: guestPhysical, hostPhysical: final.hostPhysical, guestPageSize: guestSize,
                    hostPageSize: final.pageSize, guestRights: rights.effective))
            case let .exit(result):
                return result
            }
        }
    }

    /// A guest entry used by the walk, and where the nested tables put it.
    @usableFromInline struct UsedEntry {
        var guestPhysical: UInt64
        var translation: EPTTranslation
        var level: Int
        @usableFromInline init(guestPhysical: UInt64, translation: EPTTranslation, level: Int) {
            self.guestPhysical = guestPhysical
            self.translation = translation
            self.level = level
        }
    }

    /// Sets guest A bits (and D on the leaf of a write). Each update is a
    /// write to guest memory through the nested translation already found:
    /// it needs nested write permission and sets the nested D bit.
    @usableFromInline
    func updateGuestAccessedDirty<Memory: PhysicalMemory>(
        used: UnsafeMutableBufferPointer<UsedEntry>, count: Int, write: Bool, memory: inout Memory
    ) -> NestedWalkResult? {
        for index in 0..<count {
            let item = used[index]
            let hostAddress = item.translation.hostPhysical
            let entry = memory.load64(hostAddress)
            let bits: UInt64 = (1 << 5) | (index == count &- 1 && write ? 1 << 6 : 0)
            if entry & bits == bits { continue }
            guard item.translation.isWritable else {
                switch nested {
                case .ept:
                    let qualification = EPTViolationQualification([.write, .linearAddressValid]).union(item.translation.rights)
                    return .eptViolation(qualification, guestPhysical: item.guestPhysical, level: item.translation.pageSize.leafLevel)
                case .npt:
                    let code: PageFaultErrorCode = [.present, .write, .user]
                    return .nestedPageFault(exitInfo1: UInt64(code.rawValue) | 1 << 33, guestPhysical: item.guestPhysical,
                                            level: item.translation.pageSize.leafLevel)
                }
            }
            markNestedDirty(item.translation.leafEntryAddress, memory: &memory)
            memory.store64(hostAddress, entry | bits)
        }
        return nil
    }

    /// Sets the nested leaf's D bit after a write through it: EPT bit 9
    /// (with EPT A/D enabled) or NPT bit 6.
    @inlinable
    func markNestedDirty<Memory: PhysicalMemory>(_ leafEntryAddress: UInt64, memory: inout Memory) {
        let dirtyBit: UInt64
        switch nested {
        case let .ept(controls):
            guard controls.pointer.accessedDirtyEnabled else { return }
            dirtyBit = 1 << 9
        case .npt:
            dirtyBit = 1 << 6
        }
        let leaf = memory.load64(leafEntryAddress)
        if leaf & dirtyBit == 0 { memory.store64(leafEntryAddress, leaf | dirtyBit) }
    }
}

/// Forwards references from a 1D walker, relabelled with the guest step
/// they serve in a 2D walk.
@usableFromInline struct StepObserver<Inner: WalkObserver>: WalkObserver {
    @usableFromInline var inner: Inner
    @usableFromInline let step: Int
    @inlinable init(inner: Inner, step: Int) {
        self.inner = inner
        self.step = step
    }
    @inlinable @inline(__always) mutating func observe(_ reference: WalkReference) {
        var relabelled = reference
        relabelled.step = step
        inner.observe(relabelled)
    }
}
