import Translation
import Workloads

/// What a successful walk gives the TLB.
@frozen public struct WalkOutcome: Hashable, Sendable {
    /// The size of the TLB entry to fill.
    public var pageSize: PageSize
    /// The physical base of that page.
    public var frame: UInt64
    /// The leaf's G bit.
    public var global: Bool
    @inlinable public init(pageSize: PageSize, frame: UInt64, global: Bool) {
        self.pageSize = pageSize
        self.frame = frame
        self.global = global
    }
}

/// Why a simulation stopped.
public enum SimulationError: Error, Equatable, Sendable, CustomStringConvertible {
    case trace(TraceError)
    /// An address that no x86-64 page table can map.
    case nonCanonical(address: UInt64)
    /// The model could not build the tables for an address.
    case mapping(String)

    public var description: String {
        switch self {
        case let .trace(error): error.description
        case let .nonCanonical(address):
            "address 0x" + String(address, radix: 16) + " is not canonical for the paging mode, so no page table maps it"
        case let .mapping(message): "cannot map the workload: \(message)"
        }
    }
}

/// Translates an address after a TLB miss by walking real page tables, and
/// reports every reference to the recorder. An engine maps pages on first
/// touch (demand paging, not counted) and then walks the address again, so
/// the recorder holds exactly one successful walk.
///
/// The shadow-paging strategies build on this protocol: an engine owns its
/// tables and decides what a walk reads.
public protocol TranslationEngine {
    /// The depth of the hierarchy walked first (the guest's in a 2D walk).
    var levels: Int { get }
    /// The guest-physical address of the guest's root table in a 2D walk,
    /// or 0.
    var guestRoot: UInt64 { get }
    /// Walks `address` for an access of `type`.
    mutating func walk(_ address: UInt64, type: AccessType, recorder: inout WalkRecorder) throws(SimulationError) -> WalkOutcome
    /// A hint before a likely walk of `address`: prefetches the host memory
    /// of the entry the walk will read last and returns that entry's
    /// physical address, or nil. It changes no state (no A/D bits, no
    /// mapping). The default does nothing.
    func prefetchWalk(_ address: UInt64) -> UInt64?
}

extension TranslationEngine {
    @inlinable public func prefetchWalk(_ address: UInt64) -> UInt64? { nil }
}
