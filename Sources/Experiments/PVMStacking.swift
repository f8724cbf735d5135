import ShadowPaging
import Translation
import Workloads

/// A privilege world in a nested (two-level) virtualization stack.
public enum World: String, Sendable, Hashable {
    /// The host hypervisor, the only one with real VMX root mode.
    case l0 = "L0"
    /// The guest hypervisor (the secure-container VM's KVM, or PVM).
    case l1 = "L1"
    /// The nested guest (the container's kernel and processes).
    case l2 = "L2"
}

/// How memory is virtualized for an L2 guest (Huang et al., PVM, SOSP 2023).
public enum NestedStacking: String, CaseIterable, Sendable {
    /// L1 runs shadow paging for L2 with hardware VMX virtualized by L0,
    /// and L0 gives L1 EPT: every L2 exit and every L1 VMRESUME passes
    /// through L0.
    case shadowOnEPT = "shadow-on-ept"
    /// L1 gives L2 EPT (EPT12), which L0 shadows into EPT02: L2's own faults
    /// and table stores need no exit, but EPT12 stores by L1 trap to L0.
    case eptOnEPT = "ept-on-ept"
    /// L1 runs PVM: shadow paging with L2 entered through PVM's switcher
    /// inside L1, so nothing reaches L0.
    case pvm
}

/// One world switch and why it happened.
public struct WorldSwitch: Hashable, Sendable, CustomStringConvertible {
    public var from: World
    public var to: World
    public var reason: String
    public var description: String { "\(from.rawValue)->\(to.rawValue) (\(reason))" }
}

/// The transitions a stacking makes, in order.
public struct StackingLog: Sendable {
    public private(set) var switches: [WorldSwitch] = []
    /// Every world switch.
    public var worldSwitches: Int { switches.count }
    /// Switches into L0: the exits L0 handles.
    public var l0Exits: Int { switches.filter { $0.to == .l0 }.count }

    mutating func record(_ from: World, _ to: World, _ reason: String) {
        switches.append(WorldSwitch(from: from, to: to, reason: reason))
    }
}

/// Routes events through a stacking: which worlds an exit from L2 to L1
/// crosses, how L1 gets back to L2, and what an L1 store that L0 traps costs.
struct StackingRouter {
    let stacking: NestedStacking
    var log = StackingLog()

    /// An event in L2 that L1 must handle.
    mutating func exitToL1(_ reason: String) {
        if stacking == .pvm {
            log.record(.l2, .l1, reason)
        } else {
            log.record(.l2, .l0, reason)
            log.record(.l0, .l1, "reflect " + reason)
        }
    }

    /// L1 resumes L2 (VMRESUME, emulated by L0 under hardware nesting).
    mutating func resumeL2(_ reason: String) {
        if stacking == .pvm {
            log.record(.l1, .l2, reason)
        } else {
            log.record(.l1, .l0, "vmresume after " + reason)
            log.record(.l0, .l2, reason)
        }
    }

    /// An event in L2 that L0 handles alone.
    mutating func exitToL0(_ reason: String) {
        log.record(.l2, .l0, reason)
        log.record(.l0, .l2, "resume after " + reason)
    }

    /// A store by L1 into a table L0 write-protects.
    mutating func l1StoreTrapsToL0(_ reason: String) {
        log.record(.l1, .l0, reason)
        log.record(.l0, .l1, "resume after " + reason)
    }
}

/// Memory that records stores into page tables reachable from a root, the
/// tables a classic shadow (or shadow-EPT) hypervisor write-protects.
struct ReachabilityMemory: PhysicalMemory {
    var base = SparsePhysicalMemory()
    var root: UInt64 = 0
    var mode: PagingMode
    var format: TableFormat
    /// Per store: was the frame a reachable table when it was written?
    var stores: [Bool] = []
    var recording = false

    func load64(_ address: UInt64) -> UInt64 { base.load64(address) }

