import Translation

/// Tables mapping `pages` 4 KiB pages natively and under EPT, and a walker
/// for each; walks cycle through the pages in a scrambled order.
struct WalkFixture {
    let pages: UInt64
    var memory = SparsePhysicalMemory(initialFrames: 4096)
    let nativeRoot: UInt64
    let guestRoot: UInt64
    let native = PageWalker(controls: PagingControls())
    let nested: NestedWalker
    static let base: UInt64 = 0x7F00_0000_0000

    init(pages: UInt64) {
        self.pages = pages
        var host = memory
        let leaf = PageTableEntry.Flags([.present, .writable, .user, .accessed, .dirty]).rawValue
        do {
            var table = try PageTableBuilder(format: .x86, mode: .fourLevel,
                                             allocator: FrameAllocator(base: 0x100_0000, size: 1 << 24), memory: &host)
            try table.map(virtual: Self.base, physical: 0x1_0000_0000, size: .size4K, count: pages, leafBits: leaf, memory: &host)
            nativeRoot = table.root

            let guestRAM: UInt64 = 0x10_0000_0000
            var guestView = OffsetMemory(base: memory, offset: guestRAM)
            var guest = try PageTableBuilder(format: .x86, mode: .fourLevel,
                                             allocator: FrameAllocator(base: 0x200_0000, size: 1 << 24), memory: &guestView)
            try guest.map(virtual: Self.base, physical: 0x4000_0000, size: .size4K, count: pages, leafBits: leaf, memory: &guestView)
            var ept = try PageTableBuilder(format: .ept, mode: .fourLevel,
                                           allocator: FrameAllocator(base: 0x400_0000, size: 1 << 24), memory: &host)
            let eptLeaf = EPTEntry.Flags([.rwx, .accessed, .dirty]).rawValue | 6 << 3
            try ept.map(virtual: 0x200_0000, physical: 0x200_0000 + guestRAM, size: .size4K,
                        count: (guest.allocator.next - 0x200_0000) >> 12, leafBits: eptLeaf, memory: &host)
            try ept.map(virtual: 0x4000_0000, physical: 0x4000_0000 + guestRAM, size: .size4K, count: pages,
                        leafBits: eptLeaf, memory: &host)
            guestRoot = guest.root
            nested = NestedWalker(guest: PagingControls(), nested: .ept(EPTControls(
                pointer: EPTPointer(root: HostPhysicalAddress(ept.root), mode: .fourLevel, accessedDirtyEnabled: true))))
        } catch {
            fatalError("benchmark fixture: \(error)")
        }
    }

    /// The address of the `index`-th walk: pages in a scrambled order.
    @inline(__always) func address(_ index: Int) -> UInt64 {
        Self.base &+ ((UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9) % pages) &<< 12
    }

    mutating func walk1D(_ index: Int) -> UInt64 {
        guard case let .translated(result) = native.walk(address(index), access: .userRead, root: nativeRoot, memory: &memory)
        else { return 0 }
        return result.physicalAddress
    }

    mutating func walk2D(_ index: Int) -> UInt64 {
        var observer = NoWalkObserver()
        guard case let .translated(result) = nested.walk(address(index), access: .userRead, guestRoot: guestRoot,
                                                          memory: &memory, observer: &observer)
        else { return 0 }
        return result.hostPhysical
    }
}
