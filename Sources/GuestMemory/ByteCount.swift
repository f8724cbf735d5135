/// A number of bytes, written and parsed with binary suffixes: `4096`,
/// `64K`, `64M`, `2G`, `1T` (an optional `B` or `iB` after the letter).
public struct ByteCount: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var bytes: Int

    public init(_ bytes: Int) { self.bytes = bytes }

    /// Parses a size such as `64M`; nil if it is not one or overflows.
    public init?(parsing text: String) {
        var digits = text.trimmingWhitespace.uppercased()
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits.removeLast(suffix.count)
            break
        }
        var shift = 0
        if let last = digits.last, let index = ["K", "M", "G", "T"].firstIndex(of: String(last)) {
            shift = 10 * (index + 1)
            digits.removeLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int(digits), value >= 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { return nil }
        self.bytes = bytes
    }

    /// Parses a size that must not be zero, as specs and command lines give
    /// them: its bytes, or nil if `text` is not such a size.
    public static func positive(parsing text: String) -> UInt64? {
        guard let count = ByteCount(parsing: text), count.bytes > 0 else { return nil }
        return UInt64(count.bytes)
    }

    /// The count with the largest suffix that divides it exactly: `64M`, `4097`.
    public var description: String {
        for (shift, suffix) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes != 0 && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(suffix)"
        }
        return "\(bytes)"
    }

    public static func < (lhs: ByteCount, rhs: ByteCount) -> Bool { lhs.bytes < rhs.bytes }
}
