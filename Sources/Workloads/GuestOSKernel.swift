import Translation

/// Why the guest kernel could not apply an event.
public enum GuestKernelError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownProcess(GuestProcessID)
    case duplicateProcess(GuestProcessID)
    /// Guest-physical memory for pages of this size is used up.
    case outOfMemory(PageSize)
    /// A range does not line up with the pages of the mapping it touches.
    case misaligned(start: UInt64, length: UInt64, pageSize: PageSize)
    /// A new mapping overlaps an existing one.
    case overlappingMapping(GuestProcessID, start: UInt64)

    public var description: String {
        func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
        switch self {
        case let .unknownProcess(pid): return "process \(pid) does not exist"
        case let .duplicateProcess(pid): return "process \(pid) already exists"
        case let .outOfMemory(size): return "guest memory for \(size) pages is used up"
        case let .misaligned(start, length, size):
            return "range \(hex(start))+\(hex(length)) is not aligned to the \(size) pages it touches"
        case let .overlappingMapping(pid, start): return "process \(pid): mapping at \(hex(start)) overlaps another"
        }
    }
}

/// A minimal guest operating system: processes with their own x86-64 page
/// tables in guest-physical memory, demand paging, copy-on-write fork,
/// mmap/munmap/mprotect and context switches. It applies `GuestOSEvent`s to
/// a `GuestMachine`, doing what Linux does at the page-table level:
/// - tables are allocated top-down, zeroed, then linked into their parent;
/// - a leaf is installed with A set, and D set when a write faulted it in;
/// - munmap and mprotect invalidate with one INVLPG per page up to 33 pages
///   and a full flush above that (Linux's `tlb_single_page_flush_ceiling`);
/// - fork write-protects every writable PTE of the parent, builds the
///   child's tables, and flushes the parent's TLB;
/// - exit clears every leaf and every table entry, then frees the tables.
/// Guest-physical memory is split into a 4K-frame half and a large-frame
/// half (2M frames, and 1G frames aligned inside it).
public struct GuestKernel: Sendable {
    /// The guest's paging depth.
    public let mode: PagingMode
    /// The size of guest-physical memory.
    public let memoryBytes: UInt64
    public private(set) var statistics = GuestKernelStatistics()
    /// The process whose tables CR3 holds.
    public private(set) var current: GuestProcessID?

    struct Mapping: Sendable {
        var start: UInt64
        var end: UInt64
        var writable: Bool
        var pageSize: PageSize
    }

    struct Process: Sendable {
        var root: UInt64
        var mappings: [Mapping] = []
    }

    var processes: [GuestProcessID: Process] = [:]
    /// Frames mapped by more than one PTE (copy-on-write): frame → extra mappings.
    var sharers: [UInt64: UInt32] = [:]
    var nextSmall: UInt64
    var nextLarge: UInt64
    var freeFrames: [PageSize: [UInt64]] = [.size4K: [], .size2M: [], .size1G: []]

    static let tableBits: UInt64 = PageTableEntry.Flags([.present, .writable, .user, .accessed]).rawValue

    /// A kernel with `memoryBytes` of guest-physical memory (at least 8 MiB,
    /// a multiple of 2 MiB).
    public init(mode: PagingMode = .fourLevel, memoryBytes: UInt64 = 1 << 30) {
        precondition(memoryBytes >= 8 << 20 && memoryBytes % (2 << 20) == 0, "guest memory is a multiple of 2 MiB, at least 8 MiB")
        self.mode = mode
        self.memoryBytes = memoryBytes
        nextSmall = 1 << 20
        nextLarge = (memoryBytes / 2 + (2 << 20) - 1) & ~((2 << 20) - 1)
    }

    /// The processes that exist.
    public var processIDs: [GuestProcessID] { processes.keys.sorted() }

    /// The guest-physical address of the process's root table (its CR3).
    public func root(of process: GuestProcessID) -> UInt64? { processes[process]?.root }

    // MARK: Events

