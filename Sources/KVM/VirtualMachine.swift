import CKVM
import Glibc

/// A KVM virtual machine: its memslots, its vCPUs, its statistics and dirty
/// log. The VM keeps the host memory of its memslots alive.
public final class VirtualMachine: @unchecked Sendable {
    let descriptor: FileDescriptorOwner
    /// The device the VM was created from (kept alive for its queries).
    public let device: KVMDevice
    /// The memslots, by slot number.
    public private(set) var slots: [UInt32: MemorySlot] = [:]
    /// Host memory the memslots point into, kept alive as long as the VM.
    private var retainedMemory: [UInt32: AnyObject] = [:]

    init(descriptor: consuming FileDescriptorOwner, device: KVMDevice) throws(KVMError) {
        self.descriptor = descriptor
        self.device = device
    }

    /// The value of a capability for this VM (some, such as the dirty ring,
    /// are only answered per VM). The corresponding ioctl is `KVM_CHECK_EXTENSION`.
    public func capability(_ capability: Int32) throws(KVMError) -> Int32 {
        try ioctlCall(descriptor.raw, CKVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION(\(capability))",
                      value: UInt(capability))
    }

    /// Adds or changes a memslot. `owner` keeps the host memory alive while
    /// the slot exists. The corresponding ioctl is `KVM_SET_USER_MEMORY_REGION`.
    ///
    /// A new slot that overlaps another in guest-physical space is refused
    /// with `KVMError.memorySlotOverlaps` before KVM is asked.
    public func setMemorySlot(_ slot: MemorySlot, owner: AnyObject?) throws(KVMError) {
        guard slot.guestPhysicalAddress & 0xFFF == 0, slot.hostAddress & 0xFFF == 0, slot.size & 0xFFF == 0 else {
            throw .memorySlotMisaligned(slot: slot.slot)
        }
        if let clash = slots.values.first(where: { $0.slot != slot.slot && $0.overlaps(slot) }) {
            throw .memorySlotOverlaps(slot: slot.slot, existing: clash.slot)
        }
        var region = kvm_userspace_memory_region(
            slot: slot.slot, flags: slot.flags.rawValue, guest_phys_addr: slot.guestPhysicalAddress,
            memory_size: slot.size, userspace_addr: UInt64(slot.hostAddress))
        _ = try ioctlCall(descriptor.raw, CKVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION(slot \(slot.slot))",
                          &region)
        slots[slot.slot] = slot
        if let owner { retainedMemory[slot.slot] = owner }
    }

    /// Changes only the flags of an existing memslot (for example to start or
    /// stop dirty logging).
    public func setFlags(_ flags: MemorySlotFlags, ofSlot number: UInt32) throws(KVMError) {
        guard var slot = slots[number] else { throw .invalidArgument("no memslot \(number)") }
        slot.flags = flags
        try setMemorySlot(slot, owner: nil)
    }

    /// Enables a capability on the VM. The corresponding ioctl is `KVM_ENABLE_CAP`.
    public func enableCapability(_ capability: UInt32, argument: UInt64 = 0) throws(KVMError) {
        var request = kvm_enable_cap()
        request.cap = capability
        request.args.0 = argument
        _ = try ioctlCall(descriptor.raw, CKVM_ENABLE_CAP, "KVM_ENABLE_CAP(\(capability))", &request)
    }

