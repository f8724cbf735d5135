/// The page sizes of x86-64 paging and EPT: 4 KiB, 2 MiB and 1 GiB.
@frozen public enum PageSize: UInt8, CaseIterable, Sendable, Hashable, Comparable, CustomStringConvertible {
    case size4K = 12
    case size2M = 21
    case size1G = 30

    /// log2 of the size in bytes.
    @inlinable public var shift: UInt64 { UInt64(rawValue) }
    /// The size in bytes.
    @inlinable public var bytes: UInt64 { 1 &<< shift }
    /// The mask of the offset bits inside a page of this size.
    @inlinable public var offsetMask: UInt64 { bytes &- 1 }
    /// The paging level whose entry maps a page of this size: 1 (PTE),
    /// 2 (PDE) or 3 (PDPTE).
    @inlinable public var leafLevel: Int { (Int(rawValue) - 12) / 9 + 1 }

    /// The page size whose leaf sits at `level`, if any.
    @inlinable public init?(leafLevel level: Int) {
        switch level {
        case 1: self = .size4K
        case 2: self = .size2M
        case 3: self = .size1G
        default: return nil
        }
    }

    /// Parses `4K`, `2M` or `1G` (case-insensitive, with an optional `iB`/`B`).
    public init?(name: String) {
        var text = name.uppercased()
        for suffix in ["IB", "B"] where text.hasSuffix(suffix) { text.removeLast(suffix.count); break }
        switch text {
        case "4K": self = .size4K
        case "2M": self = .size2M
        case "1G": self = .size1G
        default: return nil
        }
    }

    /// The short name used in files and CSV columns: `4K`, `2M` or `1G`.
    public var name: String {
        switch self {
        case .size4K: "4K"
        case .size2M: "2M"
        case .size1G: "1G"
        }
    }

    public var description: String { name }

    @inlinable public static func < (lhs: PageSize, rhs: PageSize) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The depth of an x86-64 or EPT page-table hierarchy.
@frozen public enum PagingMode: Int, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// 4-level paging: 48-bit linear addresses.
    case fourLevel = 4
    /// 5-level paging (CR4.LA57): 57-bit linear addresses.
    case fiveLevel = 5

    /// The number of paging-structure levels.
    @inlinable public var levels: Int { rawValue }
    /// The width of a linear address in bits (48 or 57).
    @inlinable public var addressBits: UInt64 { UInt64(12 + 9 * rawValue) }

    /// Whether `address` is canonical: bits 63 down to the top address bit
    /// all equal.
    @inlinable public func isCanonical(_ address: UInt64) -> Bool {
        let shifted = Int64(bitPattern: address) &<< (64 &- addressBits)
        return UInt64(bitPattern: shifted &>> (64 &- addressBits)) == address
    }

    /// The 9-bit table index that `address` selects at `level` (1 = PTE).
    @inlinable public static func index(of address: UInt64, at level: Int) -> UInt64 {
        (address &>> (12 &+ 9 &* UInt64(truncatingIfNeeded: level) &- 9)) & 0x1FF
    }

    public var description: String { "\(rawValue)-level" }
}

/// The conventional name of an x86-64 paging level: PML5, PML4, PDPT, PD, PT.
public func levelName(_ level: Int) -> String {
    switch level {
    case 5: "PML5"
    case 4: "PML4"
    case 3: "PDPT"
    case 2: "PD"
    case 1: "PT"
    default: "L\(level)"
    }
}
