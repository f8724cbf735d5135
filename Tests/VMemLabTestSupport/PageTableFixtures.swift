import Translation

/// One page mapped through a fresh hierarchy in a sparse memory, with the
/// address of every entry on its path, so a test can rewrite those entries
/// case after case without rebuilding the tables.
public struct SinglePathFixture {
    /// The memory that holds the tables (a reference: copies share it).
    public let memory: SparsePhysicalMemory
    public let mode: PagingMode
    public let pageSize: PageSize
    /// The base of the mapped page.
    public let virtualAddress: UInt64
    /// The physical base the page maps to.
    public let physicalAddress: UInt64
    /// The root table (CR3's address, or the EPTP's).
    public let root: UInt64
    /// The address of each entry on the path, root first.
    public let entryAddresses: [UInt64]
    /// The entries as the builder wrote them, root first.
    public let builtEntries: [UInt64]

    /// Maps the page at `virtualAddress` to `physicalAddress` with `leafBits`
    /// (the builder adds the large-page bit), tables from `tableBase`.
    public init(
        mode: PagingMode, pageSize: PageSize, virtualAddress: UInt64, physicalAddress: UInt64, leafBits: UInt64,
        format: TableFormat = .x86, tableBase: UInt64 = 0x10_0000
    ) throws(PageTableBuildError) {
        let memory = SparsePhysicalMemory()
        var view = memory
        var builder = try PageTableBuilder(
            format: format, mode: mode, allocator: FrameAllocator(base: tableBase, size: 0x10_0000), memory: &view)
        try builder.map(virtual: virtualAddress, physical: physicalAddress, size: pageSize, leafBits: leafBits,
                        memory: &view)
        var addresses: [UInt64] = []
        for level in stride(from: mode.levels, through: pageSize.leafLevel, by: -1) {
            guard let address = builder.entryAddress(of: virtualAddress, level: level, memory: memory) else {
                preconditionFailure("the builder just mapped this path")
            }
            addresses.append(address)
        }
        self.memory = memory
        self.mode = mode
        self.pageSize = pageSize
        self.virtualAddress = virtualAddress
        self.physicalAddress = physicalAddress
        root = builder.root
        entryAddresses = addresses
        builtEntries = addresses.map { memory.load64($0) }
    }

    /// The paging level of the entry at `index` on the path (0 = root).
    public func level(atIndex index: Int) -> Int { mode.levels - index }
    /// The position on the path of the entry at `level`.
    public func index(ofLevel level: Int) -> Int { mode.levels - level }

    /// The entries on the path now, root first.
    public var entries: [UInt64] { entryAddresses.map { memory.load64($0) } }

    /// Writes `entries` (root first) onto the path.
    public func setEntries(_ entries: [UInt64]) {
        precondition(entries.count == entryAddresses.count, "one value per entry on the path")
        for (address, value) in zip(entryAddresses, entries) { memory.store64(address, value) }
    }

    /// The entry at `level` now.
    public func entry(level: Int) -> UInt64 { memory.load64(entryAddresses[index(ofLevel: level)]) }

    /// Overwrites the entry at `level`.
    public func setEntry(_ raw: UInt64, level: Int) { memory.store64(entryAddresses[index(ofLevel: level)], raw) }

    /// A page-aligned user-half address whose index differs at every level,
    /// canonical for `mode` (and, for 5-level paging, not for 4-level).
    public static func sampleVirtualAddress(mode: PagingMode) -> UInt64 {
        mode == .fiveLevel ? 0x00A5_3F80_4000_0000 : 0x0000_3F80_4000_0000
    }

    /// An offset inside a page of `size` with non-zero bits at every level
    /// below the page.
    public static func sampleOffset(_ size: PageSize) -> UInt64 {
        switch size {
        case .size4K: 0x678
        case .size2M: 0x1_2678
        case .size1G: 0x1234_5678
        }
    }
}

