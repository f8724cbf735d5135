import ArgumentParser
import Experiments
import Foundation

/// `vmemlab reproduce`: reruns published results and sets the obtained
/// figures beside the published ones.
public struct ReproduceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Rerun published results with the project's models and runner.",
        discussion: "Each reproduction writes <name>.csv; --all also writes summary.csv."
    )

    @Argument(help: "The reproductions to run (see --list).")
    var names: [String] = []

    @Flag(help: "List the reproductions and exit.")
    var list = false

    @Flag(help: "Run every reproduction.")
    var all = false

    @Flag(help: "A shorter run with fewer points and repetitions, for CI.")
    var quick = false

    @Option(help: "The directory for CSV files.")
    var out: String = "results"

    @Option(help: "The seed of every random stream.")
    var seed: UInt64 = 42

    public init() {}

    public func validate() throws {
        if list { return }
        if all && !names.isEmpty { throw ValidationError("give reproduction names or --all, not both") }
        if !all && names.isEmpty { throw ValidationError("name a reproduction, or use --all or --list") }
        for name in names where Reproductions.named(name) == nil {
            let known = Reproductions.all.map(\.name).joined(separator: ", ")
            throw ValidationError("unknown reproduction '\(name)'; known: \(known)")
        }
    }

    public func run() throws {
        if list {
            for reproduction in Reproductions.all {
                print(reproduction.name.padding(toLength: 20, withPad: " ", startingAt: 0) + reproduction.summary)
                print(String(repeating: " ", count: 20) + "source: " + reproduction.source)
            }
            return
        }
        let selected: [any Reproduction] = all ? Reproductions.all : names.compactMap(Reproductions.named)
        let context = ReproductionContext(outputDirectory: URL(fileURLWithPath: out), quick: quick, seed: seed)
        let report = try ReproductionRunner(context: context).run(selected, writeSummary: all)
        print(report.table)
        if report.failures > 0 { throw ExitCode(1) }
    }
}
