import Foundation

/// Why two CSVs could not be compared.
public struct RunComparisonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Compares two runs of the same CSV (two hosts, two revisions) point by
/// point: for each key and each numeric column, the ratio B/A, and whether
/// the change is beyond the noise.
///
/// - Key: `--key` columns if given; for a sweep CSV, its parameter columns
///   without `repetition`; otherwise every column that is not all numbers,
///   plus the known integer parameter columns in `integerParameterColumns`.
/// - Rows with the same key (repetitions) are summarised by their median.
/// - Noise: with two or more repetitions on both sides, their interquartile
///   ranges; else the `X_p25`/`X_p75` columns of value `X` (or of its stem
///   before `_per_`, as `cycles_p25` for `cycles_per_access`). A change is
///   flagged when the two ranges do not overlap. Without a range on both
///   sides, a column of whole numbers on both sides (an exact count, such
///   as `walk_refs`) is flagged on any change, and any other column when
///   |B/A − 1| exceeds `threshold`.
public struct RunComparison: Sendable {
    /// One compared value.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var column: String
        public var a: Double
        public var b: Double
        /// B/A; infinite when A is 0 and B is not, 1 when both are 0.
        public var ratio: Double
        /// `repetitions`, `p25/p75`, `exact` or `threshold`.
        public var noise: String
        public var changed: Bool
    }

    public var keyColumns: [String]
    public var entries: [Entry] = []
    /// Keys present in only one of the runs.
    public var onlyInA: [String] = []
    public var onlyInB: [String] = []

    /// Columns neither compared nor keyed on: metadata (except `backing`,
    /// which is a parameter where a CSV has it per row) and bookkeeping.
    public static let ignoredColumns: Set<String> = Set(RunMetadata.columns).subtracting(["backing"]).union([
        "point_id", "point_index", "point_seed", "finished_utc", "status", "reason", "repetition",
    ])
    /// Integer columns that are parameters, not results.
    public static let integerParameterColumns: Set<String> = [
        "guest_levels", "host_levels", "levels", "working_set_bytes", "size_bytes", "entries", "ways", "nodes",
        "threads", "C",
    ]

    public init(_ a: CSVTable, _ b: CSVTable, key: [String]? = nil, threshold: Double = 0.05) throws {
        let columns = a.columns.filter { b.columns.contains($0) }
        func numeric(_ column: String) -> Bool {
            [a, b].allSatisfy { table in
                guard let index = table.columns.firstIndex(of: column) else { return false }
                return table.rows.allSatisfy { $0[index].isEmpty || Double($0[index]) != nil }
            }
        }
        if let key {
            for column in key where !columns.contains(column) {
                throw RunComparisonError("--key column '\(column)' is not in both files")
            }
            keyColumns = key
        } else if columns.contains("point_id") {
            keyColumns = SweepPoint.parameterColumns.filter { $0 != "repetition" && columns.contains($0) }
        } else {
            keyColumns = columns.filter {
                !Self.ignoredColumns.contains($0) && (!numeric($0) || Self.integerParameterColumns.contains($0))
            }
        }
        let values = columns.filter {
            !keyColumns.contains($0) && !Self.ignoredColumns.contains($0) && !$0.hasPrefix("published_")
                && !$0.hasSuffix("_p25") && !$0.hasSuffix("_p75") && numeric($0)
        }
        guard !values.isEmpty else { throw RunComparisonError("the files have no numeric result column in common") }

        let exact = Set(values.filter { column in
            [a, b].allSatisfy { table in
                guard let index = table.columns.firstIndex(of: column) else { return false }
                return table.rows.allSatisfy { $0[index].isEmpty || Int64($0[index]) != nil }
            }
        })
        let groupsA = Self.group(a, by: keyColumns), groupsB = Self.group(b, by: keyColumns)
        onlyInA = groupsA.order.filter { groupsB.rows[$0] == nil }
        onlyInB = groupsB.order.filter { groupsA.rows[$0] == nil }
        for key in groupsA.order {
            guard let rowsA = groupsA.rows[key], let rowsB = groupsB.rows[key] else { continue }
            for column in values {
                let summaryA = Self.summary(rowsA, column: column, in: a)
                let summaryB = Self.summary(rowsB, column: column, in: b)
                guard let sa = summaryA, let sb = summaryB else { continue }
                let ratio = sa.median == 0 ? (sb.median == 0 ? 1 : .infinity) : sb.median / sa.median
                var entry = Entry(key: key, column: column, a: sa.median, b: sb.median, ratio: ratio,
                                  noise: "threshold", changed: abs(ratio - 1) > threshold)
                if let ra = sa.range, let rb = sb.range, sa.basis == sb.basis {
                    entry.noise = sa.basis
                    entry.changed = ra.upperBound < rb.lowerBound || rb.upperBound < ra.lowerBound
                } else if exact.contains(column) {
                    entry.noise = "exact"
                    entry.changed = sa.median != sb.median
                }
                entries.append(entry)
            }
        }
    }

    /// Rows grouped by their key text, in first-seen order.
    private static func group(_ table: CSVTable, by key: [String]) -> (order: [String], rows: [String: [[String]]]) {
        let indices = key.compactMap { table.columns.firstIndex(of: $0) }
        var order: [String] = []
        var rows: [String: [[String]]] = [:]
        for row in table.rows {
            let text = zip(key, indices).map { "\($0)=\(row[$1])" }.joined(separator: " ")
            if rows[text] == nil { order.append(text) }
            rows[text, default: []].append(row)
        }
        return (order, rows)
    }

    /// The median of `column` over `rows`, with a noise range if one exists.
    private static func summary(_ rows: [[String]], column: String, in table: CSVTable)
        -> (median: Double, range: ClosedRange<Double>?, basis: String)? {
        guard let index = table.columns.firstIndex(of: column) else { return nil }
        let values = rows.compactMap { Double($0[index]) }.sorted()
        guard !values.isEmpty else { return nil }
        let median = quantile(values, 0.5)
        if values.count >= 2 { return (median, quantile(values, 0.25)...quantile(values, 0.75), "repetitions") }
        let stem = column.range(of: "_per_").map { String(column[..<$0.lowerBound]) }
        for base in [column, stem].compactMap({ $0 }) {
            if let low = table.columns.firstIndex(of: base + "_p25"), let high = table.columns.firstIndex(of: base + "_p75"),
               let p25 = Double(rows[0][low]), let p75 = Double(rows[0][high]), p25 <= p75 {
                return (median, p25...p75, "p25/p75")
            }
        }
        return (median, nil, "threshold")
    }

    /// The `q` quantile of sorted `values`, interpolating linearly.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let position = q * Double(values.count - 1)
        let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
        return values[low] + (values[high] - values[low]) * (position - Double(low))
    }

    /// The entries as a CSV table.
    public var table: CSVTable {
        var table = CSVTable(columns: ["key", "column", "a", "b", "ratio", "noise", "changed"])
        for entry in entries {
            table.append([entry.key, entry.column, Self.format(entry.a), Self.format(entry.b),
                          Self.format(entry.ratio), entry.noise, entry.changed ? "yes" : "no"])
        }
        return table
    }

    /// A number without a needless fraction.
    public static func format(_ value: Double) -> String {
        if value.isInfinite { return "inf" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.4g", value)
    }
}
