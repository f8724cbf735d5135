import Foundation

/// Why sweep CSVs could not be merged.
public struct SweepMergeError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Combines the CSVs of a sweep's shards (or of interrupted and resumed
/// runs) into one: the same header, one row per point id, in the order of
/// the points in the sweep. Inputs whose spec hashes have nothing in common
/// come from different sweeps and are refused.
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
        var rows: [[String]] = []
        var seen = Set<String>()
        var duplicates = 0
        // Inputs of one sweep share a spec hash; a file resumed after the spec
        // was extended holds the old and the new one.
        var hashes: Set<String>?
        for (name, table) in tables {
            guard table.columns == columns else {
                throw SweepMergeError("\(name) has other columns than \(first.name); merge only shards of one sweep")
            }
            if let hash, !table.rows.isEmpty {
                let mine = Set(table.rows.map { $0[hash] })
                if let seen = hashes, seen.isDisjoint(with: mine) {
                    throw SweepMergeError("\(name) comes from another spec (spec_hash \(mine.sorted().joined(separator: ", ")), "
                        + "not \(seen.sorted().joined(separator: ", ")))")
                }
                hashes = (hashes ?? []).union(mine)
            }
            for row in table.rows {
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
