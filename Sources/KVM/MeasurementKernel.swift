import CKVM

/// The measurement kernels of `kernels.S` in the C shim. Each runs at CPL3,
/// times its loop with rdtsc and leaves through a store to the doorbell page
/// (an MMIO exit); the register contract is in `CKVMKernelABI.h`.
public enum MeasurementKernel: CaseIterable, Sendable, Hashable {
    /// Dependent pointer chase. RDI = first pointer, RSI = steps.
    case pointerChase
    /// Independent LCG-addressed loads. RDI = base, RSI = loads, RDX = byte mask, RCX = seed.
    case randomLoads
    /// Strided loads. RDI = base, RSI = loads, RDX = stride, RCX = length.
    case stridedSweep
    /// GUPS XOR updates. RDI = table, RSI = updates, RDX = word-index mask, RCX = seed.
    case gups
    /// A repeated 8-byte store. RDI = target, RSI = stores, RDX = value.
    case storeLoop
    /// One write of its own address per page. RDI = base, RSI = pages, RDX = stride.
    case firstTouch
    /// One write of a tag per page. RDI = base, RSI = pages, RDX = stride, RCX = tag.
    case writeSweep
    /// An endless loop (for the watchdog).
    case spin

    var id: ckvm_kernel_id {
        switch self {
        case .pointerChase: CKVM_KERNEL_POINTER_CHASE
        case .randomLoads: CKVM_KERNEL_RANDOM_LOADS
        case .stridedSweep: CKVM_KERNEL_STRIDED_SWEEP
        case .gups: CKVM_KERNEL_GUPS
        case .storeLoop: CKVM_KERNEL_STORE_LOOP
        case .firstTouch: CKVM_KERNEL_FIRST_TOUCH
        case .writeSweep: CKVM_KERNEL_WRITE_SWEEP
        case .spin: CKVM_KERNEL_SPIN
        }
    }

    /// The kernel's machine code, as the assembler produced it.
    public var code: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: ckvm_kernel_code(id), count: ckvm_kernel_size(id))
    }

    /// The guest-virtual page every kernel stores to when it is done.
    public static let doorbellVirtual = UInt64(CKVM_KERNEL_DOORBELL_VIRTUAL)
    /// The guest-physical address behind the doorbell page, outside every
    /// memslot, so that the store exits as `VMExit.mmio`.
    public static let doorbellGuestPhysical = UInt64(CKVM_KERNEL_DOORBELL_PHYSICAL)

    /// The multiplier and increment of the LCG the random-load and GUPS
    /// kernels step (Knuth's MMIX constants).
    public static let lcgMultiplier: UInt64 = 6_364_136_223_846_793_005
    public static let lcgIncrement: UInt64 = 1_442_695_040_888_963_407
}

/// The inputs of a kernel run, in the registers of the kernel contract.
public struct KernelArguments: Sendable, Hashable {
    public var rdi: UInt64, rsi: UInt64, rdx: UInt64, rcx: UInt64

    public init(rdi: UInt64 = 0, rsi: UInt64 = 0, rdx: UInt64 = 0, rcx: UInt64 = 0) {
        self.rdi = rdi
        self.rsi = rsi
        self.rdx = rdx
        self.rcx = rcx
    }
}

/// What a kernel run reports.
public struct KernelResult: Sendable {
    /// rdtsc cycles of the timed loop (R8).
    public var cycles: UInt64
    /// The kernel's final state (R9).
    public var state: UInt64
    /// The kernel's checksum or count (R10).
    public var checksum: UInt64
    /// Changes in the VM's binary statistics across the run.
    public var vmStatistics: [String: Int64]
    /// Changes in the vCPU's binary statistics across the run.
    public var vcpuStatistics: [String: Int64]
    /// Wall-clock nanoseconds of the whole run, entry and exit included.
    public var wallNanoseconds: UInt64

    /// A VM statistic's change, or 0 when this KVM lacks it.
    public func vm(_ name: String) -> Int64 { vmStatistics[name] ?? 0 }
    /// A vCPU statistic's change, or 0 when this KVM lacks it.
    public func vcpu(_ name: String) -> Int64 { vcpuStatistics[name] ?? 0 }
}
