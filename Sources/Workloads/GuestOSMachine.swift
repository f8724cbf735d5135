import Translation

/// The hardware a `GuestKernel` runs on, as the kernel sees it: guest
/// memory, page-table stores, CR3 loads, TLB invalidations and user accesses.
/// A native machine, a nested-paging machine and a shadow MMU each give
/// these operations their own cost; the kernel is the same on all of them.
public protocol GuestMachine {
    /// Reads the 8-byte word at the guest-physical `address` (the kernel
    /// reading its own tables through its direct map).
    func loadGuestPhysical(_ address: UInt64) -> UInt64
    /// The kernel stores `value` into the page-table entry at the
    /// guest-physical `address`.
    mutating func storePageTableEntry(_ address: UInt64, _ value: UInt64)
    /// The kernel zeroes the 4 KiB guest frame at `address` before it links
    /// it in as a page table.
    mutating func zeroPageTable(_ address: UInt64)
    /// The kernel took `bytes` of guest-physical memory at `address` for data
    /// or tables. The host backs them (the model pre-faults guest memory).
    mutating func backGuestFrames(_ address: UInt64, bytes: UInt64)
    /// `mov cr3`: the table at the guest-physical `root` becomes current.
    /// Without PCIDs this flushes every non-global TLB entry.
    mutating func loadCR3(_ root: UInt64)
    /// `invlpg`: drops the translations of the linear `address`.
    mutating func invalidatePage(_ address: UInt64)
    /// A full TLB flush of the current address space.
    mutating func flushTLB()
    /// A user access to the linear `address`. Returns the page fault the
    /// guest must handle, or nil when the access completed.
    mutating func access(_ address: UInt64, _ type: AccessType) -> PageFault?
}

/// Counts what a `GuestKernel` did, independent of the machine.
@frozen public struct GuestKernelStatistics: Hashable, Sendable {
    /// User accesses that completed.
    public var accesses: Int = 0
    /// Demand faults that installed a page.
    public var demandFaults: Int = 0
    /// Copy-on-write faults that copied a page.
    public var copyOnWriteFaults: Int = 0
    /// Accesses the kernel refused (no mapping, or a write to a read-only range).
    public var segmentationFaults: Int = 0
    /// Stores into page-table entries.
    public var pageTableStores: Int = 0
    /// Page-table frames zeroed and linked in.
    public var tablesAllocated: Int = 0
    /// CR3 loads.
    public var cr3Loads: Int = 0
    /// INVLPG instructions.
    public var invalidations: Int = 0
    /// Full TLB flushes.
    public var flushes: Int = 0
    public init() {}
}
