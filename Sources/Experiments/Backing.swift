import Translation

/// What backs guest memory on the host: anonymous 4K pages, transparent
/// huge pages, or hugetlbfs pages of 2M or 1G.
public enum Backing: String, Sendable, CaseIterable, Hashable {
    case anonymous4K = "4K"
    case thp = "THP"
    case hugetlb2M = "2M"
    case hugetlb1G = "1G"

    /// Parses `4K`, `THP`, `2M` or `1G`, case-insensitively.
    public init?(name: String) {
        guard let backing = Self.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(name) == .orderedSame })
        else { return nil }
        self = backing
    }

    /// The host page size a model assumes: THP is modelled as fully
    /// promoted to 2M.
    public var hostPage: PageSize {
        switch self {
        case .anonymous4K: .size4K
        case .thp, .hugetlb2M: .size2M
        case .hugetlb1G: .size1G
        }
    }
}