    mutating func store64(_ address: UInt64, _ value: UInt64) {
        if recording { stores.append(isReachableTable(address & ~0xFFF)) }
        base.store64(address, value)
    }

    /// Whether `frame` is the root or a table linked below it.
    func isReachableTable(_ frame: UInt64) -> Bool {
        func visit(_ table: UInt64, _ level: Int) -> Bool {
            if table == frame { return true }
            guard level > 1 else { return false }
            for index in 0..<UInt64(512) {
                let entry = base.load64(table + index * 8)
                guard format.isPresent(entry), level > 3 || entry & format.largePageBit == 0 else { continue }
                if visit(entry & PageTableEntry.addressMask, level - 1) { return true }
            }
            return false
        }
        return root != 0 && visit(root, mode.levels)
    }
}

/// A guest machine that records the hardware events of one guest page fault.
struct FaultRecordingMachine: GuestMachine {
    var memory: ReachabilityMemory
    let walker: PageWalker
    var faults = 0
    /// The guest-physical page the successful access reached.
    var reached: UInt64?

    init(mode: PagingMode) {
        memory = ReachabilityMemory(mode: mode, format: .x86)
        walker = PageWalker(controls: PagingControls(mode: mode))
    }

    func loadGuestPhysical(_ address: UInt64) -> UInt64 { memory.load64(address) }
    mutating func storePageTableEntry(_ address: UInt64, _ value: UInt64) { memory.store64(address, value) }
    mutating func zeroPageTable(_ address: UInt64) {
        for word in 0..<UInt64(512) { memory.store64(address + word * 8, 0) }
    }
    mutating func backGuestFrames(_ address: UInt64, bytes: UInt64) {}
    mutating func loadCR3(_ root: UInt64) { memory.root = root }
    mutating func invalidatePage(_ address: UInt64) {}
    mutating func flushTLB() {}
    mutating func access(_ address: UInt64, _ type: AccessType) -> PageFault? {
        switch walker.walk(address, access: MemoryAccess(type, .user), root: memory.root, memory: &memory) {
        case let .fault(fault):
            faults += 1
            return fault
        case let .translated(translation):
            reached = translation.physicalAddress & ~0xFFF
            return nil
        case .nonCanonical:
            return PageFault(errorCode: .user, level: walker.controls.mode.levels)
        }
    }
}

/// Counts the world switches of one guest page fault under each stacking,
/// from the events the project's guest kernel and table builder make.
public enum PVMStackingModel {
    /// The guest touches a page in a fresh region: its kernel takes a page
    /// fault, allocates a table at every level below the root and links
    /// each in, installs the PTE, and the access is retried. Under the
    /// shadow stackings every guest table reachable from CR3 is
    /// write-protected (classic shadow paging, as the paper counts it, with
    /// no unsync). Under EPT on EPT the new data page is fresh in EPT12 too,
    /// so L1 builds an EPT12 path for it, and L0 write-protects EPT12.
    public static func guestPageFault(_ stacking: NestedStacking, mode: PagingMode) throws -> StackingLog {
        var kernel = GuestKernel(mode: mode, memoryBytes: 64 << 20)
        var machine = FaultRecordingMachine(mode: mode)
        let fresh: UInt64 = 0x7F80_0000_0000 & ((1 << mode.addressBits) - 1)
        try kernel.apply(.spawn(1), on: &machine)
        try kernel.apply(.mmap(1, start: fresh, length: 4096, writable: true, pageSize: .size4K), on: &machine)
        try kernel.apply(.contextSwitch(1), on: &machine)
        machine.memory.recording = true
        try kernel.apply(.access(1, address: fresh, .write), on: &machine)
        let trappedStores = machine.memory.stores.filter { $0 }.count

        var router = StackingRouter(stacking: stacking)
        switch stacking {
        case .shadowOnEPT, .pvm:
            // The fault: L1's shadow MMU finds no guest PTE and injects #PF.
            router.exitToL1("#PF: shadow miss, guest PTE absent")
            router.resumeL2("inject #PF")
            for level in 0..<trappedStores {
                router.exitToL1("write to write-protected guest table \(level + 1)")
                router.resumeL2("emulated table write \(level + 1)")
            }
            // The retried access misses the shadow once more; L1 fills it.
            router.exitToL1("#PF: shadow miss, guest PTE present")
            router.resumeL2("shadow entries filled")
        case .eptOnEPT:
            guard let dataPage = machine.reached else { throw ReproductionError.modelFailed("the guest access did not complete") }
            // L2 handles its fault and table stores alone; the retried access
            // reaches a guest-physical page EPT12 does not map.
            router.exitToL1("EPT violation on gPA 0x" + String(dataPage, radix: 16))
            for store in try ept12Stores(mapping: dataPage, mode: mode) where store {
                router.l1StoreTrapsToL0("store into write-protected EPT12")
            }
            router.resumeL2("EPT12 entry built")
            router.exitToL0("EPT02 miss: L0 shadows EPT12 into EPT02")
        }
        return router.log
    }

