/// A window onto another memory at a fixed offset: address `a` here is
/// address `a + offset` in the base. Guest-physical RAM held at one place in
/// host-physical memory is such a window, so a builder can lay out guest
/// tables in guest-physical terms.
@frozen public struct OffsetMemory<Base: PhysicalMemory>: PhysicalMemory {
    public var base: Base
    public let offset: UInt64

    @inlinable public init(base: Base, offset: UInt64) {
        self.base = base
        self.offset = offset
    }

    @inlinable public func load64(_ address: UInt64) -> UInt64 { base.load64(address &+ offset) }
    @inlinable public mutating func store64(_ address: UInt64, _ value: UInt64) { base.store64(address &+ offset, value) }
}
