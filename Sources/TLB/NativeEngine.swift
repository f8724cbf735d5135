import Translation

/// A one-dimensional walk of x86-64 tables that map every touched page with
/// one page size. It is native paging, and also shadow paging: a shadow
/// table maps guest-virtual to host-physical with the smaller of the guest
/// and host page sizes, so its walk is this one at that size.
public struct NativeEngine: TranslationEngine {
    public let pageSize: PageSize
    public let walker: PageWalker
    public var memory: TableMemory
    public private(set) var builder: PageTableBuilder
    /// The next physical page handed to a first-touched virtual page.
    public private(set) var nextFrame: UInt64
    /// The bits of every leaf: present, writable, user, accessed, dirty.
    static let leafBits = PageTableEntry.Flags([.present, .writable, .user, .accessed, .dirty]).rawValue

    /// Page tables: 4 GiB of frames from physical 16 MiB (a million tables).
    static let tableBase: UInt64 = 0x100_0000
    static let tableBytes: UInt64 = 1 << 32

    /// Tables at physical 16 MiB onwards; data pages from 1 TiB onwards.
    public init(pageSize: PageSize, mode: PagingMode = .fourLevel) throws(SimulationError) {
        self.pageSize = pageSize
        walker = PageWalker(controls: PagingControls(mode: mode))
        memory = try TableMemory((NativeEngine.tableBase, NativeEngine.tableBytes))
        var view = memory
        do {
            builder = try PageTableBuilder(format: .x86, mode: mode,
                                           allocator: FrameAllocator(base: NativeEngine.tableBase, size: NativeEngine.tableBytes), memory: &view)
        } catch {
            throw .mapping(error.description)
        }
        builder.nonLeafBits |= PageTableEntry.Flags.accessed.rawValue
        nextFrame = 1 << 40
    }

    public var levels: Int { walker.controls.mode.levels }
    public var guestRoot: UInt64 { 0 }

    @inlinable
    public mutating func walk(_ address: UInt64, type: AccessType, recorder: inout WalkRecorder) throws(SimulationError) -> WalkOutcome {
        if let outcome = permissiveWalk(address, recorder: &recorder) { return outcome }
        while true {
            recorder.reset()
            switch walker.walk(address, access: MemoryAccess(type, .user), root: builder.root, memory: &memory,
                               observer: &recorder) {
            case let .translated(translation):
                return WalkOutcome(pageSize: translation.pageSize,
                                   frame: translation.physicalAddress & ~translation.pageSize.offsetMask, global: false)
            case .nonCanonical:
                throw .nonCanonical(address: address)
            case .fault:
                try mapPage(of: address)
            }
        }
    }

    /// The walk of `address` when every entry on its path grants all rights
    /// and needs no A/D update: present, writable, user, accessed (and
    /// dirty in the leaf), execute allowed, no reserved bit, and protection
    /// keys off. The architectural walk of any user access then succeeds
    /// with these references and changes nothing, so this is that walk
    /// without its checks. Returns nil (having recorded part of the walk)
    /// at the first entry that is not so; the caller then walks again.
    @inlinable @inline(__always)
    func permissiveWalk(_ address: UInt64, recorder: inout WalkRecorder) -> WalkOutcome? {
        let controls = walker.controls
        guard !controls.protectionKeys, controls.mode.isCanonical(address) else { return nil }
        let forbidden = walker.baseReservedBits | (1 << 63)
        // P, R/W, U/S and A; the leaf also needs D (bit 6). Literals, so
        // that no static of another module is read per walk.
        let tableBits: UInt64 = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 5
        recorder.reset()
        var table = builder.root & PageTableEntry.addressMask
        var level = controls.mode.levels
        while true {
            let slot = table &+ PagingMode.index(of: address, at: level) &* 8
            let entry = memory.load64(slot)
            recorder.observe(WalkReference(dimension: .native, level: level, step: level, address: slot, entry: entry))
            let maps = level == 1 || (level <= 3 && entry & (1 << 7) != 0)
            let required = maps ? tableBits | 1 << 6 : tableBits
            if entry & required != required
                || entry & walker.reservedBits(level: level, entry: entry, base: forbidden) != 0 { return nil }
            if maps {
                let size = PageSize(leafLevel: level)!
                return WalkOutcome(pageSize: size, frame: entry & PageTableEntry.addressMask & ~size.offsetMask, global: false)
            }
            table = entry & PageTableEntry.addressMask
            level &-= 1
        }
    }

    /// Reads the entries above the leaf (usually in host caches) and
    /// prefetches the leaf entry.
    @inlinable
    public func prefetchWalk(_ address: UInt64) -> UInt64? {
        var table = builder.root & PageTableEntry.addressMask
        var level = walker.controls.mode.levels
        while true {
            let slot = table &+ PagingMode.index(of: address, at: level) &* 8
            if level == 1 {
                memory.prefetch(slot)
                return slot
            }
            let entry = memory.load64(slot)
            if entry & 1 == 0 { return nil }
            if level <= 3 && entry & (1 << 7) != 0 {
                memory.prefetch(slot)
                return slot
            }
            table = entry & PageTableEntry.addressMask
            level &-= 1
        }
    }

    /// Maps the page holding `address` to the next free physical page.
    @usableFromInline @inline(never)
    mutating func mapPage(of address: UInt64) throws(SimulationError) {
        let page = address & ~pageSize.offsetMask
        do {
            try builder.map(virtual: page, physical: nextFrame, size: pageSize, leafBits: Self.leafBits, memory: &memory)
        } catch {
            throw .mapping(error.description)
        }
        nextFrame &+= pageSize.bytes
    }
}
