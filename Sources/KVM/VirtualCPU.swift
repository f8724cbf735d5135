import CKVM
import Glibc
import Translation

/// A vCPU with its `kvm_run` mapping. Run it on one thread (see
/// `VCPUThread`); only `requestImmediateExit` may be called from another.
public final class VirtualCPU: @unchecked Sendable {
    /// The vCPU's id inside its VM.
    public let id: UInt32
    let descriptor: FileDescriptorOwner
    let runMapping: MappingOwner
    /// The VM, kept alive as long as the vCPU.
    public let vm: VirtualMachine

    init(descriptor: consuming FileDescriptorOwner, id: UInt32, mappingSize: Int, vm: VirtualMachine) throws(KVMError) {
        let fd = descriptor.raw
        // If the mapping fails, `descriptor` is closed as this init throws.
        runMapping = try MappingOwner(size: mappingSize, protection: PROT_READ | PROT_WRITE, flags: MAP_SHARED, fd: fd,
                                      name: "mmap of kvm_run")
        dirtyRing = try vm.dirtyRingBytes.map { (bytes) throws(KVMError) in try DirtyRing(vcpuDescriptor: fd, bytes: bytes) }
        self.descriptor = descriptor
        self.id = id
        self.vm = vm
    }

    /// The vCPU's dirty ring, when the VM enabled dirty rings before creating it.
    public let dirtyRing: DirtyRing?

    var run: UnsafeMutablePointer<kvm_run> { runMapping.base.assumingMemoryBound(to: kvm_run.self) }

    /// Sets the CPUID the guest sees. The corresponding ioctl is `KVM_SET_CPUID2`.
    public func setCPUID(_ table: CPUIDTable) throws(KVMError) {
        guard let buffer = ckvm_cpuid2_allocate(UInt32(table.entries.count)) else {
            throw .systemCall("allocating kvm_cpuid2", .noMemory)
        }
        defer { ckvm_cpuid2_free(buffer) }
        for (index, entry) in table.entries.enumerated() { ckvm_cpuid2_entry(buffer, UInt32(index)).pointee = entry.raw }
        _ = try ioctlCall(descriptor.raw, CKVM_SET_CPUID2, "KVM_SET_CPUID2", buffer)
    }

    /// The general registers. The corresponding ioctl is `KVM_GET_REGS`.
    public func registers() throws(KVMError) -> GeneralRegisters {
        var regs = kvm_regs()
        _ = try ioctlCall(descriptor.raw, CKVM_GET_REGS, "KVM_GET_REGS", &regs)
        return GeneralRegisters(regs)
    }

    /// Sets the general registers. The corresponding ioctl is `KVM_SET_REGS`.
    public func setRegisters(_ registers: GeneralRegisters) throws(KVMError) {
        var regs = registers.raw
        _ = try ioctlCall(descriptor.raw, CKVM_SET_REGS, "KVM_SET_REGS", &regs)
    }

    /// Puts the vCPU in 64-bit long mode at CPL3 with paging rooted at `root`:
    /// flat code and data segments with DPL = RPL = 3, CR0.PE|PG, CR4.PAE
    /// (and LA57 for 5-level paging), EFER.LME|LMA. No GDT or IDT is
    /// installed: segment state is loaded directly, and a guest fault ends in
    /// a triple fault (`VMExit.shutdown`). The corresponding ioctls are
    /// `KVM_GET_SREGS` and `KVM_SET_SREGS`.
    public func enterUserLongMode(pageTableRoot root: UInt64, mode: PagingMode) throws(KVMError) {
        var sregs = kvm_sregs()
        _ = try ioctlCall(descriptor.raw, CKVM_GET_SREGS, "KVM_GET_SREGS", &sregs)
        LongModeState.apply(to: &sregs, root: root, mode: mode)
        _ = try ioctlCall(descriptor.raw, CKVM_SET_SREGS, "KVM_SET_SREGS", &sregs)
    }

    /// Enters the guest until it exits. An interruption (the watchdog's
    /// signal or `immediate_exit`) returns `.interrupted` rather than retrying.
    /// The corresponding ioctl is `KVM_RUN`.
    public func runOnce() throws(KVMError) -> VMExit {
        do {
            _ = try ioctlCall(descriptor.raw, CKVM_RUN, "KVM_RUN", nil, retryOnInterrupt: false)
        } catch let error {
            if case .systemCall(_, .interrupted) = error { return .interrupted }
            throw error
        }
        return VMExit(run: run)
    }

    /// Asks the vCPU to leave (or not enter) `KVM_RUN`; safe from any thread.
    /// It takes effect at the next entry or with a signal to the vCPU thread.
    public func requestImmediateExit(_ exit: Bool = true) {
        ckvm_run_set_immediate_exit(run, exit ? 1 : 0)
    }

    /// Whether `immediate_exit` is set (the watchdog asked the vCPU to stop).
    public var immediateExitRequested: Bool { ckvm_run_immediate_exit(run) != 0 }

    /// Opens the vCPU's binary statistics. The corresponding ioctl is `KVM_GET_STATS_FD`.
    public func statistics() throws(KVMError) -> KVMStatistics {
        let fd = try ioctlCall(descriptor.raw, CKVM_GET_STATS_FD, "KVM_GET_STATS_FD(vcpu)", nil)
        return try KVMStatistics(descriptor: FileDescriptorOwner(fd))
    }
}
