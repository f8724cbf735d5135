/// Memory that page-table walkers read and write, one aligned 64-bit word at
/// a time. Walkers are generic over it, so a concrete type is specialized
/// into the walk loop with no existential or allocation.
public protocol PhysicalMemory {
    /// Reads the 8-byte word at `address` (which is 8-byte aligned). Memory
    /// that was never written reads as zero.
    func load64(_ address: UInt64) -> UInt64
    /// Writes the 8-byte word at `address` (which is 8-byte aligned).
    mutating func store64(_ address: UInt64, _ value: UInt64)
}

/// A sparse physical memory: 4 KiB frames are allocated on first write and
/// found through an open-addressing hash table. Reads of frames never written
/// return zero without allocating.
///
/// It is a reference type: copies share one memory, as walkers and builders
/// that work on the same machine state expect. Its state sits behind one
/// immutable pointer, so the hot path pays for no dynamic exclusivity check.
public final class SparsePhysicalMemory: PhysicalMemory, @unchecked Sendable {
    /// The hash table and frame storage.
    @usableFromInline struct Table {
        /// Frame storage: 512 words per frame, in slot order.
        @usableFromInline var words: UnsafeMutablePointer<UInt64>
        /// Hash-table keys: frame number + 1, or 0 for an empty bucket.
        @usableFromInline var keys: UnsafeMutablePointer<UInt64>
        /// Hash-table values: the slot of the frame in `words`.
        @usableFromInline var slots: UnsafeMutablePointer<UInt32>
        @usableFromInline var bucketMask: UInt64
        @usableFromInline var hashShift: UInt64
        @usableFromInline var frameCapacity: Int
        @usableFromInline var frameCount: Int

        init(frameCapacity: Int) {
            self.frameCapacity = frameCapacity
            frameCount = 0
            words = .allocate(capacity: frameCapacity * 512)
            var buckets = 16
            while buckets < frameCapacity * 2 { buckets <<= 1 }
            keys = .allocate(capacity: buckets)
            keys.initialize(repeating: 0, count: buckets)
            slots = .allocate(capacity: buckets)
            slots.initialize(repeating: 0, count: buckets)
            bucketMask = UInt64(buckets - 1)
            hashShift = UInt64(64 - buckets.trailingZeroBitCount)
        }

        func deallocate() {
            words.deallocate()
            keys.deallocate()
            slots.deallocate()
        }

        /// The bucket where `frame` is, or the empty bucket where it would go.
        @inlinable @inline(__always)
        func bucket(of frame: UInt64) -> Int {
            var index = (frame &* 0x9E37_79B9_7F4A_7C15) &>> hashShift
            let key = frame &+ 1
            while true {
                let stored = keys[Int(truncatingIfNeeded: index)]
                if stored == key || stored == 0 { return Int(truncatingIfNeeded: index) }
                index = (index &+ 1) & bucketMask
            }
        }
    }

    @usableFromInline let table: UnsafeMutablePointer<Table>

    /// Creates an empty memory with room for `initialFrames` before it grows.
    public init(initialFrames: Int = 64) {
        table = .allocate(capacity: 1)
        table.initialize(to: Table(frameCapacity: max(initialFrames, 8)))
    }

    deinit {
        table.pointee.deallocate()
        table.deinitialize(count: 1)
        table.deallocate()
    }

    /// The number of 4 KiB frames that hold data.
    public var frameCount: Int { table.pointee.frameCount }

    @inlinable
    public func load64(_ address: UInt64) -> UInt64 {
        let bucket = table.pointee.bucket(of: address &>> 12)
        if table.pointee.keys[bucket] == 0 { return 0 }
        let word = Int(truncatingIfNeeded: table.pointee.slots[bucket]) &* 512
            &+ Int(truncatingIfNeeded: (address &>> 3) & 511)
        return table.pointee.words[word]
    }

    @inlinable
    public func store64(_ address: UInt64, _ value: UInt64) {
        let slot = frameSlot(address &>> 12)
        table.pointee.words[slot &* 512 &+ Int(truncatingIfNeeded: (address &>> 3) & 511)] = value
    }

    /// Whether any word of the frame holding `address` was ever written.
    public func isBacked(_ address: UInt64) -> Bool {
        table.pointee.keys[table.pointee.bucket(of: address >> 12)] != 0
    }

    /// The slot of `frame`, allocating a zeroed frame on first use.
    @inlinable @inline(__always)
    func frameSlot(_ frame: UInt64) -> Int {
        let bucket = table.pointee.bucket(of: frame)
        if table.pointee.keys[bucket] != 0 { return Int(truncatingIfNeeded: table.pointee.slots[bucket]) }
        return insert(frame, at: bucket)
    }

    @usableFromInline @inline(never)
    func insert(_ frame: UInt64, at bucket: Int) -> Int {
        if table.pointee.frameCount == table.pointee.frameCapacity {
            grow()
            return insert(frame, at: table.pointee.bucket(of: frame))
        }
        let slot = table.pointee.frameCount
        table.pointee.frameCount += 1
        (table.pointee.words + slot * 512).initialize(repeating: 0, count: 512)
        table.pointee.keys[bucket] = frame &+ 1
        table.pointee.slots[bucket] = UInt32(slot)
        return slot
    }

    /// Doubles the frame capacity and rehashes.
    private func grow() {
        let old = table.pointee
        var new = Table(frameCapacity: old.frameCapacity * 2)
        new.words.moveInitialize(from: old.words, count: old.frameCount * 512)
        new.frameCount = old.frameCount
        for index in 0...Int(old.bucketMask) where old.keys[index] != 0 {
            let bucket = new.bucket(of: old.keys[index] &- 1)
            new.keys[bucket] = old.keys[index]
            new.slots[bucket] = old.slots[index]
        }
        old.deallocate()
        table.pointee = new
    }
}
