import Foundation

/// A table written as RFC 4180 CSV: a header row, then one row per record,
/// with fields quoted when they hold a comma, a quote or a line break.
public struct CSVTable: Sendable, Equatable {
    public var columns: [String]
    public private(set) var rows: [[String]] = []

    public init(columns: [String]) { self.columns = columns }

    /// Appends a row; it must have one field per column.
    public mutating func append(_ row: [String]) {
        precondition(row.count == columns.count, "a CSV row has \(row.count) fields for \(columns.count) columns")
        rows.append(row)
    }

    /// Appends a row given as column name → value; missing columns are empty.
    public mutating func append(_ row: [String: String]) {
        append(columns.map { row[$0] ?? "" })
    }

    /// The CSV text, with CRLF line ends as RFC 4180 specifies.
    public var text: String {
        var out = CSVTable.line(columns)
        for row in rows { out += CSVTable.line(row) }
        return out
    }

    /// One CSV record with its line end.
    public static func line(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",") + "\r\n"
    }

    /// A field, quoted if it needs to be.
    public static func quote(_ field: String) -> String {
        // By bytes: in Swift a CRLF is one Character, equal to neither "\r" nor "\n".
        guard field.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Writes the table to `url` atomically: a reader sees the old file or
    /// the whole new one, never part of it.
    public func write(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}
