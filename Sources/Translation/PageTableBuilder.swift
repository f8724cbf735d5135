/// The two page-table entry formats.
@frozen public enum TableFormat: String, Sendable, CaseIterable {
    /// x86-64 paging structures; also AMD's nested page tables (NPT).
    case x86
    /// Intel's extended page tables.
    case ept

    /// The bit that marks a large-page leaf in a PDE or PDPTE (bit 7 in both).
    @inlinable public var largePageBit: UInt64 { 1 << 7 }

    /// Whether `raw` is a present entry.
    @inlinable public func isPresent(_ raw: UInt64) -> Bool {
        self == .x86 ? raw & 1 != 0 : raw & 0x407 != 0
    }

    /// The bits of the non-leaf entries a builder writes by default: all
    /// rights, so that the leaf alone decides them.
    public var permissiveNonLeafBits: UInt64 {
        switch self {
        case .x86: PageTableEntry.Flags([.present, .writable, .user]).rawValue
        case .ept: EPTEntry.Flags([.rwx, .userExecute]).rawValue
        }
    }
}

/// Hands out zeroed 4 KiB frames for page tables from a physical range.
@frozen public struct FrameAllocator: Sendable {
    /// The next free frame.
    public private(set) var next: UInt64
    /// The end of the range (exclusive).
    public let limit: UInt64

    /// Frames come from `[base, base + size)`; `base` must be 4 KiB aligned.
    public init(base: UInt64, size: UInt64) {
        precondition(base & 0xFFF == 0, "a frame range starts on a 4 KiB boundary")
        next = base
        limit = base &+ size
    }

    /// Takes the next frame, or nil when the range is used up.
    public mutating func allocate() -> UInt64? {
        guard next &+ 4096 <= limit else { return nil }
        defer { next &+= 4096 }
        return next
    }
}

/// Why a page-table builder could not map a range.
public enum PageTableBuildError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The virtual or physical address is not aligned to the page size.
    case misaligned(virtual: UInt64, physical: UInt64, size: PageSize)
    /// The address is outside the hierarchy's virtual address width.
    case outOfRange(virtual: UInt64, mode: PagingMode)
    /// A leaf or a table already covers part of the new mapping.
    case overlaps(virtual: UInt64, level: Int)
    /// The table frame range is used up.
    case outOfTableMemory(limit: UInt64)

    public var description: String {
        func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
        switch self {
        case let .misaligned(virtual, physical, size):
            return "mapping \(hex(virtual)) -> \(hex(physical)) is not aligned to its \(size) page size"
        case let .outOfRange(virtual, mode):
            return "address \(hex(virtual)) does not fit \(mode) paging"
        case let .overlaps(virtual, level):
            return "mapping at \(hex(virtual)) overlaps an existing \(levelName(level)) entry"
        case let .outOfTableMemory(limit):
            return "no free frame for a page table below \(hex(limit))"
        }
    }
}

/// Builds x86-64 or EPT page tables in a `PhysicalMemory`: it allocates
/// tables from a frame range and writes entries that map ranges with a
/// chosen page size and leaf bits.
public struct PageTableBuilder: Sendable {
    /// The entry format written.
    public let format: TableFormat
    /// The depth of the hierarchy.
    public let mode: PagingMode
    /// The physical address of the root table (the CR3 or EPTP target).
    public let root: UInt64
    /// The bits written into every new non-leaf entry.
    public var nonLeafBits: UInt64
    /// Where table frames come from.
    public private(set) var allocator: FrameAllocator
    /// The physical address of every table, root first, in allocation order.
    public private(set) var tables: [UInt64]

