/// A part of a region with its own NUMA policy, such as the guest-physical
/// range of one virtual NUMA node bound to the host node that backs it.
public struct PolicySegment: Hashable, Sendable {
    /// The first byte of the segment, from the region's start.
    public var offset: Int
    public var length: Int
    public var policy: MemoryPolicy

    public init(offset: Int, length: Int, policy: MemoryPolicy) {
        self.offset = offset
        self.length = length
        self.policy = policy
    }

    /// The segment's byte range in the region.
    public var range: Range<Int> { offset..<offset + length }
}

extension GuestMemoryRegion.Configuration {
    /// Guest RAM laid out as `topology` says: guest-physical address 0 is the
    /// region's first byte, and each virtual node's range is bound to its
    /// host node. Page tables placed with `PageTableArea` on the same
    /// topology thus land on the host node the placement names.
    public static func guestRAM(
        _ topology: GuestNUMATopology, backing: MemoryBacking = .anonymous4K, sharing: MemorySharing = .private,
        prefault: Prefault = .lazy, hugetlbSource: HugetlbSource = .anonymous
    ) -> GuestMemoryRegion.Configuration {
        var configuration = GuestMemoryRegion.Configuration(
            size: Int(topology.memoryBytes), backing: backing, policy: .local, sharing: sharing, prefault: prefault,
            hugetlbSource: hugetlbSource)
        var offset = 0
        for node in topology.nodes {
            configuration.segments.append(PolicySegment(offset: offset, length: Int(node.memoryBytes), policy: .bind([node.hostNode])))
            offset += Int(node.memoryBytes)
        }
        return configuration
    }
}
