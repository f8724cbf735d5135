/// Where a synthetic workload's data lies in the virtual address space, and
/// how many accesses it makes.
@frozen public struct WorkloadRegion: Hashable, Sendable {
    /// The first virtual address, aligned to 1 GiB by default so that every
    /// page size maps the region without straddling.
    public var base: UInt64
    /// The footprint in bytes (at least one 64-byte line).
    public var bytes: UInt64
    /// The number of accesses the stream yields.
    public var accesses: UInt64

    /// The default base: 16 TiB, inside the user half of 4-level paging.
    public static let defaultBase: UInt64 = 0x1000_0000_0000

    public init(base: UInt64 = WorkloadRegion.defaultBase, bytes: UInt64, accesses: UInt64) {
        precondition(bytes >= 64, "a workload touches at least one 64-byte line")
        self.base = base
        self.bytes = bytes
        self.accesses = accesses
    }

    /// The number of 4 KiB pages the footprint spans.
    @inlinable public var pages: UInt64 { (bytes &+ 4095) &>> 12 }
}
