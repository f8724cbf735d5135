import Foundation
import Translation

/// A page-table layout read from a walk file (the format is documented in
/// docs/WALK-FILES.md): memory, one or two hierarchies given as mapped
/// ranges and explicit entries, the paging controls, and the access to walk.
struct WalkLayout {
    /// The address to translate (guest-virtual in a nested layout).
    var address: UInt64
    var access: MemoryAccess
    /// The size of host-physical memory; every table and entry address must be below it.
    var memorySize: UInt64
    /// The (guest) paging controls and the root of its tables.
    var paging: PagingControls
    var root: UInt64
    /// The nested paging of a 2D walk, or nil for a native walk.
    var nested: NestedPaging?
    /// In a 2D layout, the host-physical address of guest-physical 0.
    var guestBase: UInt64
    /// Memory holding every table.
    let memory: SparsePhysicalMemory

    /// Reads and builds a layout from TOML text.
    init(toml text: String) throws {
        let top = try TOMLReader.parse(text)
        try top.rejectUnknownKeys(["address", "access", "privilege", "memory", "paging", "nested"])
        address = try top.uint64("address")
        access = MemoryAccess(try Self.accessType(top), try Self.privilege(top))

        let memorySection = try top.table("memory")
        try memorySection.rejectUnknownKeys(["size", "guest_base"])
        memorySize = try memorySection.byteCount("size")
        memory = SparsePhysicalMemory()

        let nestedSection = try top.optionalTable("nested")
        guestBase = nestedSection == nil ? 0 : try memorySection.uint64("guest_base")
        if nestedSection == nil && memorySection.has("guest_base") {
            throw InputFileError(path: "memory.guest_base", "only a layout with a [nested] section has guest-physical memory")
        }
        if guestBase & 0xFFF != 0 { throw InputFileError(path: "memory.guest_base", "must be 4 KiB aligned") }

        let pagingSection = try top.table("paging")
        try pagingSection.rejectUnknownKeys(["levels", "root", "table_area", "table_area_size", "controls", "map", "entry"])
        paging = try Self.controls(pagingSection)
        let guestHierarchy = try Hierarchy(pagingSection, format: .x86, mode: paging.mode, memorySize: memorySize,
                                           offset: guestBase, physicalLabel: nestedSection == nil ? "physical" : "guest-physical")
        root = guestHierarchy.root

        if let nestedSection {
            try nestedSection.rejectUnknownKeys(["kind", "levels", "root", "accessed_dirty", "table_area", "table_area_size",
                                                 "controls", "map", "entry"])
            let kind = try nestedSection.string("kind")
            switch kind {
            case "ept":
                let mode = try Self.mode(nestedSection)
                let hierarchy = try Hierarchy(nestedSection, format: .ept, mode: mode, memorySize: memorySize, offset: 0,
                                              physicalLabel: "host-physical")
                try hierarchy.build(into: memory)
                let pointer = EPTPointer(root: HostPhysicalAddress(hierarchy.root), mode: mode,
                                         accessedDirtyEnabled: try nestedSection.bool("accessed_dirty", default: false))
                nested = .ept(EPTControls(pointer: pointer, maxPhysicalAddressBits: paging.maxPhysicalAddressBits))
            case "npt":
                let controls = try Self.controls(nestedSection)
                let hierarchy = try Hierarchy(nestedSection, format: .x86, mode: controls.mode, memorySize: memorySize,
                                              offset: 0, physicalLabel: "host-physical")
                try hierarchy.build(into: memory)
                nested = .npt(root: hierarchy.root, controls: controls)
            default:
                throw InputFileError(path: "nested.kind", "unknown kind '\(kind)'; expected ept or npt")
            }
        } else {
            nested = nil
        }
        try guestHierarchy.build(into: memory)
    }

    private static func accessType(_ top: TOMLReader) throws -> AccessType {
        let name = try top.string("access", default: "read")
        guard let type = AccessType.allCases.first(where: { $0.description == name }) else {
            throw InputFileError(path: "access", "unknown access '\(name)'; expected read, write or fetch")
        }
        return type
    }

    private static func privilege(_ top: TOMLReader) throws -> AccessPrivilege {
        let name = try top.string("privilege", default: "user")
        switch name {
        case "user": return .user
        case "supervisor": return .supervisor
        case "implicit", "implicit-supervisor": return .implicitSupervisor
        default: throw InputFileError(path: "privilege", "unknown privilege '\(name)'; expected user, supervisor or implicit")
        }
    }