    /// Fetches the dirty bitmap of a memslot: one bit per 4 KiB page. The
    /// corresponding ioctl is `KVM_GET_DIRTY_LOG`.
    public func dirtyLog(slot number: UInt32) throws(KVMError) -> DirtyBitmap {
        guard let slot = slots[number] else { throw .invalidArgument("no memslot \(number)") }
        var bitmap = DirtyBitmap(pageCount: slot.pageCount)
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: bitmap.words.count)
        defer { buffer.deallocate() }
        _ = buffer.initialize(from: bitmap.words)
        var log = kvm_dirty_log()
        log.slot = number
        log.dirty_bitmap = UnsafeMutableRawPointer(buffer.baseAddress)
        _ = try ioctlCall(descriptor.raw, CKVM_GET_DIRTY_LOG, "KVM_GET_DIRTY_LOG(slot \(number))", &log)
        bitmap.words = Array(buffer)
        return bitmap
    }

    /// Re-protects the pages set in `bitmap` so that the next writes are
    /// logged again. Needs `KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2` enabled. The
    /// corresponding ioctl is `KVM_CLEAR_DIRTY_LOG`.
    public func clearDirtyLog(slot number: UInt32, _ bitmap: DirtyBitmap) throws(KVMError) {
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: bitmap.words.count)
        defer { buffer.deallocate() }
        _ = buffer.initialize(from: bitmap.words)
        var clear = kvm_clear_dirty_log()
        clear.slot = number
        clear.first_page = 0
        clear.num_pages = UInt32(bitmap.pageCount)
        clear.dirty_bitmap = UnsafeMutableRawPointer(buffer.baseAddress)
        _ = try ioctlCall(descriptor.raw, CKVM_CLEAR_DIRTY_LOG, "KVM_CLEAR_DIRTY_LOG(slot \(number))", &clear)
    }

    /// Turns on per-vCPU dirty rings of `bytes` bytes each; call before
    /// creating vCPUs. The corresponding ioctl is `KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING)`.
    public func enableDirtyRing(bytes: Int) throws(KVMError) {
        guard try capability(KVMCapability.dirtyLogRing.rawValue) >= Int32(clamping: bytes) else {
            throw .missingCapability("a dirty ring of \(bytes) bytes (KVM_CAP_DIRTY_LOG_RING)")
        }
        try enableCapability(UInt32(KVM_CAP_DIRTY_LOG_RING), argument: UInt64(bytes))
        dirtyRingBytes = bytes
    }

    /// The size of each vCPU's dirty ring, when enabled.
    public private(set) var dirtyRingBytes: Int?

    /// Re-protects the pages harvested from every dirty ring. Returns how
    /// many entries were reset. The corresponding ioctl is `KVM_RESET_DIRTY_RINGS`.
    @discardableResult
    public func resetDirtyRings() throws(KVMError) -> Int {
        Int(try ioctlCall(descriptor.raw, CKVM_RESET_DIRTY_RINGS, "KVM_RESET_DIRTY_RINGS", value: 0))
    }

    /// Opens the VM's binary statistics. The corresponding ioctl is `KVM_GET_STATS_FD`.
    public func statistics() throws(KVMError) -> KVMStatistics {
        let fd = try ioctlCall(descriptor.raw, CKVM_GET_STATS_FD, "KVM_GET_STATS_FD(vm)", nil)
        return try KVMStatistics(descriptor: FileDescriptorOwner(fd))
    }

    /// Creates vCPU `id` with its `kvm_run` mapping. The corresponding ioctl
    /// is `KVM_CREATE_VCPU`.
    public func makeVirtualCPU(id: UInt32 = 0) throws(KVMError) -> VirtualCPU {
        let mappingSize = try device.vcpuMappingSize()
        let fd = try ioctlCall(descriptor.raw, CKVM_CREATE_VCPU, "KVM_CREATE_VCPU(\(id))", value: UInt(id))
        return try VirtualCPU(descriptor: FileDescriptorOwner(fd), id: id, mappingSize: mappingSize, vm: self)
    }
}

/// A memslot's dirty bitmap: bit `n` is set when page `n` was written.
public struct DirtyBitmap: Sendable, Equatable {
    /// The pages of the slot.
    public let pageCount: Int
    /// The bits, 64 pages a word (KVM wants whole 64-bit words).
    public var words: [UInt64]

    public init(pageCount: Int) {
        self.pageCount = pageCount
        words = [UInt64](repeating: 0, count: (pageCount + 63) / 64)
    }

    /// A bitmap with every page set.
    public static func all(pageCount: Int) -> DirtyBitmap {
        var bitmap = DirtyBitmap(pageCount: pageCount)
        for page in 0..<pageCount { bitmap.words[page >> 6] |= 1 << UInt64(page & 63) }
        return bitmap
    }

    /// Whether page `page` is dirty.
    public func isDirty(_ page: Int) -> Bool { words[page >> 6] & (1 << UInt64(page & 63)) != 0 }

    /// The number of dirty pages.
    public var dirtyCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}
