import Foundation

/// Why sweep CSVs could not be merged.
public struct SweepMergeError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Combines the CSVs of a sweep's shards (or of interrupted and resumed
/// runs) into one: the same header, one row per point id, in the order of
/// the points in the sweep.
public enum SweepMerge {
    /// The merged table, and how many rows repeated a point id already seen
    /// (the first is kept).
    public static func merge(_ tables: [(name: String, table: CSVTable)]) throws -> (table: CSVTable, duplicates: Int) {
        guard let first = tables.first else { throw SweepMergeError("nothing to merge: give at least one CSV") }
        let columns = first.table.columns
        guard let id = columns.firstIndex(of: "point_id") else {
            throw SweepMergeError("\(first.name) has no point_id column; merge combines the CSVs of `vmemlab run`")
        }
        let index = columns.firstIndex(of: "point_index")
        let hash = columns.firstIndex(of: "spec_hash")
        var referenceHash: String?
        if let hash {
            for (_, table) in tables where !table.rows.isEmpty {
                let row: [String] = table.rows[0]
                referenceHash = row[hash]
                break
            }
        }
        var rows: [[String]] = []
        var seen = Set<String>()
        var duplicates = 0
        for (name, table) in tables {
            guard table.columns == columns else {
                throw SweepMergeError("\(name) has other columns than \(first.name); merge only shards of one sweep")
            }
            for row in table.rows {
                if let hash, let reference = referenceHash, row[hash] != reference {
                    throw SweepMergeError("\(name) comes from another spec (spec_hash \(row[hash]), not \(reference))")
                }
                if seen.insert(row[id]).inserted { rows.append(row) } else { duplicates += 1 }
            }
        }
        if let index {
            rows.sort { (Int($0[index]) ?? .max, $0[id]) < (Int($1[index]) ?? .max, $1[id]) }
        }
        var merged = CSVTable(columns: columns)
        for row in rows { merged.append(row) }
        return (merged, duplicates)
    }

    /// Merges the CSV files `inputs` into `output`, written atomically.
    public static func merge(_ inputs: [URL], into output: URL) throws -> (rows: Int, duplicates: Int) {
        let tables = try inputs.map { url -> (String, CSVTable) in
            do { return (url.path, try CSVReader.table(contentsOf: url)) } catch let error as CSVReadError {
                throw SweepMergeError("\(url.path): \(error)")
            }
        }
        let (table, duplicates) = try merge(tables)
        try table.write(to: output)
        return (table.rows.count, duplicates)
    }
}
