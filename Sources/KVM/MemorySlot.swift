import CKVM

/// The flags of a memslot.
public struct MemorySlotFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `KVM_MEM_LOG_DIRTY_PAGES`: KVM records the pages the guest writes.
    public static let logDirtyPages = MemorySlotFlags(rawValue: UInt32(KVM_MEM_LOG_DIRTY_PAGES))
    /// `KVM_MEM_READONLY`: guest writes exit to user space as MMIO.
    public static let readOnly = MemorySlotFlags(rawValue: UInt32(KVM_MEM_READONLY))
}

/// A range of guest-physical memory backed by host memory.
public struct MemorySlot: Sendable, Hashable {
    /// The slot number (its identity inside the VM).
    public var slot: UInt32
    public var flags: MemorySlotFlags
    /// The first guest-physical address.
    public var guestPhysicalAddress: UInt64
    /// The length in bytes.
    public var size: UInt64
    /// The host virtual address of the first byte.
    public var hostAddress: UInt

    public init(slot: UInt32, flags: MemorySlotFlags = [], guestPhysicalAddress: UInt64, size: UInt64, hostAddress: UInt) {
        self.slot = slot
        self.flags = flags
        self.guestPhysicalAddress = guestPhysicalAddress
        self.size = size
        self.hostAddress = hostAddress
    }

    /// Whether the guest-physical ranges of the two slots share a byte.
    public func overlaps(_ other: MemorySlot) -> Bool {
        guestPhysicalAddress < other.guestPhysicalAddress &+ other.size
            && other.guestPhysicalAddress < guestPhysicalAddress &+ size
    }

    /// The number of 4 KiB pages, as the dirty bitmap counts them.
    public var pageCount: Int { Int(size >> 12) }
}
