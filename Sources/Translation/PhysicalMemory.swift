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
/// that work on the same machine state expect.
public final class SparsePhysicalMemory: PhysicalMemory, @unchecked Sendable {
    /// Frame storage: 512 words per frame, in slot order.
    @usableFromInline var words: UnsafeMutablePointer<UInt64>
    /// Hash-table keys: frame number + 1, or 0 for an empty bucket.
    @usableFromInline var keys: UnsafeMutablePointer<UInt64>
    /// Hash-table values: the slot of the frame in `words`.
    @usableFromInline var slots: UnsafeMutablePointer<UInt32>
    @usableFromInline var bucketMask: UInt64
    @usableFromInline var hashShift: UInt64
    @usableFromInline var frameCapacity: Int
    /// The number of 4 KiB frames that hold data.
    public private(set) var frameCount: Int = 0

    /// Creates an empty memory with room for `initialFrames` before it grows.
    public init(initialFrames: Int = 64) {
        frameCapacity = max(initialFrames, 8)
        words = .allocate(capacity: frameCapacity * 512)
        let buckets = SparsePhysicalMemory.bucketCount(for: frameCapacity)
        keys = .allocate(capacity: buckets)
        keys.initialize(repeating: 0, count: buckets)
        slots = .allocate(capacity: buckets)
        slots.initialize(repeating: 0, count: buckets)
        bucketMask = UInt64(buckets - 1)
        hashShift = UInt64(64 - buckets.trailingZeroBitCount)
    }

    deinit {
        words.deallocate()
        keys.deallocate()
        slots.deallocate()
    }

    private static func bucketCount(for frames: Int) -> Int {
        var buckets = 16
        while buckets < frames * 2 { buckets <<= 1 }
        return buckets
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

    @inlinable
    public func load64(_ address: UInt64) -> UInt64 {
        let bucket = bucket(of: address &>> 12)
        if keys[bucket] == 0 { return 0 }
        let word = Int(truncatingIfNeeded: slots[bucket]) &* 512 &+ Int(truncatingIfNeeded: (address &>> 3) & 511)
        return words[word]
    }

    @inlinable
    public func store64(_ address: UInt64, _ value: UInt64) {
        let slot = frameSlot(address &>> 12)
        words[slot &* 512 &+ Int(truncatingIfNeeded: (address &>> 3) & 511)] = value
    }

    /// Whether any word of the frame holding `address` was ever written.
    public func isBacked(_ address: UInt64) -> Bool { keys[bucket(of: address >> 12)] != 0 }

    /// The slot of `frame`, allocating a zeroed frame on first use.
    @inlinable @inline(__always)
    func frameSlot(_ frame: UInt64) -> Int {
        let bucket = bucket(of: frame)
        if keys[bucket] != 0 { return Int(truncatingIfNeeded: slots[bucket]) }
        return insert(frame, at: bucket)
    }

    @usableFromInline @inline(never)
    func insert(_ frame: UInt64, at bucket: Int) -> Int {
        if frameCount == frameCapacity {
            grow()
            return insert(frame, at: self.bucket(of: frame))
        }
        let slot = frameCount
        frameCount += 1
        (words + slot * 512).initialize(repeating: 0, count: 512)
        keys[bucket] = frame &+ 1
        slots[bucket] = UInt32(slot)
        return slot
    }

    private func grow() {
        let newCapacity = frameCapacity * 2
        let newWords = UnsafeMutablePointer<UInt64>.allocate(capacity: newCapacity * 512)
        newWords.moveInitialize(from: words, count: frameCount * 512)
        words.deallocate()
        words = newWords
        let oldKeys = keys, oldSlots = slots, oldBuckets = Int(bucketMask) + 1
        let buckets = SparsePhysicalMemory.bucketCount(for: newCapacity)
        keys = .allocate(capacity: buckets)
        keys.initialize(repeating: 0, count: buckets)
        slots = .allocate(capacity: buckets)
        slots.initialize(repeating: 0, count: buckets)
        bucketMask = UInt64(buckets - 1)
        hashShift = UInt64(64 - buckets.trailingZeroBitCount)
        for index in 0..<oldBuckets where oldKeys[index] != 0 {
            let bucket = bucket(of: oldKeys[index] - 1)
            keys[bucket] = oldKeys[index]
            slots[bucket] = oldSlots[index]
        }
        oldKeys.deallocate()
        oldSlots.deallocate()
        frameCapacity = newCapacity
    }
}
