import CKVM
import Glibc

/// Runs one system call. A result of -1 becomes a thrown `KVMError.systemCall`
/// naming the call, with `errno` read right after the call returns. `EINTR`
/// is retried unless `retryOnInterrupt` is false (as for `KVM_RUN`, where an
/// interruption is the watchdog's signal).
@inline(never)
func systemCall<Result: FixedWidthInteger>(
    _ name: @autoclosure () -> String, retryOnInterrupt: Bool = true, _ call: () -> Result
) throws(KVMError) -> Result {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = Errno.current
        if error == .interrupted && retryOnInterrupt { continue }
        throw .systemCall(name(), error)
    }
}

/// `ioctl(fd, request, argument)` through `systemCall`, named after the request.
@inline(__always)
func ioctlCall(
    _ fd: Int32, _ request: UInt, _ name: @autoclosure () -> String, _ argument: UnsafeMutableRawPointer?,
    retryOnInterrupt: Bool = true
) throws(KVMError) -> Int32 {
    try systemCall(name(), retryOnInterrupt: retryOnInterrupt) { ckvm_ioctl_pointer(fd, request, argument) }
}

/// `ioctl(fd, request, value)` with an integer argument.
@inline(__always)
func ioctlCall(_ fd: Int32, _ request: UInt, _ name: @autoclosure () -> String, value: UInt) throws(KVMError) -> Int32 {
    try systemCall(name()) { ckvm_ioctl_value(fd, request, value) }
}