    /// Applies one event.
    public mutating func apply<Machine: GuestMachine>(_ event: GuestOSEvent, on machine: inout Machine) throws(GuestKernelError) {
        switch event {
        case let .spawn(pid):
            guard processes[pid] == nil else { throw .duplicateProcess(pid) }
            let root = try allocateTable(on: &machine)
            processes[pid] = Process(root: root)
        case let .access(pid, address, type):
            try switchTo(pid, on: &machine)
            try access(pid, address, type, on: &machine)
        case let .mmap(pid, start, length, writable, size):
            guard var process = processes[pid] else { throw .unknownProcess(pid) }
            guard start & size.offsetMask == 0, length & size.offsetMask == 0 else {
                throw .misaligned(start: start, length: length, pageSize: size)
            }
            let end = start &+ length
            if process.mappings.contains(where: { $0.start < end && start < $0.end }) {
                throw .overlappingMapping(pid, start: start)
            }
            process.mappings.append(Mapping(start: start, end: end, writable: writable, pageSize: size))
            process.mappings.sort { $0.start < $1.start }
            processes[pid] = process
        case let .munmap(pid, start, length):
            try switchTo(pid, on: &machine)
            try unmap(pid, start: start, end: start &+ length, on: &machine)
        case let .fault(pid, address):
            try switchTo(pid, on: &machine)
            guard let process = processes[pid],
                  let mapping = process.mappings.first(where: { $0.start <= address && address < $0.end })
            else {
                statistics.segmentationFaults += 1
                return
            }
            let base = address & ~mapping.pageSize.offsetMask
            if leafEntry(root: process.root, address: base, machine: machine) == nil {
                try install(process.root, base, mapping, dirty: false, on: &machine)
                statistics.demandFaults += 1
            }
        case let .mprotect(pid, start, length, writable):
            try switchTo(pid, on: &machine)
            try protect(pid, start: start, end: start &+ length, writable: writable, on: &machine)
        case let .fork(parent, child):
            guard processes[child] == nil else { throw .duplicateProcess(child) }
            try switchTo(parent, on: &machine)
            try fork(parent, child, on: &machine)
        case let .contextSwitch(pid):
            try switchTo(pid, on: &machine)
        case let .exit(pid):
            try switchTo(pid, on: &machine)
            try exit(pid, on: &machine)
        }
    }

    /// Loads the process's CR3 unless it is already current.
    mutating func switchTo<Machine: GuestMachine>(_ pid: GuestProcessID, on machine: inout Machine) throws(GuestKernelError) {
        guard let process = processes[pid] else { throw .unknownProcess(pid) }
        if current == pid { return }
        current = pid
        statistics.cr3Loads += 1
        machine.loadCR3(process.root)
    }

    mutating func access<Machine: GuestMachine>(
        _ pid: GuestProcessID, _ address: UInt64, _ type: AccessType, on machine: inout Machine
    ) throws(GuestKernelError) {
        guard let process = processes[pid] else { throw .unknownProcess(pid) }
        // A fault is handled and the access retried; three rounds cover a
        // demand fault followed by a copy-on-write fault.
        for _ in 0..<3 {
            guard let fault = machine.access(address, type) else {
                statistics.accesses += 1
                return
            }
            guard let mapping = process.mappings.first(where: { $0.start <= address && address < $0.end }),
                  type != .write || mapping.writable
            else {
                statistics.segmentationFaults += 1
                return
            }
            let base = address & ~mapping.pageSize.offsetMask
            if !fault.errorCode.contains(.present) {
                try install(process.root, base, mapping, dirty: type == .write, on: &machine)
                statistics.demandFaults += 1
            } else if type == .write {
                try copyOnWrite(process.root, base, mapping, on: &machine)
                statistics.copyOnWriteFaults += 1
            } else {
                statistics.segmentationFaults += 1
                return
            }
        }
        statistics.segmentationFaults += 1
    }

    // MARK: Page tables

    /// Allocates, backs and zeroes a table frame.
    mutating func allocateTable<Machine: GuestMachine>(on machine: inout Machine) throws(GuestKernelError) -> UInt64 {
        let frame = try allocate(.size4K, on: &machine)
        machine.zeroPageTable(frame)
        statistics.tablesAllocated += 1
        return frame
    }

