import KVM
import Testing

/// Every suite of this target is nested here and runs one test at a time:
/// the leak test counts KVM's open files and the resident memory, which a
/// concurrent KVM test would disturb.
@Suite(.serialized) enum KVMRunnerTests {}

/// Whether a KVM device can be used here.
let kvmAvailable = KVMDevice.isAvailable

/// The number of open KVM file descriptors of this process (device, VMs,
/// vCPUs, statistics): other test targets in the same process open and
/// close files of their own at any time, so only KVM's are counted.
func openDescriptorCount() throws -> Int {
    try FileManagerShim.kvmDescriptorCount()
}

/// The resident set of this process in bytes (`/proc/self/statm`).
func residentBytes() throws -> Int {
    let fields = try FileManagerShim.read("/proc/self/statm").split(separator: " ")
    return (Int(fields[1]) ?? 0) * 4096
}
