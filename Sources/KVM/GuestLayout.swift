import Translation

/// Where the runner puts things in a measurement guest. Guest-physical:
/// memslot 0 at 0 holds the kernel code and the page tables; memslot 1 at
/// 4 GiB (1 GiB-aligned, for 1 GiB guest pages) holds the data. Guest-virtual:
/// code at 2 MiB, data at 512 GiB, and, when asked, the page-table pool
/// mapped writable at 256 GiB so that kernels can store into their own tables.
public enum GuestLayout {
    public static let systemSlot: UInt32 = 0
    public static let dataSlot: UInt32 = 1
    /// The guest-physical address of the kernel code.
    public static let codeGuestPhysical: UInt64 = 0x1000
    /// The bytes reserved for kernel code.
    public static let codeBytes: UInt64 = 0x4000
    /// The guest-virtual address of the kernel code.
    public static let codeVirtual: UInt64 = 0x20_0000
    /// The guest-physical start of the page-table pool.
    public static let tablePoolGuestPhysical: UInt64 = 0x10_0000
    /// The guest-physical address of the data memslot.
    public static let dataGuestPhysical: UInt64 = 0x1_0000_0000
    /// The guest-virtual address of the data.
    public static let dataVirtual: UInt64 = 0x80_0000_0000
    /// The guest-virtual address of the page-table pool window.
    public static let tableWindowVirtual: UInt64 = 0x40_0000_0000

    /// Bytes of page-table pool enough for `dataBytes` mapped with `page`,
    /// the code, and a 4 KiB window onto the pool itself.
    static func tablePoolBytes(dataBytes: UInt64, page: PageSize) -> UInt64 {
        let leafTables: UInt64 = switch page {
        case .size4K: (dataBytes + (1 << 21) - 1) >> 21
        case .size2M: (dataBytes + (1 << 30) - 1) >> 30
        case .size1G: 1
        }
        let upper = (dataBytes >> 30) + 16
        let poolPages = leafTables + upper
        let windowTables = poolPages / 512 + 4
        return (poolPages + windowTables + 16) * 4096
    }
}
