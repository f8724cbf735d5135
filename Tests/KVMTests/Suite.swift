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
