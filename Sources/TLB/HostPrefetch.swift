/// LLVM's prefetch intrinsic: a hint that the host line at `address` will
/// be read soon. It never faults and changes no program state.
@_silgen_name("llvm.prefetch.p0")
@usableFromInline func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ dataCache: Int32)

/// Asks the host CPU to bring the line at `address` into its caches.
@inlinable @inline(__always)
func hostPrefetch(_ address: UnsafeRawPointer) {
    llvmPrefetch(address, 0, 3, 1)
}
