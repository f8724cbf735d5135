import KVM
import Testing

/// All KVM tests run one after another: the descriptor-leak test counts the
/// process's open files, which concurrent VMs would disturb.
@Suite(.serialized) enum KVMRunnerTests {}

/// Whether a KVM device can be used here.
let kvmAvailable = KVMDevice.isAvailable

/// The number of open file descriptors of this process.
func openDescriptorCount() throws -> Int {
    try FileManagerShim.directoryCount("/proc/self/fd")
}

/// The resident set of this process in bytes (`/proc/self/statm`).
func residentBytes() throws -> Int {
    let fields = try FileManagerShim.read("/proc/self/statm").split(separator: " ")
    return (Int(fields[1]) ?? 0) * 4096
}
