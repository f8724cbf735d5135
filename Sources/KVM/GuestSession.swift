import Glibc
import Translation

/// A VM set up to run measurement kernels: guest RAM in two memslots (each
/// a GuestMemory region with its own backing and NUMA policy), guest
/// page tables built with Translation's `PageTableBuilder` directly in guest
/// RAM, every kernel's code copied in, and one vCPU on its own thread in
/// long mode at CPL3 with IOPL = 3 and the host's supported CPUID.
///
/// Every resource is owned: if any step fails, what was created before is
/// released as the initializer throws; the rest goes with the session.
public final class GuestSession: @unchecked Sendable {
    public let configuration: GuestConfiguration
    public let vm: VirtualMachine
    /// The vCPU, on its dedicated thread.
    public let vcpuThread: VCPUThread
    /// The data memory (memslot `GuestLayout.dataSlot`).
    public let data: HostMemory
    /// The code and page-table memory (memslot `GuestLayout.systemSlot`).
    public let system: HostMemory
    /// The guest-physical address of the root page table (CR3).
    public let pageTableRoot: UInt64
    /// The guest-physical addresses of all guest page tables, root first.
    public let pageTables: [UInt64]
    let builder: PageTableBuilder
    let vmStatistics: KVMStatistics
    let vcpuStatistics: KVMStatistics
    private let entryPoints: [MeasurementKernel: UInt64]

    /// Creates the VM. `cpuid` is the device's supported CPUID (pass it to
    /// avoid asking again for every VM).
    public init(device: KVMDevice, configuration: GuestConfiguration, cpuid givenCPUID: CPUIDTable? = nil) throws(KVMError) {
        self.configuration = configuration
        let cpuid: CPUIDTable
        if let givenCPUID { cpuid = givenCPUID } else { cpuid = try device.supportedCPUID() }
        if configuration.pagingMode == .fiveLevel && !cpuid.supportsFiveLevelPaging {
            throw .missingCapability("5-level paging (LA57 in KVM_GET_SUPPORTED_CPUID)")
        }
        if configuration.guestPage == .size1G && !cpuid.supportsGigabytePages {
            throw .missingCapability("1 GiB guest pages (Page1GB in KVM_GET_SUPPORTED_CPUID)")
        }
        guard configuration.dataBytes > 0 else { throw .invalidArgument("a guest needs at least one byte of data") }
        let dataSlotBytes = configuration.dataSlotBytes
        let poolBytes = GuestLayout.tablePoolBytes(dataBytes: dataSlotBytes, page: configuration.guestPage)
        let systemBytes = (GuestLayout.tablePoolGuestPhysical + poolBytes + (1 << 21) - 1) & ~((1 << 21) - 1)

        vm = try device.makeVirtualMachine()
        system = try HostMemory(size: Int(systemBytes), backing: .anonymous4K, policy: configuration.pageTablePolicy)
        data = try HostMemory(size: Int(dataSlotBytes), backing: configuration.backing, policy: configuration.dataPolicy)
        try vm.setMemorySlot(MemorySlot(slot: GuestLayout.systemSlot, guestPhysicalAddress: 0, size: UInt64(system.size),
                                        hostAddress: UInt(bitPattern: system.base)), owner: system)
        try vm.setMemorySlot(MemorySlot(slot: GuestLayout.dataSlot, flags: configuration.dataSlotFlags,
                                        guestPhysicalAddress: GuestLayout.dataGuestPhysical, size: UInt64(data.size),
                                        hostAddress: UInt(bitPattern: data.base)), owner: data)

        // Kernel code: every kernel, 64-byte aligned, in the code pages.
        var entryPoints: [MeasurementKernel: UInt64] = [:]
        var offset: UInt64 = 0
        for kernel in MeasurementKernel.allCases {
            let code = kernel.code
            guard offset + UInt64(code.count) <= GuestLayout.codeBytes else {
                throw .invalidArgument("the kernels do not fit in \(GuestLayout.codeBytes) bytes of code")
            }
            UnsafeMutableRawBufferPointer(start: system.base + Int(GuestLayout.codeGuestPhysical + offset), count: code.count)
                .copyMemory(from: code)
            entryPoints[kernel] = GuestLayout.codeVirtual + offset
            offset = (offset + UInt64(code.count) + 63) & ~63
        }
        self.entryPoints = entryPoints

        // Page tables, written by Translation's builder straight into guest RAM.
        var view = GuestPhysicalView(host: system.base, guestPhysicalBase: 0, size: UInt64(system.size))
        let user = PageTableEntry.Flags([.present, .user]).rawValue
        let userData = PageTableEntry.Flags([.present, .writable, .user, .executeDisable]).rawValue
        do throws(PageTableBuildError) {
            var builder = try PageTableBuilder(
                format: .x86, mode: configuration.pagingMode,
                allocator: FrameAllocator(base: GuestLayout.tablePoolGuestPhysical, size: poolBytes), memory: &view)
            try builder.map(virtual: GuestLayout.codeVirtual, physical: GuestLayout.codeGuestPhysical, size: .size4K,
                            count: GuestLayout.codeBytes >> 12, leafBits: user, memory: &view)
            try builder.map(virtual: MeasurementKernel.doorbellVirtual, physical: MeasurementKernel.doorbellGuestPhysical,
                            size: .size4K, leafBits: userData, memory: &view)
            try builder.map(virtual: GuestLayout.dataVirtual, physical: GuestLayout.dataGuestPhysical,
                            size: configuration.guestPage, count: dataSlotBytes >> configuration.guestPage.shift,
                            leafBits: userData, memory: &view)
            if configuration.mapPageTablesIntoGuest {
                try builder.map(virtual: GuestLayout.tableWindowVirtual, physical: GuestLayout.tablePoolGuestPhysical,
                                size: .size4K, count: poolBytes >> 12, leafBits: userData, memory: &view)
            }
            self.builder = builder
        } catch {
            throw .guestPageTables(error)
        }
        pageTableRoot = builder.root
        pageTables = builder.tables

        vmStatistics = try vm.statistics()
        if let bytes = configuration.dirtyRingBytes { try vm.enableDirtyRing(bytes: bytes) }
        let vcpu = try vm.makeVirtualCPU()
        vcpuStatistics = try vcpu.statistics()
        vcpuThread = try VCPUThread(vcpu: vcpu)
        let root = builder.root, mode = configuration.pagingMode
        try vcpuThread.perform { (vcpu) throws(KVMError) in
            try vcpu.setCPUID(cpuid)
            try vcpu.enterUserLongMode(pageTableRoot: root, mode: mode)
        }
    }