/// The nested paging a `NestedFixture` builds.
public enum NestedFixtureKind: Hashable, Sendable, CustomStringConvertible {
    /// Intel EPT, with EPT A/D flags enabled or not in the EPTP.
    case ept(accessedDirty: Bool)
    /// AMD nested paging (x86-64 format tables).
    case npt

    public var format: TableFormat { self == .npt ? .x86 : .ept }

    public var description: String {
        switch self {
        case let .ept(accessedDirty): accessedDirty ? "EPT+A/D" : "EPT"
        case .npt: "NPT"
        }
    }
}

/// A guest with one page mapped, under nested paging: guest tables in
/// guest-physical memory, nested tables that map guest-physical `x` to
/// host-physical `x + hostOffset` for the guest-table region and the data
/// page, all in one sparse host memory.
public struct NestedFixture {
    /// Guest-physical `x` is host-physical `x + hostOffset`.
    public static let hostOffset: UInt64 = 0x1_0000_0000
    /// The guest-physical frames of the guest tables start here.
    public static let guestTableBase: UInt64 = 0x20_0000
    /// The guest-physical base of the data page (aligned to 1 GiB).
    public static let dataGuestPhysical: UInt64 = 0x4000_0000
    /// The host-physical frames of the nested tables start here.
    public static let nestedTableBase: UInt64 = 0x1000_0000

    /// Host-physical memory.
    public let memory: SparsePhysicalMemory
    public let kind: NestedFixtureKind
    public let guestMode: PagingMode
    public let hostMode: PagingMode
    public let guestPageSize: PageSize
    public let hostPageSize: PageSize
    /// The base of the guest's mapped page.
    public let virtualAddress: UInt64
    /// The guest-physical address of the guest's root table.
    public let guestRoot: UInt64
    /// The host-physical address of the nested root table.
    public let nestedRoot: UInt64
    /// The guest tables, in guest-physical terms.
    public let guestTables: PageTableBuilder
    /// The nested tables.
    public let nestedTables: PageTableBuilder

    /// Builds the two hierarchies. `guestLeafBits` are the guest leaf's bits;
    /// `tableRegionBits` and `dataBits` are the nested leaf bits for the
    /// guest-table region and for the data page.
    public init(
        guestMode: PagingMode, hostMode: PagingMode, guestPageSize: PageSize, hostPageSize: PageSize,
        kind: NestedFixtureKind, guestLeafBits: UInt64, tableRegionBits: UInt64? = nil, dataBits: UInt64? = nil
    ) throws(PageTableBuildError) {
        let memory = SparsePhysicalMemory()
        var host = memory
        var guestView = OffsetMemory(base: memory, offset: NestedFixture.hostOffset)
        let virtualAddress = SinglePathFixture.sampleVirtualAddress(mode: guestMode)
        var guest = try PageTableBuilder(
            format: .x86, mode: guestMode,
            allocator: FrameAllocator(base: NestedFixture.guestTableBase, size: 0x1_0000), memory: &guestView)
        try guest.map(virtual: virtualAddress, physical: NestedFixture.dataGuestPhysical, size: guestPageSize,
                      leafBits: guestLeafBits, memory: &guestView)

        var nested = try PageTableBuilder(
            format: kind.format, mode: hostMode,
            allocator: FrameAllocator(base: NestedFixture.nestedTableBase, size: 0x10_0000), memory: &host)
        let permissive = NestedFixture.permissiveLeafBits(kind)
        // The guest-table region: 16 frames from guestTableBase.
        let tableStart = NestedFixture.guestTableBase & ~hostPageSize.offsetMask
        let tableEnd = NestedFixture.guestTableBase + 0x1_0000
        let tablePages = (tableEnd - tableStart + hostPageSize.offsetMask) / hostPageSize.bytes
        try nested.map(virtual: tableStart, physical: tableStart + NestedFixture.hostOffset, size: hostPageSize,
                       count: tablePages, leafBits: tableRegionBits ?? permissive, memory: &host)
        // The host page that holds the data the sample address reaches.
        let dataPage = (NestedFixture.dataGuestPhysical + SinglePathFixture.sampleOffset(guestPageSize))
            & ~hostPageSize.offsetMask
        try nested.map(virtual: dataPage, physical: dataPage + NestedFixture.hostOffset, size: hostPageSize,
                       leafBits: dataBits ?? permissive, memory: &host)

        self.memory = memory
        self.kind = kind
        self.guestMode = guestMode
        self.hostMode = hostMode
        self.guestPageSize = guestPageSize
        self.hostPageSize = hostPageSize
        self.virtualAddress = virtualAddress
        guestRoot = guest.root
        nestedRoot = nested.root
        guestTables = guest
        nestedTables = nested
    }