    private static func mode(_ section: TOMLReader) throws -> PagingMode {
        PagingMode(rawValue: try section.int("levels", default: 4, in: 4...5))!  // 4...5 are the two modes
    }

    /// The `controls` table of a hierarchy: CR0.WP, EFER.NXE, CR4 bits, PKRU, MAXPHYADDR.
    private static func controls(_ section: TOMLReader) throws -> PagingControls {
        let mode = try mode(section)
        guard let controls = try section.optionalTable("controls") else { return PagingControls(mode: mode) }
        try controls.rejectUnknownKeys(["wp", "nxe", "smep", "smap", "ac", "pke", "pkru", "maxphyaddr", "page_1g"])
        let pkru = try controls.uint64("pkru", default: 0)
        guard pkru <= UInt64(UInt32.max) else { throw InputFileError(path: controls.keyPath("pkru"), "PKRU is 32 bits") }
        return PagingControls(
            mode: mode, writeProtect: try controls.bool("wp", default: true), noExecute: try controls.bool("nxe", default: true),
            smep: try controls.bool("smep", default: false), smap: try controls.bool("smap", default: false),
            alignmentCheck: try controls.bool("ac", default: false), protectionKeys: try controls.bool("pke", default: false),
            pkru: UInt32(pkru), maxPhysicalAddressBits: try controls.int("maxphyaddr", default: 52, in: 32...52),
            supports1GPages: try controls.bool("page_1g", default: true))
    }
}

/// One hierarchy of a walk file: its root, mapped ranges and explicit entries.
private struct Hierarchy {
    let format: TableFormat
    let mode: PagingMode
    let root: UInt64
    let offset: UInt64
    let tableArea: FrameAllocator?
    let maps: [(path: String, virtual: UInt64, physical: UInt64, size: PageSize, count: UInt64, bits: UInt64)]
    let entries: [(path: String, address: UInt64, value: UInt64)]

    init(_ section: TOMLReader, format: TableFormat, mode: PagingMode, memorySize: UInt64, offset: UInt64,
         physicalLabel: String) throws {
        self.format = format
        self.mode = mode
        self.offset = offset
        func checkTable(_ address: UInt64, _ path: String) throws {
            guard address & 0xFFF == 0 else {
                throw InputFileError(path: path, "table address 0x\(String(address, radix: 16)) is not 4 KiB aligned")
            }
            try checkInside(address, 4096, path)
        }
        func checkInside(_ address: UInt64, _ length: UInt64, _ path: String) throws {
            let (end, overflow) = (address &+ offset).addingReportingOverflow(length)
            guard !overflow, end <= memorySize else {
                throw InputFileError(path: path, "\(physicalLabel) address 0x\(String(address, radix: 16)) is outside memory "
                    + "(memory.size is 0x\(String(memorySize, radix: 16)))")
            }
        }
        root = try section.uint64("root")
        try checkTable(root, section.keyPath("root"))

        if section.has("table_area") {
            let base = try section.uint64("table_area")
            try checkTable(base, section.keyPath("table_area"))
            let size = try section.byteCount("table_area_size")
            try checkInside(base, size, section.keyPath("table_area_size"))
            tableArea = FrameAllocator(base: base, size: size)
        } else {
            tableArea = nil
        }

        maps = try section.tables("map").map { map in
            try map.rejectUnknownKeys(["virtual", "physical", "page", "count", "flags", "pkey", "memory_type"])
            let name = try map.string("page")
            guard let size = PageSize(name: name) else {
                throw InputFileError(path: map.keyPath("page"), "unknown page size '\(name)'; expected 4K, 2M or 1G")
            }
            let count = try map.uint64("count", default: 1)
            let physical = try map.uint64("physical")
            guard count > 0, count <= 1 << 20 else { throw InputFileError(path: map.keyPath("count"), "expected 1...1048576 pages") }
            try checkInside(physical, count * size.bytes, map.keyPath("physical"))
            return (map.path, try map.uint64("virtual"), physical, size, count,
                    try EntryBits.parse(map, format: format, defaultMemoryType: EPTEntry.MemoryType.writeBack.rawValue))
        }
        if !maps.isEmpty && tableArea == nil {
            throw InputFileError(path: section.keyPath("table_area"), "missing field (map needs an area for new tables)")
        }

        entries = try section.tables("entry").map { entry in
            try entry.rejectUnknownKeys(["table", "index", "value", "address", "flags", "pkey", "memory_type"])
            let table = try entry.uint64("table")
            try checkTable(table, entry.keyPath("table"))
            let index = try entry.int("index", default: -1, in: 0...511)
            guard index >= 0 else { throw InputFileError(path: entry.keyPath("index"), "missing field") }
            let value: UInt64
            if entry.has("value") {
                if entry.has("address") || entry.has("flags") {
                    throw InputFileError(path: entry.keyPath("value"), "give either value or address and flags, not both")
                }
                value = try entry.uint64("value")
            } else {
                let target = try entry.uint64("address")
                guard target & 0xFFF == 0 else {
                    throw InputFileError(path: entry.keyPath("address"), "0x\(String(target, radix: 16)) is not 4 KiB aligned")
                }
                value = target | (try EntryBits.parse(entry, format: format, defaultMemoryType: 0))
            }
            return (entry.path, table + UInt64(index) * 8, value)
        }
    }

