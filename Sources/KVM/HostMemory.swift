import Glibc
import Translation

/// How host memory behind guest RAM is backed.
public enum HostBacking: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// Anonymous memory in 4 KiB pages (`MADV_NOHUGEPAGE`).
    case anonymous4K = "4K"
    /// Anonymous memory, 2 MiB-aligned, with `MADV_HUGEPAGE` (transparent huge pages).
    case transparentHuge = "THP"
    /// hugetlbfs 2 MiB pages (`MAP_HUGETLB`), from the reserved pool.
    case hugetlb2M = "2M"
    /// hugetlbfs 1 GiB pages (`MAP_HUGETLB`), from the reserved pool.
    case hugetlb1G = "1G"

    /// Parses `4K`, `THP`, `2M` or `1G` (case-insensitive).
    public init?(name: String) {
        guard let backing = HostBacking.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            return nil
        }
        self = backing
    }

    /// The page size the host maps this backing with, at best.
    public var pageSize: PageSize {
        switch self {
        case .anonymous4K: .size4K
        case .transparentHuge, .hugetlb2M: .size2M
        case .hugetlb1G: .size1G
        }
    }

    public var description: String { rawValue }
}

/// Host memory for guest RAM: an anonymous mapping with a chosen backing,
/// aligned to its page size, unmapped when released. Nothing is touched
/// here: pages are allocated on first write.
public final class HostMemory: @unchecked Sendable {
    /// The first byte, aligned to `backing.pageSize`.
    public let base: UnsafeMutableRawPointer
    /// The usable length in bytes.
    public let size: Int
    public let backing: HostBacking
    private let mapping: MappingOwner

    /// Maps `size` bytes (rounded up to the backing's page size). The
    /// corresponding C functions are `mmap` and `madvise`.
    public init(size requested: Int, backing: HostBacking) throws(KVMError) {
        let page = Int(backing.pageSize.bytes)
        let size = (requested + page - 1) / page * page
        guard size > 0 else { throw .invalidArgument("guest RAM of 0 bytes") }
        let protection = PROT_READ | PROT_WRITE
        switch backing {
        case .anonymous4K, .transparentHuge:
            // Over-allocate so that the used range can start on a 2 MiB boundary.
            let slack = backing == .transparentHuge ? page : 0
            let mapping = try MappingOwner(size: size + slack, protection: protection,
                                           flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, name: "mmap of guest RAM")
            let start = UInt(bitPattern: mapping.base)
            let alignment = UInt(max(slack, 1))
            let aligned = mapping.base + Int((start + alignment - 1) & ~(alignment - 1) - start)
            let advice = backing == .transparentHuge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE
            _ = try systemCall("madvise(\(backing == .transparentHuge ? "MADV_HUGEPAGE" : "MADV_NOHUGEPAGE"))") {
                madvise(aligned, size, advice)
            }
            self.mapping = mapping
            base = aligned
        case .hugetlb2M, .hugetlb1G:
            let sizeFlag = Int32(backing.pageSize.shift) << MAP_HUGE_SHIFT
            do {
                mapping = try MappingOwner(size: size, protection: protection,
                                           flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | sizeFlag,
                                           name: "mmap of hugetlbfs guest RAM")
            } catch let error {
                if case .systemCall(_, .noMemory) = error {
                    throw .hugePagesUnavailable(
                        "no free \(backing.pageSize) hugetlbfs pages for \(size >> 20) MiB; reserve them with "
                            + "/sys/kernel/mm/hugepages/hugepages-\(page >> 10)kB/nr_hugepages")
                }
                throw error
            }
            base = mapping.base
        }
        self.size = size
        self.backing = backing
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