    /// Nested leaf bits that allow everything: EPT RWX with write-back
    /// memory type, or NPT P, R/W, U/S.
    public static func permissiveLeafBits(_ kind: NestedFixtureKind) -> UInt64 {
        switch kind {
        case .ept: EPTEntry.Flags([.rwx, .userExecute]).rawValue | (6 << 3)
        case .npt: PageTableEntry.Flags([.present, .writable, .user]).rawValue
        }
    }

    /// The guest-virtual address the tests access: inside the mapped page.
    public var sampleAddress: UInt64 { virtualAddress + SinglePathFixture.sampleOffset(guestPageSize) }
    /// The guest-physical address `sampleAddress` maps to.
    public var sampleGuestPhysical: UInt64 {
        NestedFixture.dataGuestPhysical + SinglePathFixture.sampleOffset(guestPageSize)
    }

    /// The guest-physical address of the guest entry at `level` for `sampleAddress`.
    public func guestEntryGuestPhysical(level: Int) -> UInt64 {
        let view = OffsetMemory(base: memory, offset: NestedFixture.hostOffset)
        guard let address = guestTables.entryAddress(of: virtualAddress, level: level, memory: view) else {
            preconditionFailure("the guest path exists down to its leaf")
        }
        return address
    }

    /// The guest entry at `level` now.
    public func guestEntry(level: Int) -> UInt64 {
        memory.load64(guestEntryGuestPhysical(level: level) + NestedFixture.hostOffset)
    }

    /// Overwrites the guest entry at `level`.
    public func setGuestEntry(_ raw: UInt64, level: Int) {
        memory.store64(guestEntryGuestPhysical(level: level) + NestedFixture.hostOffset, raw)
    }

    /// The host-physical address of the nested entry at `level` that
    /// translates the guest-physical `address`.
    public func nestedEntryAddress(of address: UInt64, level: Int) -> UInt64 {
        guard let entry = nestedTables.entryAddress(of: address, level: level, memory: memory) else {
            preconditionFailure("the nested path exists down to its leaf")
        }
        return entry
    }

    /// The nested entry at `level` for guest-physical `address` now.
    public func nestedEntry(of address: UInt64, level: Int) -> UInt64 {
        memory.load64(nestedEntryAddress(of: address, level: level))
    }

    /// Overwrites the nested entry at `level` for guest-physical `address`.
    public func setNestedEntry(_ raw: UInt64, of address: UInt64, level: Int) {
        memory.store64(nestedEntryAddress(of: address, level: level), raw)
    }

    /// The nested paging for `NestedWalker`; NPT runs with `hostControls`
    /// (its mode is replaced by the fixture's host mode).
    public func nestedPaging(hostControls: PagingControls = PagingControls()) -> NestedPaging {
        switch kind {
        case let .ept(accessedDirty):
            return .ept(EPTControls(pointer: EPTPointer(root: HostPhysicalAddress(nestedRoot), mode: hostMode,
                                                        accessedDirtyEnabled: accessedDirty)))
        case .npt:
            var controls = hostControls
            controls.mode = hostMode
            return .npt(root: nestedRoot, controls: controls)
        }
    }
}
