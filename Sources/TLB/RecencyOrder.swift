/// The recency order of the ways of one set of at most 16 ways, packed in a
/// word: nibble `i` holds the way at position `i`, position 0 being the most
/// recent and position `ways - 1` the least recent (the victim). Nibbles at
/// positions `ways...15` hold 0xF and never name a way of a narrower set.
///
/// Reading the victim and promoting a way are a few shifts and masks without
/// a data-dependent branch: a set's LRU (or FIFO) state changes in constant
/// time whichever way is used. Only `invalidating`, off the hot path, loops
/// over the ways.
@usableFromInline enum RecencyOrder {
    /// The widest set an order word describes.
    @usableFromInline static let maximumWays = 16

    /// The order of an empty set: ways `ways - 1` down to 0, so that fills
    /// take the lowest-numbered way first.
    @inlinable static func initial(ways: Int) -> UInt64 {
        var order = UInt64.max
        for position in 0..<ways {
            order = replacing(order, position: position, with: ways - 1 - position)
        }
        return order
    }

    /// The way at `position`.
    @inlinable @inline(__always)
    static func way(_ order: UInt64, at position: Int) -> Int {
        Int(truncatingIfNeeded: (order &>> UInt64(truncatingIfNeeded: position &* 4)) & 0xF)
    }

    /// The least recent way of a set of `ways` ways.
    @inlinable @inline(__always)
    static func leastRecent(_ order: UInt64, ways: Int) -> Int { way(order, at: ways &- 1) }

    /// The position of `way` (which the order must hold).
    @inlinable @inline(__always)
    static func position(of way: Int, in order: UInt64) -> Int {
        // Nibbles equal to `way` become zero; the lowest zero nibble is found
        // exactly (the borrow can only mark nibbles above it).
        let x = order ^ (0x1111_1111_1111_1111 &* UInt64(truncatingIfNeeded: way))
        let zeros = (x &- 0x1111_1111_1111_1111) & ~x & 0x8888_8888_8888_8888
        return zeros.trailingZeroBitCount &>> 2
    }

    /// `order` with `way` moved to the front (most recent), the ways before
    /// it moving back by one.
    @inlinable @inline(__always)
    static func promoting(_ way: Int, in order: UInt64) -> UInt64 {
        let shift = UInt64(truncatingIfNeeded: position(of: way, in: order) &* 4)
        let before = (1 &<< shift) &- 1
        let after = ~(before &<< 4 | 0xF)
        return (order & after) | (order & before) &<< 4 | UInt64(truncatingIfNeeded: way)
    }

    /// `order` with `position` holding `way`.
    @inlinable static func replacing(_ order: UInt64, position: Int, with way: Int) -> UInt64 {
        let shift = UInt64(position * 4)
        return order & ~(0xF &<< shift) | UInt64(way) &<< shift
    }

    /// The order after the ways for which `isValid` is false were
    /// invalidated: valid ways keep their recency order, invalid ones go to
    /// the back with the lowest-numbered last, so fills take them lowest
    /// first.
    static func invalidating(_ order: UInt64, ways: Int, isValid: (Int) -> Bool) -> UInt64 {
        var result = UInt64.max
        var next = 0
        for position in 0..<ways where isValid(way(order, at: position)) {
            result = replacing(result, position: next, with: way(order, at: position))
            next += 1
        }
        for invalid in stride(from: ways - 1, through: 0, by: -1) where !isValid(invalid) {
            result = replacing(result, position: next, with: invalid)
            next += 1
        }
        return result
    }
}
