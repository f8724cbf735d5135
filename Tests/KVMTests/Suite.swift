import KVM
import Testing

/// Every suite of this target is nested here and runs one test at a time:
/// the leak test counts the process's open files and resident memory, which
/// any concurrent test would disturb.
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