    mutating func store<Machine: GuestMachine>(_ slot: UInt64, _ value: UInt64, on machine: inout Machine) {
        statistics.pageTableStores += 1
        machine.storePageTableEntry(slot, value)
    }

    /// The slot of the leaf entry for `address` at `size`'s level, creating
    /// any missing tables above it.
    mutating func leafSlot<Machine: GuestMachine>(
        root: UInt64, address: UInt64, size: PageSize, on machine: inout Machine
    ) throws(GuestKernelError) -> UInt64 {
        var table = root
        var level = mode.levels
        while level > size.leafLevel {
            let slot = table &+ PagingMode.index(of: address, at: level) &* 8
            let entry = machine.loadGuestPhysical(slot)
            if entry & 1 != 0 {
                table = entry & PageTableEntry.addressMask
            } else {
                let frame = try allocateTable(on: &machine)
                store(slot, frame | Self.tableBits, on: &machine)
                table = frame
            }
            level -= 1
        }
        return table &+ PagingMode.index(of: address, at: level) &* 8
    }

    /// The leaf entry that maps `address`, with its slot and level, if present.
    func leafEntry<Machine: GuestMachine>(root: UInt64, address: UInt64, machine: Machine) -> (slot: UInt64, entry: UInt64, level: Int)? {
        var table = root
        var level = mode.levels
        while true {
            let slot = table &+ PagingMode.index(of: address, at: level) &* 8
            let entry = machine.loadGuestPhysical(slot)
            if entry & 1 == 0 { return nil }
            if level == 1 || (level <= 3 && entry & (1 << 7) != 0) { return (slot, entry, level) }
            table = entry & PageTableEntry.addressMask
            level -= 1
        }
    }

    static func leafBits(_ mapping: Mapping, writable: Bool, dirty: Bool) -> UInt64 {
        var flags: PageTableEntry.Flags = [.present, .user, .accessed]
        if writable { flags.insert(.writable) }
        if dirty { flags.insert(.dirty) }
        if mapping.pageSize != .size4K { flags.insert(.pageSize) }
        return flags.rawValue
    }

    mutating func install<Machine: GuestMachine>(
        _ root: UInt64, _ base: UInt64, _ mapping: Mapping, dirty: Bool, on machine: inout Machine
    ) throws(GuestKernelError) {
        let frame = try allocate(mapping.pageSize, on: &machine)
        let slot = try leafSlot(root: root, address: base, size: mapping.pageSize, on: &machine)
        store(slot, frame | Self.leafBits(mapping, writable: mapping.writable, dirty: dirty), on: &machine)
    }

    /// Gives the faulting process its own copy of a shared page (or takes
    /// the page back writable when it is the last sharer).
    mutating func copyOnWrite<Machine: GuestMachine>(
        _ root: UInt64, _ base: UInt64, _ mapping: Mapping, on machine: inout Machine
    ) throws(GuestKernelError) {
        guard let leaf = leafEntry(root: root, address: base, machine: machine) else { return }
        let frame = leaf.entry & PageTableEntry.addressMask & ~mapping.pageSize.offsetMask
        var target = frame
        if let count = sharers[frame] {
            sharers[frame] = count == 1 ? nil : count - 1
            target = try allocate(mapping.pageSize, on: &machine)
        }
        store(leaf.slot, target | Self.leafBits(mapping, writable: true, dirty: true), on: &machine)
        statistics.invalidations += 1
        machine.invalidatePage(base)
    }

    /// Calls `body` with every present leaf in `[start, end)`: its slot,
    /// entry, linear address and level.
    func forEachLeaf<Machine: GuestMachine>(
        table: UInt64, level: Int, base: UInt64, start: UInt64, end: UInt64, machine: Machine,
        _ body: (UInt64, UInt64, UInt64, Int) throws(GuestKernelError) -> Void
    ) throws(GuestKernelError) {
        let span: UInt64 = 1 << (12 + 9 * UInt64(level - 1))
        let first = start > base ? (start - base) / span : 0
        let last = min(511, (end - 1 - base) / span)
        guard end > base, first <= last else { return }
        for index in first...last {
            let slot = table &+ index &* 8
            let entry = machine.loadGuestPhysical(slot)
            if entry & 1 == 0 { continue }
            let address = base &+ index &* span
            if level == 1 || (level <= 3 && entry & (1 << 7) != 0) {
                try body(slot, entry, address, level)
            } else {
                try forEachLeaf(table: entry & PageTableEntry.addressMask, level: level - 1, base: address,
                                start: start, end: end, machine: machine, body)
            }
        }
    }