    /// The host address of the data byte at guest-virtual `GuestLayout.dataVirtual + offset`.
    public func dataHostAddress(offset: Int) -> UnsafeMutableRawPointer { data.base + offset }

    /// The guest-virtual address, in the page-table window, of an unused
    /// entry in a table the guest uses: at level 1 the PT that maps the
    /// kernel code (a leaf table), at level 2 the PD above it (a non-leaf
    /// table). Storing 0 there changes no translation. Needs
    /// `mapPageTablesIntoGuest`.
    public func unusedEntryVirtualAddress(level: Int) throws(KVMError) -> UInt64 {
        guard configuration.mapPageTablesIntoGuest else {
            throw .invalidArgument("the page tables are not mapped into the guest")
        }
        guard level == 1 || level == 2 else { throw .invalidArgument("table level \(level) is not 1 (PT) or 2 (PD)") }
        // The last entry of the table that maps the code: VA codeVirtual's
        // table at `level`, index 511.
        let span: UInt64 = level == 1 ? 1 << 12 : 1 << 21
        let regionMask: UInt64 = span * 512 - 1
        let unusedVirtual = (GuestLayout.codeVirtual & ~regionMask) + 511 * span
        let view = GuestPhysicalView(host: system.base, guestPhysicalBase: 0, size: UInt64(system.size))
        guard let entry = builder.entryAddress(of: unusedVirtual, level: level, memory: view),
              view.load64(entry) == 0
        else { throw .invalidArgument("no unused entry at level \(level) next to the code mapping") }
        return GuestLayout.tableWindowVirtual + (entry - GuestLayout.tablePoolGuestPhysical)
    }

    /// Runs `kernel` once from its first instruction and returns what it
    /// reports, with the VM and vCPU statistics deltas. A run longer than
    /// `timeLimit` seconds is stopped by the watchdog and throws
    /// `KVMError.watchdogTimeout`; any exit other than the kernel's doorbell
    /// store throws `KVMError.unexpectedExit`.
    public func run(_ kernel: MeasurementKernel, _ arguments: KernelArguments,
                    timeLimit: Double = 30) throws(KVMError) -> KernelResult {
        guard let entry = entryPoints[kernel] else { throw .invalidArgument("kernel \(kernel) is not loaded") }
        if kernel != .spin && arguments.rsi == 0 { throw .invalidArgument("a kernel needs a count of at least 1") }
        let vmBefore = try vmStatistics.snapshot()
        let vcpuBefore = try vcpuStatistics.snapshot()
        let started = Self.monotonicNanoseconds()
        let registers = try vcpuThread.perform(timeLimit: timeLimit) { (vcpu) throws(KVMError) -> GeneralRegisters in
            var registers = GeneralRegisters()
            registers.rip = entry
            registers.rflags = GeneralRegisters.flagsIOPL3
            registers.rdi = arguments.rdi
            registers.rsi = arguments.rsi
            registers.rdx = arguments.rdx
            registers.rcx = arguments.rcx
            try vcpu.setRegisters(registers)
            while true {
                let exit = try vcpu.runOnce()
                switch exit {
                case .mmio(MeasurementKernel.doorbellGuestPhysical, _, true):
                    return try vcpu.registers()
                case .interrupted:
                    if vcpu.immediateExitRequested { throw .watchdogTimeout(seconds: timeLimit) }
                default:
                    throw .unexpectedExit(exit, instructionPointer: (try? vcpu.registers().rip) ?? 0)
                }
            }
        }
        let wall = Self.monotonicNanoseconds() - started
        let vmAfter = try vmStatistics.snapshot()
        let vcpuAfter = try vcpuStatistics.snapshot()
        return KernelResult(cycles: registers.r8, state: registers.r9, checksum: registers.r10,
                            vmStatistics: vmAfter.delta(since: vmBefore), vcpuStatistics: vcpuAfter.delta(since: vcpuBefore),
                            wallNanoseconds: wall)
    }

    /// The data pages (4 KiB page numbers in the data slot) the vCPU's dirty
    /// ring collected since the last call; they are re-protected
    /// (`KVM_RESET_DIRTY_RINGS`) before this returns.
    public func harvestDirtyData() throws(KVMError) -> [UInt64] {
        guard let ring = vcpuThread.vcpu.dirtyRing else { throw .invalidArgument("the session has no dirty ring") }
        let pages = ring.harvest().filter { $0.slot == GuestLayout.dataSlot }.map(\.page)
        try vm.resetDirtyRings()
        return pages
    }

    /// The current VM statistics (for instant values such as `pages_2m`).
    public func vmStatisticsSnapshot() throws(KVMError) -> StatisticsSnapshot { try vmStatistics.snapshot() }

    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