    /// The same guest page fault with L1 running this project's KVM-style
    /// `ShadowMMU` (lazy shadowing, unsync leaf tables) instead of classic
    /// write protection: each of the MMU's exits is routed like the paper's.
    /// Nil for EPT on EPT, where L1 runs no shadow MMU.
    public static func guestPageFaultWithShadowMMU(_ stacking: NestedStacking, mode: PagingMode) throws -> StackingLog? {
        guard stacking != .eptOnEPT else { return nil }
        var mmu = ShadowMMU(configuration: ShadowMMUConfiguration(mode: mode, guestMemoryBytes: 64 << 20))
        var kernel = GuestKernel(mode: mode, memoryBytes: 64 << 20)
        let fresh: UInt64 = 0x7F80_0000_0000 & ((1 << mode.addressBits) - 1)
        try kernel.apply(.spawn(1), on: &mmu)
        try kernel.apply(.mmap(1, start: fresh, length: 4096, writable: true, pageSize: .size4K), on: &mmu)
        try kernel.apply(.contextSwitch(1), on: &mmu)
        mmu.resetCounters()
        try kernel.apply(.access(1, address: fresh, .write), on: &mmu)
        let counters = mmu.counters
        var router = StackingRouter(stacking: stacking)
        for (count, reason) in [
            (counters.guestFaultsInjected, "#PF injected"), (counters.pageTableWriteTraps, "emulated table write"),
            (counters.unsyncFaults, "unsync write fault"), (counters.shadowFaults, "shadow fault"),
            (counters.cr3Loads + counters.invlpgs + counters.guestFlushes, "CR3/INVLPG/flush"),
        ] {
            for _ in 0..<count {
                router.exitToL1(reason)
                router.resumeL2(reason)
            }
        }
        return router.log
    }

    /// L1 maps the guest-physical page in an EPT12 that maps the rest of
    /// L2's memory elsewhere: per store, whether it hit a reachable table.
    static func ept12Stores(mapping guestPhysical: UInt64, mode: PagingMode) throws -> [Bool] {
        var memory = ReachabilityMemory(mode: mode, format: .ept)
        var ept = try PageTableBuilder(format: .ept, mode: mode, allocator: FrameAllocator(base: 0x1_0000_0000, size: 1 << 24),
                                       memory: &memory)
        memory.root = ept.root
        let leaf = EPTEntry.Flags.rwx.rawValue | UInt64(EPTEntry.MemoryType.writeBack.rawValue) << 3
        // L2's other memory, already mapped, in another top-level slot.
        let other: UInt64 = 1 << (mode.addressBits - 2)
        try ept.map(virtual: other, physical: other, size: .size4K, leafBits: leaf, memory: &memory)
        memory.recording = true
        try ept.map(virtual: guestPhysical, physical: guestPhysical + (1 << 40), size: .size4K, leafBits: leaf, memory: &memory)
        return memory.stores
    }
}
