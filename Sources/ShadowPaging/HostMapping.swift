import Translation

/// The host's mapping of guest-physical memory (gPA → hPA): guest RAM sits
/// at one place in host-physical memory, and EPT tables with leaves of the
/// host page size map it. Host pages are mapped when the guest first takes
/// a frame in them, as a pre-faulting host would have them.
public struct HostMapping: Sendable {
    /// The host-physical address of guest-physical 0.
    public let guestBase: UInt64
    /// The size of guest-physical memory.
    public let memoryBytes: UInt64
    /// The host's page size for guest memory (4K, or 2M/1G for THP or hugetlbfs).
    public let pageSize: PageSize
    /// The EPT tables.
    public internal(set) var ept: PageTableBuilder
    /// One bit per host page: mapped yet?
    @usableFromInline var mapped: [UInt64]

    /// Where guest RAM starts in host-physical memory (64 GiB).
    public static let defaultGuestBase: UInt64 = 0x10_0000_0000
    /// Where EPT tables are allocated (32 GiB, 1 GiB of room).
    public static let eptTableBase: UInt64 = 0x8_0000_0000

    /// An empty mapping of `memoryBytes` of guest RAM (at most 32 GiB).
    public init(memoryBytes: UInt64, pageSize: PageSize, mode: PagingMode = .fourLevel,
                guestBase: UInt64 = HostMapping.defaultGuestBase, memory: inout SparsePhysicalMemory) {
        precondition(memoryBytes <= 32 << 30 && memoryBytes % pageSize.bytes == 0, "guest memory is at most 32 GiB, whole host pages")
        self.guestBase = guestBase
        self.memoryBytes = memoryBytes
        self.pageSize = pageSize
        // The table range is fresh, so the root frame is always available.
        ept = try! PageTableBuilder(format: .ept, mode: mode, allocator: FrameAllocator(base: HostMapping.eptTableBase, size: 1 << 30),
                                    memory: &memory)
        mapped = [UInt64](repeating: 0, count: Int((memoryBytes >> pageSize.shift + 63) / 64))
    }

    /// The EPT pointer of the tables (EPT A/D off).
    public var eptPointer: EPTPointer {
        EPTPointer(root: HostPhysicalAddress(ept.root), mode: ept.mode, accessedDirtyEnabled: false)
    }

    /// Whether the host page holding `guestPhysical` is mapped.
    @inlinable public func isBacked(_ guestPhysical: UInt64) -> Bool {
        let page = Int(truncatingIfNeeded: guestPhysical >> pageSize.shift)
        guard guestPhysical < memoryBytes else { return false }
        return mapped[page >> 6] & (1 << UInt64(page & 63)) != 0
    }

    /// Maps every host page of `[guestPhysical, guestPhysical + bytes)`.
    public mutating func back(_ guestPhysical: UInt64, bytes: UInt64, memory: inout SparsePhysicalMemory) {
        let first = guestPhysical >> pageSize.shift
        let last = (min(guestPhysical + bytes, memoryBytes) - 1) >> pageSize.shift
        guard guestPhysical < memoryBytes, first <= last else { return }
        let leaf = EPTEntry.Flags.rwx.rawValue | UInt64(EPTEntry.MemoryType.writeBack.rawValue) << 3
        for page in first...last {
            let index = Int(page)
            if mapped[index >> 6] & (1 << UInt64(index & 63)) != 0 { continue }
            mapped[index >> 6] |= 1 << UInt64(index & 63)
            let address = page << pageSize.shift
            // Each host page is mapped once and the table range holds a
            // 32 GiB guest's tables, so mapping cannot fail.
            try! ept.map(virtual: address, physical: guestBase + address, size: pageSize, leafBits: leaf, memory: &memory)
        }
    }

    /// Translates a guest-physical address by walking the EPT tables.
    /// Returns nil if the host page is not mapped.
    public func translate(_ guestPhysical: UInt64, memory: inout SparsePhysicalMemory) -> (hostPhysical: UInt64, pageSize: PageSize)? {
        let walker = EPTWalker(controls: EPTControls(pointer: eptPointer))
        var observer = NoWalkObserver()
        guard case let .translated(result) = walker.walk(guestPhysical, access: .read, memory: &memory, observer: &observer)
        else { return nil }
        return (result.hostPhysical, result.pageSize)
    }
}
