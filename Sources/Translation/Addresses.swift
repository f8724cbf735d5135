/// A typed address. Each address space has its own type so that a
/// guest-physical address can never be passed where a host-physical one is
/// expected.
public protocol TypedAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a plain 64-bit number.
    var raw: UInt64 { get }
    init(_ raw: UInt64)
}

extension TypedAddress {
    @inlinable public static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }
    @inlinable public static func + (lhs: Self, rhs: UInt64) -> Self { Self(lhs.raw &+ rhs) }
    public var description: String { "0x" + String(raw, radix: 16) }
}

/// A guest-virtual (linear) address, as the guest's software uses it.
@frozen public struct GuestVirtualAddress: TypedAddress {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
}

/// A guest-physical address: what the guest's page tables map to.
@frozen public struct GuestPhysicalAddress: TypedAddress {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
}

/// A host-physical address: where the bytes really are.
@frozen public struct HostPhysicalAddress: TypedAddress {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
}
