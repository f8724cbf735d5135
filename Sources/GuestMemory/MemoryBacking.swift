/// What backs guest RAM on the host.
public enum MemoryBacking: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// Anonymous memory in 4 KiB pages, with huge pages refused (`MADV_NOHUGEPAGE`).
    case anonymous4K = "4K"
    /// Anonymous memory on a 2 MiB-aligned range advised `MADV_HUGEPAGE`, so
    /// the kernel backs it with transparent huge pages where it can.
    case transparentHuge = "THP"
    /// hugetlbfs pages of 2 MiB, from the reserved pool.
    case hugetlb2M = "2M"
    /// hugetlbfs pages of 1 GiB, from the reserved pool.
    case hugetlb1G = "1G"

    /// Parses `4K`, `THP`, `2M` or `1G`, case-insensitively.
    public init?(name: String) {
        guard let backing = MemoryBacking.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            return nil
        }
        self = backing
    }

    /// The name used on the command line and in CSV and JSON: `4K`, `THP`, `2M`, `1G`.
    public var name: String { rawValue }
    public var description: String { rawValue }

    /// The page size the region is built from; its size and alignment are
    /// multiples of it. THP regions use 2 MiB so that every part of them can
    /// be a huge page.
    public var pageBytes: Int {
        switch self {
        case .anonymous4K: 4096
        case .transparentHuge, .hugetlb2M: 2 << 20
        case .hugetlb1G: 1 << 30
        }
    }

    /// Whether the pages come from a hugetlbfs pool.
    public var isHugetlb: Bool { self == .hugetlb2M || self == .hugetlb1G }
}

/// Whether a region's pages are shared with other mappings of the same
/// memory (`MAP_SHARED`) or private copy-on-write pages (`MAP_PRIVATE`).
public enum MemorySharing: String, Sendable, Hashable, CaseIterable {
    case `private`
    case shared
}

/// Where hugetlbfs pages come from.
public enum HugetlbSource: String, Sendable, Hashable, CaseIterable {
    /// An anonymous mapping with `MAP_HUGETLB` and a size flag.
    case anonymous
    /// A `memfd_create(MFD_HUGETLB)` file, mapped whole.
    case memfd
}

/// How and whether a region is faulted in before it is handed out.
public enum Prefault: Hashable, Sendable, CustomStringConvertible {
    /// No page is touched; the guest's first access faults each one in.
    case lazy
    /// The kernel faults every page in, writable (`MADV_POPULATE_WRITE`, the
    /// after-the-fact form of `MAP_POPULATE`). It runs after the NUMA policy
    /// and the huge-page advice are in place, which `MAP_POPULATE` at mmap
    /// time cannot honour.
    case populate
    /// `MAP_POPULATE`: mmap itself faults every page in, while the calling
    /// thread's policy is set to the region's (`set_mempolicy`) so that the
    /// pages land where the policy says. Not for THP: its huge-page advice
    /// can only come after mmap, too late for the pages faulted inside it.
    case mapPopulate
    /// `threads` threads, each bound to one of the policy's nodes
    /// (`numa_run_on_node`) and writing one byte per page of its share.
    case touch(threads: Int)

    public var description: String {
        switch self {
        case .lazy: "lazy"
        case .populate: "populate"
        case .mapPopulate: "map-populate"
        case let .touch(threads): "touch(\(threads) threads)"
        }
    }
}
