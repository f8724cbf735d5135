import GuestMemory
import Translation

/// How host memory behind guest RAM is backed: GuestMemory's backings
/// (anonymous 4K, THP, hugetlbfs 2M and 1G).
public typealias HostBacking = MemoryBacking

extension MemoryBacking {
    /// The page size the host maps this backing with, at best.
    public var pageSize: PageSize {
        switch self {
        case .anonymous4K: .size4K
        case .transparentHuge, .hugetlb2M: .size2M
        case .hugetlb1G: .size1G
        }
    }
}

/// Host memory for one memslot: a GuestMemory region (backing, NUMA policy,
/// lazy or prefaulted) kept in a class so that the VM can hold it as long as
/// the memslot exists. The region is unmapped when the last holder lets go.
public final class HostMemory: @unchecked Sendable {
    private let region: GuestMemoryRegion
    /// The first byte, aligned to the backing's page size.
    public let base: UnsafeMutableRawPointer
    /// The length in bytes.
    public let size: Int
    public let backing: HostBacking
    public let policy: MemoryPolicy

    /// The host facts GuestMemory checks regions against, probed once.
    static let environment = HostMemoryEnvironment.probe()

    /// Maps `size` bytes (rounded up to the backing's page size) with
    /// `policy`, lazily: pages are allocated on first write.
    public init(size requested: Int, backing: HostBacking, policy: MemoryPolicy = .local) throws(KVMError) {
        let page = backing.pageBytes
        guard requested > 0 else { throw .invalidArgument("guest RAM of 0 bytes") }
        let size = (requested + page - 1) / page * page
        do throws(GuestMemoryError) {
            region = try GuestMemoryRegion(.init(size: size, backing: backing, policy: policy),
                                           host: backing.isHugetlb ? .probe() : Self.environment)
        } catch {
            throw .guestMemory(error)
        }
        base = region.baseAddress
        self.size = region.size
        self.backing = backing
        self.policy = policy
    }

    /// Writes every page once, so that the host allocates it now.
    public func prefault() {
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var offset = 0
        while offset < size {
            bytes[offset] = 0
            offset += 4096
        }
    }
}
