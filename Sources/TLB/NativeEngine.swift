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
        // The tables this engine builds grant all rights and have A/D set,
        // so a walk usually needs none of the architectural checks.
        recorder.reset()
        if let (size, frame) = walker.walkGrantingAll(address, root: builder.root, memory: &memory, observer: &recorder) {
            return WalkOutcome(pageSize: size, frame: frame, global: false)
        }
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
