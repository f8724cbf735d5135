import GuestMemory
import Translation

/// How a measurement guest is laid out: its data size, guest page size,
/// host backing, paging depth and memslot flags.
public struct GuestConfiguration: Sendable, Hashable {
    /// Bytes of data memory the kernels use (the memslot is rounded up to
    /// the larger of the guest page and the backing page).
    public var dataBytes: Int
    /// The page size of the guest's data mapping.
    public var guestPage: PageSize
    /// How the host backs the data memory.
    public var backing: HostBacking
    /// 4- or 5-level guest paging (5-level needs LA57 in the supported CPUID).
    public var pagingMode: PagingMode
    /// Whether the page-table pool is mapped writable at `GuestLayout.tableWindowVirtual`.
    public var mapPageTablesIntoGuest: Bool
    /// The flags of the data memslot, such as dirty logging.
    public var dataSlotFlags: MemorySlotFlags
    /// Bytes of dirty ring per vCPU, or nil for the dirty bitmap.
    public var dirtyRingBytes: Int?
    /// The NUMA policy of the data memory.
    public var dataPolicy: MemoryPolicy
    /// The NUMA policy of the region holding the guest page tables and code:
    /// where the tables are placed.
    public var pageTablePolicy: MemoryPolicy

    public init(dataBytes: Int, guestPage: PageSize = .size4K, backing: HostBacking = .anonymous4K,
                pagingMode: PagingMode = .fourLevel, mapPageTablesIntoGuest: Bool = false,
                dataSlotFlags: MemorySlotFlags = [], dirtyRingBytes: Int? = nil,
                dataPolicy: MemoryPolicy = .local, pageTablePolicy: MemoryPolicy = .local) {
        self.dirtyRingBytes = dirtyRingBytes
        self.dataPolicy = dataPolicy
        self.pageTablePolicy = pageTablePolicy
        self.dataBytes = dataBytes
        self.guestPage = guestPage
        self.backing = backing
        self.pagingMode = pagingMode
        self.mapPageTablesIntoGuest = mapPageTablesIntoGuest
        self.dataSlotFlags = dataSlotFlags
    }

    /// The size of the data memslot.
    public var dataSlotBytes: UInt64 {
        let unit = max(guestPage.bytes, backing.pageSize.bytes)
        return (UInt64(dataBytes) + unit - 1) / unit * unit
    }
}