    /// Writes the hierarchy: the mapped ranges through a builder, then the
    /// explicit entries over them.
    func build(into memory: SparsePhysicalMemory) throws {
        var view = OffsetMemory(base: memory, offset: offset)
        if let tableArea {
            var builder = PageTableBuilder(format: format, mode: mode, root: root, allocator: tableArea)
            for map in maps {
                do {
                    try builder.map(virtual: map.virtual, physical: map.physical, size: map.size, count: map.count,
                                    leafBits: map.bits, memory: &view)
                } catch {
                    throw InputFileError(path: map.path, "\(error)")
                }
            }
        }
        for entry in entries { view.store64(entry.address, entry.value) }
    }
}

/// Entry bits named in a walk file.
private enum EntryBits {
    static let x86: [String: PageTableEntry.Flags] = [
        "P": .present, "RW": .writable, "US": .user, "PWT": .writeThrough, "PCD": .cacheDisable, "A": .accessed,
        "D": .dirty, "PS": .pageSize, "G": .global, "PAT": .patLarge, "XD": .executeDisable,
    ]
    static let ept: [String: EPTEntry.Flags] = [
        "R": .read, "W": .write, "X": .execute, "XU": .userExecute, "IPAT": .ignorePAT, "LP": .largePage,
        "A": .accessed, "D": .dirty, "SVE": .suppressVE,
    ]

    /// The bits of `flags`, `pkey` (x86) and `memory_type` (EPT). Mapped
    /// leaves default to write-back; explicit entries to 0, since bits 5:3
    /// are reserved in a non-leaf EPT entry.
    static func parse(_ section: TOMLReader, format: TableFormat, defaultMemoryType: UInt8) throws -> UInt64 {
        var bits: UInt64 = 0
        for (index, name) in try section.strings("flags").enumerated() {
            let upper = name.uppercased()
            switch format {
            case .x86:
                guard let flag = x86[upper] else { throw unknown(name, index, section, known: x86.keys) }
                bits |= flag.rawValue
            case .ept:
                guard let flag = ept[upper] else { throw unknown(name, index, section, known: ept.keys) }
                bits |= flag.rawValue
            }
        }
        switch format {
        case .x86:
            if section.has("memory_type") { throw InputFileError(path: section.keyPath("memory_type"), "only EPT entries have a memory type") }
            let key = try section.uint64("pkey", default: 0)
            guard key < 16 else { throw InputFileError(path: section.keyPath("pkey"), "a protection key is 0...15") }
            bits |= key << 59
        case .ept:
            if section.has("pkey") { throw InputFileError(path: section.keyPath("pkey"), "EPT entries have no protection key") }
            let type = try section.uint64("memory_type", default: UInt64(defaultMemoryType))
            guard type < 8 else { throw InputFileError(path: section.keyPath("memory_type"), "a memory type is 0...7") }
            bits |= type << 3
        }
        return bits
    }

    private static func unknown(_ name: String, _ index: Int, _ section: TOMLReader, known: Dictionary<String, some Any>.Keys) -> InputFileError {
        InputFileError(path: "\(section.keyPath("flags"))[\(index)]",
                       "unknown flag '\(name)'; known: \(known.sorted().joined(separator: ", "))")
    }
}
