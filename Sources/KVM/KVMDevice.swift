import CKVM
import Glibc

/// The KVM system device, usually `/dev/kvm`: the handle that creates VMs
/// and answers capability and CPUID queries.
public final class KVMDevice: @unchecked Sendable {
    /// The conventional path of the device.
    public static let defaultPath = "/dev/kvm"

    /// Whether a KVM device can be opened at `defaultPath` with a supported
    /// API version. Tests use it to skip with a reason.
    public static var isAvailable: Bool { (try? KVMDevice()) != nil }

    /// The path that was opened.
    public let path: String
    let descriptor: FileDescriptorOwner

    /// Opens the device at `path` and checks its API version. The
    /// corresponding C function is `open`; the ioctl is `KVM_GET_API_VERSION`.
    public init(path: String = KVMDevice.defaultPath) throws(KVMError) {
        self.path = path
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .deviceUnavailable(path: path, .current) }
        descriptor = FileDescriptorOwner(fd)
        let version = try ioctlCall(fd, CKVM_GET_API_VERSION, "KVM_GET_API_VERSION", value: 0)
        guard version == 12 else { throw .unsupportedAPIVersion(version) }
    }

    /// The value of a capability: 0 when absent, 1 or a capability-specific
    /// number when present. The corresponding ioctl is `KVM_CHECK_EXTENSION`.
    public func capability(_ capability: Int32) throws(KVMError) -> Int32 {
        try ioctlCall(descriptor.raw, CKVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION(\(capability))",
                      value: UInt(capability))
    }

    /// The size of the `kvm_run` area every vCPU maps. The corresponding ioctl
    /// is `KVM_GET_VCPU_MMAP_SIZE`.
    public func vcpuMappingSize() throws(KVMError) -> Int {
        Int(try ioctlCall(descriptor.raw, CKVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE", value: 0))
    }

    /// The CPUID leaves KVM can present to a guest. The corresponding ioctl is
    /// `KVM_GET_SUPPORTED_CPUID`; the buffer grows while it answers `E2BIG`.
    public func supportedCPUID() throws(KVMError) -> CPUIDTable {
        var capacity: UInt32 = 64
        while true {
            guard let buffer = ckvm_cpuid2_allocate(capacity) else {
                throw .systemCall("allocating kvm_cpuid2", .noMemory)
            }
            defer { ckvm_cpuid2_free(buffer) }
            do {
                _ = try ioctlCall(descriptor.raw, CKVM_GET_SUPPORTED_CPUID, "KVM_GET_SUPPORTED_CPUID", buffer)
            } catch let error {
                if case .systemCall(_, .argumentListTooLong) = error, capacity < 4096 {
                    capacity *= 2
                    continue
                }
                throw error
            }
            let entries = (0..<buffer.pointee.nent).map { CPUIDEntry(ckvm_cpuid2_entry(buffer, $0).pointee) }
            return CPUIDTable(entries: entries)
        }
    }

    /// Creates a VM. The corresponding ioctl is `KVM_CREATE_VM`.
    public func makeVirtualMachine() throws(KVMError) -> VirtualMachine {
        let fd = try ioctlCall(descriptor.raw, CKVM_CREATE_VM, "KVM_CREATE_VM", value: 0)
        return try VirtualMachine(descriptor: FileDescriptorOwner(fd), device: self)
    }
}
