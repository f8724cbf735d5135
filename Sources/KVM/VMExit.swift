import CKVM

/// Why `KVM_RUN` returned: `kvm_run.exit_reason` decoded, with the fields of
/// the exits the runner handles. Unknown reasons keep their number.
public enum VMExit: Equatable, Sendable, CustomStringConvertible {
    /// Port I/O (`KVM_EXIT_IO`).
    case io(port: UInt16, isOut: Bool, size: UInt8, count: UInt32)
    /// `hlt` (`KVM_EXIT_HLT`).
    case halt
    /// A triple fault or reset (`KVM_EXIT_SHUTDOWN`).
    case shutdown
    /// An access to guest-physical memory with no memslot (`KVM_EXIT_MMIO`).
    case mmio(address: UInt64, length: UInt32, isWrite: Bool)
    /// The vCPU could not enter the guest (`KVM_EXIT_FAIL_ENTRY`).
    case failedEntry(hardwareReason: UInt64)
    /// KVM could not handle an exit (`KVM_EXIT_INTERNAL_ERROR`).
    case internalError(suberror: UInt32)
    /// A system event such as reset or crash (`KVM_EXIT_SYSTEM_EVENT`).
    case systemEvent(type: UInt32)
    /// A signal or `immediate_exit` stopped the run (`KVM_EXIT_INTR`, or `EINTR`).
    case interrupted
    /// `KVM_EXIT_UNKNOWN`, with the hardware's exit reason.
    case hardwareUnknown(UInt64)
    /// The vCPU's dirty ring is full (`KVM_EXIT_DIRTY_RING_FULL`).
    case dirtyRingFull
    /// Any other exit reason.
    case unknown(UInt32)

    init(run: UnsafePointer<kvm_run>) {
        let reason = run.pointee.exit_reason
        switch Int32(reason) {
        case KVM_EXIT_IO:
            var direction: UInt8 = 0, size: UInt8 = 0, port: UInt16 = 0, count: UInt32 = 0, offset: UInt64 = 0
            ckvm_run_io(run, &direction, &size, &port, &count, &offset)
            self = .io(port: port, isOut: direction == UInt8(KVM_EXIT_IO_OUT), size: size, count: count)
        case KVM_EXIT_HLT: self = .halt
        case KVM_EXIT_SHUTDOWN: self = .shutdown
        case KVM_EXIT_MMIO:
            var address: UInt64 = 0, length: UInt32 = 0, isWrite: UInt8 = 0
            ckvm_run_mmio(run, &address, &length, &isWrite)
            self = .mmio(address: address, length: length, isWrite: isWrite != 0)
        case KVM_EXIT_FAIL_ENTRY: self = .failedEntry(hardwareReason: ckvm_run_fail_entry_reason(run))
        case KVM_EXIT_INTERNAL_ERROR: self = .internalError(suberror: ckvm_run_internal_suberror(run))
        case KVM_EXIT_SYSTEM_EVENT: self = .systemEvent(type: ckvm_run_system_event_type(run))
        case KVM_EXIT_INTR: self = .interrupted
        case KVM_EXIT_UNKNOWN: self = .hardwareUnknown(ckvm_run_hardware_exit_reason(run))
        case KVM_EXIT_DIRTY_RING_FULL: self = .dirtyRingFull
        default: self = .unknown(reason)
        }
    }

    public var description: String {
        switch self {
        case let .io(port, isOut, size, count):
            "io(\(isOut ? "out" : "in") port 0x\(String(port, radix: 16)), \(size) bytes x \(count))"
        case .halt: "hlt"
        case .shutdown: "shutdown (triple fault)"
        case let .mmio(address, length, isWrite):
            "mmio(\(isWrite ? "write" : "read") 0x\(String(address, radix: 16)), \(length) bytes)"
        case let .failedEntry(reason): "failed entry (hardware reason 0x\(String(reason, radix: 16)))"
        case let .internalError(suberror): "internal error (suberror \(suberror))"
        case let .systemEvent(type): "system event \(type)"
        case .interrupted: "interrupted"
        case .dirtyRingFull: "dirty ring full"
        case let .hardwareUnknown(reason): "unknown hardware exit 0x\(String(reason, radix: 16))"
        case let .unknown(reason): "unknown exit reason \(reason)"
        }
    }
}
