import Translation

/// Physical memory for the simulator's page tables: up to two contiguous
/// regions of 4 KiB frames, each found through a directory indexed by the
/// frame's offset in its region. A load is two dependent reads with no
/// hashing and no exclusivity check; frames are allocated on first store.
/// Outside the regions memory reads as zero and stores are dropped (the
/// walkers store only A/D bits into table entries, which lie in a region).
///
/// It is a reference type: the builders and walkers of one engine share it.
public final class TableMemory: PhysicalMemory, @unchecked Sendable {
    @usableFromInline let bases: (UInt64, UInt64)
    @usableFromInline let frameCounts: (UInt64, UInt64)
    @usableFromInline let directories: (UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>, UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>)

    /// Regions `[base, base + bytes)`; a second region of 0 bytes is unused.
    public init(_ first: (base: UInt64, bytes: UInt64), _ second: (base: UInt64, bytes: UInt64) = (0, 0)) {
        bases = (first.base, second.base)
        frameCounts = (first.bytes >> 12, second.bytes >> 12)
        let a = UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>.allocate(capacity: max(Int(first.bytes >> 12), 1))
        a.initialize(repeating: nil, count: max(Int(first.bytes >> 12), 1))
        let b = UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>.allocate(capacity: max(Int(second.bytes >> 12), 1))
        b.initialize(repeating: nil, count: max(Int(second.bytes >> 12), 1))
        directories = (a, b)
    }

    deinit {
        for (directory, count) in [(directories.0, frameCounts.0), (directories.1, frameCounts.1)] {
            for index in 0..<Int(count) { directory[index]?.deallocate() }
            directory.deallocate()
        }
    }

    /// The directory slot of the frame holding `address`, or nil outside the regions.
    @inlinable @inline(__always)
    func slot(_ address: UInt64) -> UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>? {
        let first = (address &- bases.0) &>> 12
        if first < frameCounts.0 { return directories.0 + Int(truncatingIfNeeded: first) }
        let second = (address &- bases.1) &>> 12
        if second < frameCounts.1 { return directories.1 + Int(truncatingIfNeeded: second) }
        return nil
    }

    @inlinable
    public func load64(_ address: UInt64) -> UInt64 {
        guard let slot = slot(address), let frame = slot.pointee else { return 0 }
        return frame[Int(truncatingIfNeeded: (address &>> 3) & 511)]
    }

    @inlinable
    public func store64(_ address: UInt64, _ value: UInt64) {
        guard let slot = slot(address) else { return }
        let frame = slot.pointee ?? allocateFrame(slot)
        frame[Int(truncatingIfNeeded: (address &>> 3) & 511)] = value
    }

    @usableFromInline @inline(never)
    func allocateFrame(_ slot: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>) -> UnsafeMutablePointer<UInt64> {
        let frame = UnsafeMutablePointer<UInt64>.allocate(capacity: 512)
        frame.initialize(repeating: 0, count: 512)
        slot.pointee = frame
        return frame
    }
}
