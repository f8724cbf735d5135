import CKVM
import Glibc

/// A vCPU's dirty ring (`KVM_CAP_DIRTY_LOG_RING`): KVM appends the pages
/// the guest dirties, the runner harvests them, and `KVM_RESET_DIRTY_RINGS`
/// re-protects the harvested pages. Harvest only while the vCPU is not in
/// `KVM_RUN`.
public final class DirtyRing: @unchecked Sendable {
    let mapping: MappingOwner
    /// The number of entries (a power of two).
    public let entryCount: UInt32
    private var fetchIndex: UInt32 = 0

    /// Maps the ring of `bytes` bytes from the vCPU's fd. The corresponding
    /// C function is `mmap` at `KVM_DIRTY_LOG_PAGE_OFFSET` pages.
    init(vcpuDescriptor fd: Int32, bytes: Int) throws(KVMError) {
        let offset = ckvm_dirty_ring_mmap_offset(Int(getpagesize()))
        mapping = try MappingOwner(size: bytes, protection: PROT_READ | PROT_WRITE, flags: MAP_SHARED, fd: fd,
                                   offset: Int(offset), name: "mmap of the dirty ring")
        entryCount = UInt32(bytes / MemoryLayout<kvm_dirty_gfn>.stride)
    }

    /// The dirty pages collected since the last harvest, as (slot, page
    /// offset in the slot), marked for reset.
    public func harvest() -> [(slot: UInt32, page: UInt64)] {
        let ring = mapping.base.assumingMemoryBound(to: kvm_dirty_gfn.self)
        var result: [(slot: UInt32, page: UInt64)] = []
        var slots = [UInt32](repeating: 0, count: 4096), offsets = [UInt64](repeating: 0, count: 4096)
        while true {
            let count = ckvm_dirty_ring_harvest(ring, entryCount, &fetchIndex, &slots, &offsets, 4096)
            for index in 0..<Int(count) { result.append((slots[index], offsets[index])) }
            if count < 4096 { return result }
        }
    }
}