    /// Every present leaf of the process's tables in `[start, end)`.
    func leaves<Machine: GuestMachine>(_ root: UInt64, start: UInt64, end: UInt64, machine: Machine) -> [(slot: UInt64, entry: UInt64, address: UInt64, level: Int)] {
        var found: [(slot: UInt64, entry: UInt64, address: UInt64, level: Int)] = []
        try? forEachLeaf(table: root, level: mode.levels, base: 0, start: start, end: end, machine: machine) { slot, entry, address, level in
            found.append((slot, entry, address, level))
        }
        return found
    }

    /// Checks that `[start, end)` does not split a page of any mapping it touches.
    func checkAligned(_ process: Process, start: UInt64, end: UInt64) throws(GuestKernelError) {
        for mapping in process.mappings where mapping.start < end && start < mapping.end {
            if start & mapping.pageSize.offsetMask != 0 || end & mapping.pageSize.offsetMask != 0 {
                throw .misaligned(start: start, length: end - start, pageSize: mapping.pageSize)
            }
        }
    }

    /// Invalidates the pages at `addresses`: one INVLPG each up to 33, a
    /// full flush above that.
    mutating func invalidate<Machine: GuestMachine>(_ addresses: [UInt64], on machine: inout Machine) {
        if addresses.count > 33 {
            statistics.flushes += 1
            machine.flushTLB()
        } else {
            for address in addresses {
                statistics.invalidations += 1
                machine.invalidatePage(address)
            }
        }
    }

    mutating func unmap<Machine: GuestMachine>(
        _ pid: GuestProcessID, start: UInt64, end: UInt64, on machine: inout Machine
    ) throws(GuestKernelError) {
        guard var process = processes[pid] else { throw .unknownProcess(pid) }
        try checkAligned(process, start: start, end: end)
        let found = leaves(process.root, start: start, end: end, machine: machine)
        for leaf in found {
            store(leaf.slot, 0, on: &machine)
        }
        invalidate(found.map(\.address), on: &machine)
        for leaf in found {
            release(leaf.entry & PageTableEntry.addressMask & ~PageSize(leafLevel: leaf.level)!.offsetMask,
                    PageSize(leafLevel: leaf.level)!)
        }
        var kept: [Mapping] = []
        for mapping in process.mappings {
            if mapping.end <= start || end <= mapping.start { kept.append(mapping); continue }
            if mapping.start < start { kept.append(Mapping(start: mapping.start, end: start, writable: mapping.writable, pageSize: mapping.pageSize)) }
            if end < mapping.end { kept.append(Mapping(start: end, end: mapping.end, writable: mapping.writable, pageSize: mapping.pageSize)) }
        }
        process.mappings = kept
        processes[pid] = process
    }

    mutating func protect<Machine: GuestMachine>(
        _ pid: GuestProcessID, start: UInt64, end: UInt64, writable: Bool, on machine: inout Machine
    ) throws(GuestKernelError) {
        guard var process = processes[pid] else { throw .unknownProcess(pid) }
        try checkAligned(process, start: start, end: end)
        var changed: [UInt64] = []
        for leaf in leaves(process.root, start: start, end: end, machine: machine) {
            let frame = leaf.entry & PageTableEntry.addressMask & ~PageSize(leafLevel: leaf.level)!.offsetMask
            // A shared copy-on-write page stays read-only until it is written.
            let allow = writable && sharers[frame] == nil
            let value = allow ? leaf.entry | (1 << 1) : leaf.entry & ~(1 << 1)
            if value != leaf.entry {
                store(leaf.slot, value, on: &machine)
                changed.append(leaf.address)
            }
        }
        invalidate(changed, on: &machine)
        var updated: [Mapping] = []
        for mapping in process.mappings {
            if mapping.end <= start || end <= mapping.start { updated.append(mapping); continue }
            if mapping.start < start { updated.append(Mapping(start: mapping.start, end: start, writable: mapping.writable, pageSize: mapping.pageSize)) }
            updated.append(Mapping(start: max(start, mapping.start), end: min(end, mapping.end), writable: writable, pageSize: mapping.pageSize))
            if end < mapping.end { updated.append(Mapping(start: end, end: mapping.end, writable: mapping.writable, pageSize: mapping.pageSize)) }
        }
        process.mappings = updated
        processes[pid] = process
    }

