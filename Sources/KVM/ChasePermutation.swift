/// A pointer-chase cycle over the 4 KiB pages of a working set: the pages
/// in a random cyclic order, each holding one pointer at a random cache
/// line, each pointer naming the next page's line. One lap touches every
/// page once, with no two consecutive loads in the same page.
public struct ChasePermutation: Sendable {
    /// Page numbers in visiting order.
    public let order: [Int]
    /// The cache line (0...63) of each page's pointer, by page number.
    public let lines: [UInt8]

    /// A cycle over `pages` pages from a seeded generator.
    public init(pages: Int, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var order = Array(0..<pages)
        if pages > 1 {
            for index in stride(from: pages - 1, to: 0, by: -1) {
                order.swapAt(index, Int(random.next() % UInt64(index + 1)))
            }
        }
        self.order = order
        lines = (0..<pages).map { _ in UInt8(random.next() & 63) }
    }

    /// The number of pages (and of loads in one lap).
    public var pages: Int { order.count }

    /// The byte offset of page `page`'s pointer.
    @inlinable public func offset(ofPage page: Int) -> Int { page << 12 | Int(lines[page]) << 6 }

    /// Writes the cycle into memory at `host`, whose first byte the chase
    /// sees at `addressBase`: each pointer is `addressBase` + the next
    /// node's offset. This writes (and so faults in) every page. Returns the
    /// first pointer.
    public func write(into host: UnsafeMutableRawPointer, addressBase: UInt64) -> UInt64 {
        for index in 0..<pages {
            let next = order[index + 1 == pages ? 0 : index + 1]
            host.storeBytes(of: addressBase &+ UInt64(offset(ofPage: next)),
                            toByteOffset: offset(ofPage: order[index]), as: UInt64.self)
        }
        return addressBase &+ UInt64(offset(ofPage: order[0]))
    }

    /// The sum of the pointers loaded in one full lap (every node once),
    /// which the chase kernels return as their checksum per lap.
    public func lapChecksum(addressBase: UInt64) -> UInt64 {
        var sum: UInt64 = 0
        for page in 0..<pages { sum &+= addressBase &+ UInt64(offset(ofPage: page)) }
        return sum
    }
}

/// Steele, Lea and Flood's SplitMix64 generator: small, fast, seedable.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }
}
