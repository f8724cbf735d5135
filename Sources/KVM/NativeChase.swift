import CKVM

/// The pointer chase in the host process: the same loop as the guest
/// kernel (`ckvm_native_chase` in kernels.S), over host memory of the same
/// backing, for the virtualization-overhead ratio.
public enum NativeChase {
    /// Follows `steps` pointers from `start` (a host address). Returns the
    /// rdtsc cycles, the last pointer and the sum of the pointers.
    public static func run(start: UnsafeRawPointer, steps: UInt64) -> (cycles: UInt64, last: UInt64, checksum: UInt64) {
        var last: UInt64 = 0, checksum: UInt64 = 0
        let cycles = ckvm_native_chase(start, steps, &last, &checksum)
        return (cycles, last, checksum)
    }
}
