#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Translation

/// Physical memory for the simulator's page tables: up to two contiguous
/// regions, each one reserved range of host virtual memory that the host
/// fills with zero pages on first touch (and, where it can, backs with
/// transparent huge pages). A load is one read at the region's offset, with
/// no directory, hashing or exclusivity check, and the tables of a workload
/// sit in few host pages. Outside the regions memory reads as zero and
/// stores are dropped (the walkers store only A/D bits into table entries,
/// which lie in a region).
///
/// It is a reference type: the builders and walkers of one engine share it.
public final class TableMemory: PhysicalMemory, @unchecked Sendable {
    @usableFromInline let bases: (UInt64, UInt64)
    @usableFromInline let sizes: (UInt64, UInt64)
    @usableFromInline let regions: (UnsafeMutableRawPointer, UnsafeMutableRawPointer)

    /// Regions `[base, base + bytes)`; a second region of 0 bytes is unused.
    /// Throws if the host cannot reserve the address space.
    public init(_ first: (base: UInt64, bytes: UInt64), _ second: (base: UInt64, bytes: UInt64) = (0, 0)) throws(SimulationError) {
        bases = (first.base, second.base)
        sizes = (first.bytes, second.bytes)
        let firstRegion = try TableMemory.reserve(first.bytes)
        do {
            regions = (firstRegion, try TableMemory.reserve(second.bytes))
        } catch {
            munmap(firstRegion, TableMemory.mappedBytes(first.bytes))
            throw error
        }
    }

    deinit {
        munmap(regions.0, TableMemory.mappedBytes(sizes.0))
        munmap(regions.1, TableMemory.mappedBytes(sizes.1))
    }

    static func mappedBytes(_ bytes: UInt64) -> Int { Int(bytes + 8 + 4095) & ~4095 }

    /// Reserves `bytes` of zero-filled, lazily backed host memory.
    /// The corresponding system call is `mmap`.
    static func reserve(_ bytes: UInt64) throws(SimulationError) -> UnsafeMutableRawPointer {
        let length = mappedBytes(bytes)
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw .mapping("cannot reserve \(length) bytes of host address space for page tables: "
                           + String(cString: strerror(errno)))
        }
        #if canImport(Glibc)
        _ = madvise(mapped, length, MADV_HUGEPAGE)
        #endif
        return mapped
    }

    /// The host address of the aligned 8 bytes holding `address`, or nil
    /// outside the regions.
    @inlinable @inline(__always)
    func location(_ address: UInt64) -> UnsafeMutableRawPointer? {
        let aligned = address & ~7
        let first = aligned &- bases.0
        if first < sizes.0 { return regions.0 + Int(truncatingIfNeeded: first) }
        let second = aligned &- bases.1
        if second < sizes.1 { return regions.1 + Int(truncatingIfNeeded: second) }
        return nil
    }

    @inlinable @inline(__always)
    public func load64(_ address: UInt64) -> UInt64 {
        guard let location = location(address) else { return 0 }
        return location.load(as: UInt64.self)
    }

    /// Prefetches the host line holding `address` (a hint; see `hostPrefetch`).
    @inlinable @inline(__always)
    func prefetch(_ address: UInt64) {
        if let location = location(address) { hostPrefetch(location) }
    }

    @inlinable
    public func store64(_ address: UInt64, _ value: UInt64) {
        guard let location = location(address) else { return }
        location.storeBytes(of: value, as: UInt64.self)
    }
}
