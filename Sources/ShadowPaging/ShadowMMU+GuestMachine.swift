import Translation
import Workloads

/// A guest kernel can run directly on the shadow MMU, with no TLB in front:
/// every access is a hardware walk of the shadow tables.
extension ShadowMMU: GuestMachine {
    public func loadGuestPhysical(_ address: UInt64) -> UInt64 { guestMemory.load64(address & ~7) }

    public mutating func flushTLB() { flushGuestTLB() }

    public mutating func access(_ address: UInt64, _ type: AccessType) -> PageFault? {
        if case let .guestFault(fault) = access(address, type) as ShadowAccessResult { return fault }
        return nil
    }
}
