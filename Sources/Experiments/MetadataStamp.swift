import Foundation

/// Appends the run's metadata columns to CSV files that were written
/// without them, so that a reproduction need not know about metadata.
/// A metadata column the file already has (a per-row `backing`, say) keeps
/// the file's values. The file is rewritten atomically.
public enum MetadataStamp {
    /// Adds `metadata`'s columns to the CSV at `url`.
    public static func apply(_ metadata: RunMetadata, to url: URL) throws {
        let original = try CSVReader.table(contentsOf: url)
        try stamped(original, with: metadata).write(to: url)
    }

    /// `table` with the metadata columns it lacks appended to every row.
    public static func stamped(_ table: CSVTable, with metadata: RunMetadata) -> CSVTable {
        let missing = zip(RunMetadata.columns, metadata.values).filter { !table.columns.contains($0.0) }
        var result = CSVTable(columns: table.columns + missing.map(\.0))
        let values = missing.map(\.1)
        for row in table.rows { result.append(row + values) }
        return result
    }
}
