/// Parses sizes such as `4096`, `4K`, `64M`, `2G` or `1GiB` (binary units).
public enum ByteSize {
    /// The size in bytes, or nil when `text` is not a size.
    public static func parse(_ text: String) -> UInt64? {
        var digits = text.uppercased()
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits.removeLast(suffix.count)
            break
        }
        var shift: UInt64 = 0
        switch digits.last {
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        case "T": shift = 40
        default: break
        }
        if shift > 0 { digits.removeLast() }
        guard let value = UInt64(digits), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : bytes
    }

    /// `bytes` in the largest binary unit that divides it: `64M`, `4K`, `1G`.
    public static func format(_ bytes: UInt64) -> String {
        for (shift, unit) in [(UInt64(40), "T"), (30, "G"), (20, "M"), (10, "K")]
        where bytes >= 1 << shift && bytes & ((1 << shift) - 1) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }
}
