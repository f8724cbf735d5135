import Translation

/// A two-dimensional walk: guest x86-64 tables with the guest page size,
/// nested EPT tables with the host page size. Guest RAM sits at host-physical
/// 1 TiB; guest tables come from guest-physical 1 GiB onwards and guest data
/// pages from 4 GiB onwards, all mapped on first touch.
public struct NestedEngine: TranslationEngine {
    public let guestPageSize: PageSize
    public let hostPageSize: PageSize
    public let walker: NestedWalker
    public var memory: TableMemory
    public private(set) var guest: PageTableBuilder
    public private(set) var ept: PageTableBuilder
    /// The next guest-physical page handed to a first-touched guest page.
    public private(set) var nextGuestFrame: UInt64 = 1 << 32
    /// Host pages (by number) that EPT maps already.
    var mappedHostPages = Set<UInt64>()
    /// Guest tables EPT maps already.
    var mappedGuestTables = 0
    static let guestRAM: UInt64 = 1 << 40

    public init(guestPageSize: PageSize, hostPageSize: PageSize, guestMode: PagingMode = .fourLevel,
                hostMode: PagingMode = .fourLevel) throws(SimulationError) {
        self.guestPageSize = guestPageSize
        self.hostPageSize = hostPageSize
        memory = try TableMemory((NativeEngine.tableBase, NativeEngine.tableBytes), (NestedEngine.guestRAM + (1 << 30), 1 << 30))
        var host = memory
        var guestView = OffsetMemory(base: memory, offset: NestedEngine.guestRAM)
        do {
            guest = try PageTableBuilder(format: .x86, mode: guestMode,
                                         allocator: FrameAllocator(base: 1 << 30, size: 1 << 30), memory: &guestView)
            ept = try PageTableBuilder(format: .ept, mode: hostMode,
                                       allocator: FrameAllocator(base: NativeEngine.tableBase, size: NativeEngine.tableBytes), memory: &host)
        } catch {
            throw .mapping(error.description)
        }
        guest.nonLeafBits |= PageTableEntry.Flags.accessed.rawValue
        walker = NestedWalker(guest: PagingControls(mode: guestMode), nested: .ept(EPTControls(
            pointer: EPTPointer(root: HostPhysicalAddress(ept.root), mode: hostMode, accessedDirtyEnabled: false))))
        try mapNewGuestTables()
    }

    public var levels: Int { walker.guest.controls.mode.levels }
    public var guestRoot: UInt64 { guest.root }

    @inlinable
    public mutating func walk(_ address: UInt64, type: AccessType, recorder: inout WalkRecorder) throws(SimulationError) -> WalkOutcome {
        while true {
            recorder.reset()
            switch walker.walk(address, access: MemoryAccess(type, .user), guestRoot: guest.root, memory: &memory,
                               observer: &recorder) {
            case let .translated(translation):
                let size = translation.effectivePageSize
                return WalkOutcome(pageSize: size, frame: translation.hostPhysical & ~size.offsetMask, global: false)
            case .nonCanonical:
                throw .nonCanonical(address: address)
            case .guestFault:
                try mapGuestPage(of: address)
            case .eptViolation, .eptMisconfiguration, .nestedPageFault:
                throw .mapping("the nested walk of 0x\(String(address, radix: 16)) exits: \(self)")
            }
        }
    }

    /// Maps the guest page holding `address`, and in EPT its data and any
    /// new guest table.
    @usableFromInline @inline(never)
    mutating func mapGuestPage(of address: UInt64) throws(SimulationError) {
        let page = address & ~guestPageSize.offsetMask
        var view = OffsetMemory(base: memory, offset: NestedEngine.guestRAM)
        do {
            try guest.map(virtual: page, physical: nextGuestFrame, size: guestPageSize, leafBits: NativeEngine.leafBits,
                          memory: &view)
        } catch {
            throw .mapping(error.description)
        }
        try mapInEPT(nextGuestFrame, bytes: guestPageSize.bytes)
        nextGuestFrame &+= guestPageSize.bytes
        try mapNewGuestTables()
    }

    mutating func mapNewGuestTables() throws(SimulationError) {
        while mappedGuestTables < guest.tables.count {
            try mapInEPT(guest.tables[mappedGuestTables], bytes: 4096)
            mappedGuestTables += 1
        }
    }

    /// Maps `[guestPhysical, +bytes)` in EPT with host pages, identity plus
    /// the guest-RAM offset.
    mutating func mapInEPT(_ guestPhysical: UInt64, bytes: UInt64) throws(SimulationError) {
        let leaf = EPTEntry.Flags([.rwx, .accessed, .dirty]).rawValue | UInt64(EPTEntry.MemoryType.writeBack.rawValue) << 3
        var host = memory
        var page = guestPhysical & ~hostPageSize.offsetMask
        while page < guestPhysical + bytes {
            if mappedHostPages.insert(page >> hostPageSize.shift).inserted {
                do {
                    try ept.map(virtual: page, physical: page + NestedEngine.guestRAM, size: hostPageSize,
                                leafBits: leaf, memory: &host)
                } catch {
                    throw .mapping(error.description)
                }
            }
            page += hostPageSize.bytes
        }
    }
}
