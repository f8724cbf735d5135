/// The tag bits beside a TLB entry's page number: the VPID of the virtual
/// machine and the PCID of the address space, packed as `vpid << 12 | pcid`,
/// with bit 31 for a global translation (whose PCID field is 0, because a
/// global entry matches every PCID of its VPID).
@frozen public struct TLBContext: Hashable, Sendable, CustomStringConvertible {
    public var raw: UInt32

    @inlinable public init(raw: UInt32) { self.raw = raw }

    /// The context of `pcid` (12 bits) in `vpid` (16 bits).
    @inlinable public init(vpid: UInt16 = 0, pcid: UInt16 = 0) {
        raw = UInt32(vpid) &<< 12 | UInt32(pcid & 0xFFF)
    }

    /// The global bit.
    public static let globalBit: UInt32 = 1 << 31

    @inlinable public var pcid: UInt16 { UInt16(truncatingIfNeeded: raw & 0xFFF) }
    @inlinable public var vpid: UInt16 { UInt16(truncatingIfNeeded: (raw &>> 12) & 0xFFFF) }
    @inlinable public var isGlobal: Bool { raw & TLBContext.globalBit != 0 }

    /// The context a global entry of this VPID carries.
    @inlinable public var global: TLBContext { TLBContext(raw: (raw & 0x0FFF_F000) | TLBContext.globalBit) }

    public var description: String { "vpid \(vpid) pcid \(pcid)" + (isGlobal ? " global" : "") }
}