    mutating func fork<Machine: GuestMachine>(
        _ parent: GuestProcessID, _ child: GuestProcessID, on machine: inout Machine
    ) throws(GuestKernelError) {
        guard let process = processes[parent] else { throw .unknownProcess(parent) }
        let childRoot = try allocateTable(on: &machine)
        processes[child] = Process(root: childRoot, mappings: process.mappings)
        for leaf in leaves(process.root, start: 0, end: 1 << mode.addressBits, machine: machine) {
            let size = PageSize(leafLevel: leaf.level)!
            let frame = leaf.entry & PageTableEntry.addressMask & ~size.offsetMask
            let readOnly = leaf.entry & ~(1 << 1)
            if readOnly != leaf.entry { store(leaf.slot, readOnly, on: &machine) }
            let slot = try leafSlot(root: childRoot, address: leaf.address, size: size, on: &machine)
            store(slot, readOnly, on: &machine)
            sharers[frame, default: 0] += 1
        }
        statistics.flushes += 1
        machine.flushTLB()
    }

    mutating func exit<Machine: GuestMachine>(_ pid: GuestProcessID, on machine: inout Machine) throws(GuestKernelError) {
        guard let process = processes[pid] else { throw .unknownProcess(pid) }
        try freeTable(process.root, level: mode.levels, on: &machine)
        statistics.flushes += 1
        machine.flushTLB()
        release(process.root, .size4K)
        processes[pid] = nil
    }

    /// Clears every entry of a table, frees what its entries point at, and
    /// frees the child tables.
    mutating func freeTable<Machine: GuestMachine>(_ table: UInt64, level: Int, on machine: inout Machine) throws(GuestKernelError) {
        for index in 0..<UInt64(512) {
            let slot = table &+ index &* 8
            let entry = machine.loadGuestPhysical(slot)
            if entry & 1 == 0 { continue }
            let target = entry & PageTableEntry.addressMask
            if level == 1 || (level <= 3 && entry & (1 << 7) != 0) {
                let size = PageSize(leafLevel: level)!
                store(slot, 0, on: &machine)
                release(target & ~size.offsetMask, size)
            } else {
                try freeTable(target, level: level - 1, on: &machine)
                store(slot, 0, on: &machine)
                release(target, .size4K)
            }
        }
    }

    // MARK: Frames

    /// Takes a zeroed frame of `size` (the data itself is not modelled).
    mutating func allocate<Machine: GuestMachine>(_ size: PageSize, on machine: inout Machine) throws(GuestKernelError) -> UInt64 {
        if let frame = freeFrames[size]?.popLast() { return frame }
        let frame: UInt64
        switch size {
        case .size4K:
            guard nextSmall + 4096 <= memoryBytes / 2 else { throw .outOfMemory(size) }
            frame = nextSmall
            nextSmall += 4096
        case .size2M, .size1G:
            let aligned = (nextLarge + size.offsetMask) & ~size.offsetMask
            guard aligned + size.bytes <= memoryBytes else { throw .outOfMemory(size) }
            var skipped = nextLarge
            while skipped < aligned {
                freeFrames[.size2M, default: []].append(skipped)
                skipped += 2 << 20
            }
            frame = aligned
            nextLarge = aligned + size.bytes
        }
        machine.backGuestFrames(frame, bytes: size.bytes)
        return frame
    }

    /// Drops one mapping of a frame; the last one frees it.
    mutating func release(_ frame: UInt64, _ size: PageSize) {
        if let count = sharers[frame] {
            sharers[frame] = count == 1 ? nil : count - 1
            return
        }
        freeFrames[size, default: []].append(frame)
    }
}
