import GuestMemory
import Translation

/// Why a KVM operation failed.
public enum KVMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The KVM device could not be opened.
    case deviceUnavailable(path: String, Errno)
    /// A system call or ioctl failed.
    case systemCall(String, Errno)
    /// The kernel's KVM API version is not the stable version 12.
    case unsupportedAPIVersion(Int32)
    /// A capability the operation needs is missing.
    case missingCapability(String)
    /// A new memslot overlaps an existing one in guest-physical space.
    case memorySlotOverlaps(slot: UInt32, existing: UInt32)
    /// A memslot's host memory or guest-physical range is not page-aligned.
    case memorySlotMisaligned(slot: UInt32)
    /// The guest did not leave within its time limit and was stopped.
    case watchdogTimeout(seconds: Double)
    /// The guest left in a way the caller did not expect.
    case unexpectedExit(VMExit, instructionPointer: UInt64)
    /// An argument is out of its range.
    case invalidArgument(String)
    /// The guest page tables could not be built.
    case guestPageTables(PageTableBuildError)
    /// A kernel's result does not match what the runner computed.
    case kernelCheckFailed(String)
    /// Guest RAM could not be mapped (GuestMemory names the reason, such as
    /// the hugetlbfs pages to reserve).
    case guestMemory(GuestMemoryError)

    public var description: String {
        switch self {
        case let .deviceUnavailable(path, errno):
            "cannot open the KVM device \(path): \(errno)"
        case let .systemCall(name, errno):
            "\(name) failed: \(errno)"
        case let .unsupportedAPIVersion(version):
            "KVM_GET_API_VERSION returned \(version), but only version 12 is supported"
        case let .missingCapability(name):
            "the host's KVM lacks \(name)"
        case let .memorySlotOverlaps(slot, existing):
            "memslot \(slot) overlaps memslot \(existing) in guest-physical space"
        case let .memorySlotMisaligned(slot):
            "memslot \(slot) is not aligned to 4 KiB in host or guest-physical memory"
        case let .watchdogTimeout(seconds):
            "the guest did not exit within \(seconds) s and was stopped by the watchdog"
        case let .unexpectedExit(exit, rip):
            "unexpected guest exit \(exit) at rip 0x\(String(rip, radix: 16))"
        case let .invalidArgument(message):
            "invalid argument: \(message)"
        case let .guestPageTables(error):
            "guest page tables: \(error)"
        case let .kernelCheckFailed(message):
            "kernel result check failed: \(message)"
        case let .guestMemory(error):
            "guest memory: \(error)"
        }
    }
}