    /// Allocates a zeroed root table.
    public init<Memory: PhysicalMemory>(
        format: TableFormat, mode: PagingMode, allocator: FrameAllocator, memory: inout Memory
    ) throws(PageTableBuildError) {
        self.format = format
        self.mode = mode
        self.allocator = allocator
        nonLeafBits = format.permissiveNonLeafBits
        guard let root = self.allocator.allocate() else {
            throw .outOfTableMemory(limit: allocator.limit)
        }
        PageTableBuilder.zero(root, in: &memory)
        self.root = root
        tables = [root]
    }

    /// Builds into an existing hierarchy whose root table is at `root`; new
    /// tables come from `allocator`.
    public init(format: TableFormat, mode: PagingMode, root: UInt64, allocator: FrameAllocator) {
        self.format = format
        self.mode = mode
        self.allocator = allocator
        self.root = root & PageTableEntry.addressMask
        nonLeafBits = format.permissiveNonLeafBits
        tables = [self.root]
    }

    /// Maps `[virtual, virtual + count × size)` to `[physical, …)` with pages
    /// of `size`. `leafBits` are the entry bits besides the address; the
    /// builder adds the large-page bit for 2M and 1G leaves.
    public mutating func map<Memory: PhysicalMemory>(
        virtual: UInt64, physical: UInt64, size: PageSize, count: UInt64 = 1, leafBits: UInt64,
        memory: inout Memory
    ) throws(PageTableBuildError) {
        guard virtual & size.offsetMask == 0, physical & size.offsetMask == 0 else {
            throw .misaligned(virtual: virtual, physical: physical, size: size)
        }
        for page in 0..<count {
            let offset = page &* size.bytes
            try mapOne(virtual: virtual &+ offset, physical: physical &+ offset, size: size,
                       leafBits: leafBits, memory: &memory)
        }
    }

    private mutating func mapOne<Memory: PhysicalMemory>(
        virtual: UInt64, physical: UInt64, size: PageSize, leafBits: UInt64, memory: inout Memory
    ) throws(PageTableBuildError) {
        guard virtual >> mode.addressBits == 0 else { throw .outOfRange(virtual: virtual, mode: mode) }
        var table = root
        var level = mode.levels
        while level > size.leafLevel {
            let slot = table &+ PagingMode.index(of: virtual, at: level) &* 8
            let entry = memory.load64(slot)
            if format.isPresent(entry) {
                if level <= 3, entry & format.largePageBit != 0 { throw .overlaps(virtual: virtual, level: level) }
                table = entry & PageTableEntry.addressMask
            } else {
                guard let frame = allocator.allocate() else { throw .outOfTableMemory(limit: allocator.limit) }
                PageTableBuilder.zero(frame, in: &memory)
                tables.append(frame)
                memory.store64(slot, frame | nonLeafBits)
                table = frame
            }
            level -= 1
        }
        let slot = table &+ PagingMode.index(of: virtual, at: level) &* 8
        guard !format.isPresent(memory.load64(slot)) else { throw .overlaps(virtual: virtual, level: level) }
        let largeBit = size == .size4K ? 0 : format.largePageBit
        memory.store64(slot, (physical & PageTableEntry.addressMask) | leafBits | largeBit)
    }

    /// The physical address of the entry that maps `virtual` at `level`,
    /// if the tables above it exist. Use it to edit entries in place.
    public func entryAddress<Memory: PhysicalMemory>(of virtual: UInt64, level: Int, memory: Memory) -> UInt64? {
        var table = root
        var current = mode.levels
        while current > level {
            let entry = memory.load64(table &+ PagingMode.index(of: virtual, at: current) &* 8)
            guard format.isPresent(entry), current == 1 || current > 3 || entry & format.largePageBit == 0 else {
                return nil
            }
            table = entry & PageTableEntry.addressMask
            current -= 1
        }
        return table &+ PagingMode.index(of: virtual, at: level) &* 8
    }

    private static func zero<Memory: PhysicalMemory>(_ frame: UInt64, in memory: inout Memory) {
        for word in 0..<UInt64(512) { memory.store64(frame &+ word &* 8, 0) }
    }
}
