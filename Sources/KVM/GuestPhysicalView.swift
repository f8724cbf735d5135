import Translation

/// Guest RAM seen as `PhysicalMemory` at guest-physical addresses: a window
/// onto the host mapping of one memslot, so that Translation's
/// `PageTableBuilder` writes guest page tables straight into guest RAM.
public struct GuestPhysicalView: PhysicalMemory {
    /// The host address of guest-physical `guestPhysicalBase`.
    public let host: UnsafeMutableRawPointer
    public let guestPhysicalBase: UInt64
    public let size: UInt64

    public init(host: UnsafeMutableRawPointer, guestPhysicalBase: UInt64, size: UInt64) {
        self.host = host
        self.guestPhysicalBase = guestPhysicalBase
        self.size = size
    }

    @inlinable func offset(_ address: UInt64) -> Int {
        let offset = address &- guestPhysicalBase
        precondition(offset < size && address & 7 == 0,
                     "guest-physical 0x\(String(address, radix: 16)) is outside this view or misaligned")
        return Int(truncatingIfNeeded: offset)
    }

    @inlinable public func load64(_ address: UInt64) -> UInt64 {
        host.load(fromByteOffset: offset(address), as: UInt64.self)
    }

    @inlinable public mutating func store64(_ address: UInt64, _ value: UInt64) {
        host.storeBytes(of: value, toByteOffset: offset(address), as: UInt64.self)
    }
}
