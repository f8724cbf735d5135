import ArgumentParser
import Experiments
import Foundation

/// `vmemlab merge`: combines the CSVs of a sweep's shards.
public struct MergeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the shard CSVs of one sweep into one CSV.",
        discussion: """
            The inputs must have the same columns and share a spec hash. The output holds one row per \
            point id, in sweep order; it equals the CSV of an unsharded run. It is written atomically.
            """
    )

    @Argument(help: "The merged CSV to write.")
    var output: String

    @Argument(help: "The shard CSVs.")
    var inputs: [String] = []

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    public init() {}

    public func validate() throws {
        if inputs.isEmpty { throw ValidationError("give the output CSV, then at least one input CSV") }
        if inputs.contains(output) { throw ValidationError("the output \(output) is also an input; choose another name") }
    }

    public func run() throws {
        let (rows, duplicates) = try SweepMerge.merge(inputs.map { URL(fileURLWithPath: $0) },
                                                      into: URL(fileURLWithPath: output))
        if !quiet {
            print("merged \(inputs.count) files: \(rows) points -> \(output)"
                + (duplicates > 0 ? " (\(duplicates) repeated point ids dropped; the first row of each was kept)" : ""))
        }
    }
}
