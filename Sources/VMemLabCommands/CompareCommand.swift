import ArgumentParser
import Experiments
import Foundation

/// `vmemlab compare`: two runs of a CSV, point by point.
public struct CompareCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two runs of a CSV point by point: ratios, and changes beyond the noise.",
        discussion: """
            Rows are matched by key (a sweep's parameters, or the non-numeric columns of other \
            CSVs, or --key). Each numeric column gets the ratio B/A of the medians. A change is \
            flagged when the repetitions' or the p25/p75 columns' ranges do not overlap or, \
            without ranges, when |B/A - 1| exceeds --threshold. See docs/EXPERIMENTS.md.
            """
    )

    @Argument(help: "The baseline CSV (A).")
    var a: String

    @Argument(help: "The CSV to compare with it (B).")
    var b: String

    @Option(help: "Comma-separated key columns, instead of the inferred key.")
    var key: String?

    @Option(help: "The relative change flagged when no noise range exists.")
    var threshold: Double = 0.05

    @Flag(help: "Show every compared value, not only the changes.")
    var all = false

    @Option(help: "Also write the comparison as CSV to this file.")
    var csv: String?

    @Flag(help: "Exit with status 3 when a change is flagged.")
    var failOnChange = false

    public init() {}

    public func validate() throws {
        if !(threshold >= 0) { throw ValidationError("--threshold must be a non-negative number") }
    }

    public func run() throws {
        func load(_ path: String) throws -> CSVTable {
            do { return try CSVReader.table(contentsOf: URL(fileURLWithPath: path)) } catch let error as CSVReadError {
                throw CommandFailure("\(path): \(error)")
            } catch {
                throw CommandFailure("cannot read \(path): \(error.localizedDescription)")
            }
        }
        let comparison = try RunComparison(try load(a), try load(b),
                                           key: key.map { $0.split(separator: ",").map(String.init) },
                                           threshold: threshold)
        let changed = comparison.entries.filter(\.changed)
        let shown = all ? comparison.entries : changed
        if !shown.isEmpty {
            let rows = shown.map { [$0.key, $0.column, RunComparison.format($0.a), RunComparison.format($0.b),
                                    RunComparison.format($0.ratio), $0.noise, $0.changed ? "CHANGED" : ""] }
            print(Self.aligned([["key", "column", "A", "B", "B/A", "noise", ""]] + rows))
        }
        print("\(comparison.entries.count) values compared on key [\(comparison.keyColumns.joined(separator: ","))]: "
            + "\(changed.count) changed beyond the noise; \(comparison.onlyInA.count) keys only in A, "
            + "\(comparison.onlyInB.count) only in B")
        for key in comparison.onlyInA.prefix(10) { print("only in A: \(key)") }
        for key in comparison.onlyInB.prefix(10) { print("only in B: \(key)") }
        if let csv { try comparison.table.write(to: URL(fileURLWithPath: csv)) }
        if failOnChange && !changed.isEmpty { throw ExitCode(3) }
    }

    static func aligned(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
