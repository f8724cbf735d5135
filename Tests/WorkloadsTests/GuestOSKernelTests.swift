import Testing
import Translation
import Workloads

/// A plain machine for kernel tests: guest-physical memory is the only
/// memory, and an access is an architectural walk with no TLB.
struct RecordingMachine: GuestMachine {
    var memory = SparsePhysicalMemory()
    var log: [String] = []
    let walker = PageWalker(controls: PagingControls())
    var root: UInt64 = 0

    func loadGuestPhysical(_ address: UInt64) -> UInt64 { memory.load64(address) }
    mutating func storePageTableEntry(_ address: UInt64, _ value: UInt64) {
        memory.store64(address, value)
        log.append("store")
    }
    mutating func zeroPageTable(_ address: UInt64) {
        for word in 0..<UInt64(512) { memory.store64(address + word * 8, 0) }
        log.append("zero")
    }
    mutating func backGuestFrames(_ address: UInt64, bytes: UInt64) {}
    mutating func loadCR3(_ root: UInt64) {
        self.root = root
        log.append("cr3")
    }
    mutating func invalidatePage(_ address: UInt64) { log.append("invlpg") }
    mutating func flushTLB() { log.append("flush") }
    mutating func access(_ address: UInt64, _ type: AccessType) -> PageFault? {
        if case let .fault(fault) = walker.walk(address, access: MemoryAccess(type, .user), root: root, memory: &memory) { return fault }
        return nil
    }
}

@Suite("GuestKernel: Linux-like page-table behaviour")
struct GuestOSKernelTests {
    func run(_ trace: String) throws -> (GuestKernel, RecordingMachine) {
        var kernel = GuestKernel(memoryBytes: 64 << 20)
        var machine = RecordingMachine()
        for event in try GuestOSTrace.parse(trace) { try kernel.apply(event, on: &machine) }
        return (kernel, machine)
    }

    @Test("a first touch allocates the tables top-down: zero, link, then the PTE", arguments: [PagingMode.fourLevel, .fiveLevel])
    func demandFault(mode: PagingMode) throws {
        var kernel = GuestKernel(mode: mode, memoryBytes: 64 << 20)
        var target = RecordingMachineWithMode(mode: mode)
        for event in try GuestOSTrace.parse("spawn 1\nmmap 1 0x400000 4K rw\naccess 1 0x400000 w\n") {
            try kernel.apply(event, on: &target)
        }
        let tables = mode.levels - 1
        #expect(target.log == ["zero", "cr3"] + Array(repeating: ["zero", "store"], count: tables).flatMap { $0 } + ["store"])
        #expect(kernel.statistics.demandFaults == 1)
        #expect(kernel.statistics.pageTableStores == mode.levels)
        #expect(kernel.statistics.accesses == 1)
    }

    @Test("fork write-protects the parent, a write copies the page; reads stay shared")
    func copyOnWrite() throws {
        let (kernel, machine) = try run("""
            spawn 1
            mmap 1 0x400000 16K rw
            access 1 0x400000 w
            access 1 0x401000 w
            fork 1 2
            access 2 0x400000 r
            access 2 0x400000 w
            access 1 0x401000 w
            """)
        #expect(kernel.statistics.copyOnWriteFaults == 2)
        #expect(kernel.statistics.demandFaults == 2)
        #expect(machine.log.filter { $0 == "flush" }.count == 1)
        #expect(machine.log.filter { $0 == "invlpg" }.count == 2)
    }

    @Test("munmap invalidates page by page up to 33 pages and flushes above that", arguments: [(33, 33, 0), (34, 0, 1)])
    func flushCeiling(_ pages: Int, _ invalidations: Int, _ flushes: Int) throws {
        var trace = "spawn 1\nmmap 1 0x400000 \(pages * 4)K rw\n"
        for page in 0..<pages { trace += "access 1 0x\(String(0x40_0000 + page * 4096, radix: 16)) w\n" }
        trace += "munmap 1 0x400000 \(pages * 4)K\n"
        let (_, machine) = try run(trace)
        #expect(machine.log.filter { $0 == "invlpg" }.count == invalidations)
        #expect(machine.log.filter { $0 == "flush" }.count == flushes)
    }

    @Test("a write to a read-only range and an access outside every mapping are refused")
    func segmentationFaults() throws {
        let (kernel, _) = try run("""
            spawn 1
            mmap 1 0x400000 4K r
            access 1 0x400000 w
            access 1 0x900000 r
            access 1 0x400000 r
            """)
        #expect(kernel.statistics.segmentationFaults == 2)
        #expect(kernel.statistics.accesses == 1)
    }

    @Test("kernel errors: unknown process, misaligned unmap of a 2M mapping, overlap")
    func errors() throws {
        var kernel = GuestKernel(memoryBytes: 64 << 20)
        var machine = RecordingMachine()
        #expect(throws: GuestKernelError.unknownProcess(9)) { try kernel.apply(.contextSwitch(9), on: &machine) }
        try kernel.apply(.spawn(1), on: &machine)
        try kernel.apply(.mmap(1, start: 0x4000_0000, length: 4 << 20, writable: true, pageSize: .size2M), on: &machine)
        #expect(throws: GuestKernelError.misaligned(start: 0x4000_1000, length: 0x1000, pageSize: .size2M)) {
            try kernel.apply(.munmap(1, start: 0x4000_1000, length: 0x1000), on: &machine)
        }
        #expect(throws: GuestKernelError.overlappingMapping(1, start: 0x4020_0000)) {
            try kernel.apply(.mmap(1, start: 0x4020_0000, length: 2 << 20, writable: true, pageSize: .size2M), on: &machine)
        }
    }

    @Test("exit frees every frame: a new process reuses them")
    func exitFrees() throws {
        var kernel = GuestKernel(memoryBytes: 64 << 20)
        var machine = RecordingMachine()
        for event in try GuestOSTrace.parse("spawn 1\nmmap 1 0x400000 4K rw\naccess 1 0x400000 w\nexit 1\nspawn 2\n") {
            try kernel.apply(event, on: &machine)
        }
        #expect(kernel.root(of: 2) != nil)
        #expect(kernel.processIDs == [2])
    }
}

/// `RecordingMachine` with a chosen paging depth.
struct RecordingMachineWithMode: GuestMachine {
    var inner = RecordingMachine()
    let walker: PageWalker
    init(mode: PagingMode) { walker = PageWalker(controls: PagingControls(mode: mode)) }
    var log: [String] { inner.log }
    func loadGuestPhysical(_ address: UInt64) -> UInt64 { inner.loadGuestPhysical(address) }
    mutating func storePageTableEntry(_ address: UInt64, _ value: UInt64) { inner.storePageTableEntry(address, value) }
    mutating func zeroPageTable(_ address: UInt64) { inner.zeroPageTable(address) }
    mutating func backGuestFrames(_ address: UInt64, bytes: UInt64) {}
    mutating func loadCR3(_ root: UInt64) { inner.loadCR3(root) }
    mutating func invalidatePage(_ address: UInt64) { inner.invalidatePage(address) }
    mutating func flushTLB() { inner.flushTLB() }
    mutating func access(_ address: UInt64, _ type: AccessType) -> PageFault? {
        if case let .fault(fault) = walker.walk(address, access: MemoryAccess(type, .user), root: inner.root, memory: &inner.memory) {
            return fault
        }
        return nil
    }
}
