import ArgumentParser
import Experiments
import Foundation

/// `vmemlab run`: runs an experiment spec's sweep, resumably.
public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the sweep an experiment spec (TOML) describes.",
        discussion: """
            Each finished point is appended to <out>/<name>.csv as one complete row. Running the \
            same spec again skips the points already there, so a killed sweep resumes. \
            With --shard I/N only one of N disjoint parts runs, into <name>.shard-I-of-N.csv; \
            combine the parts with `vmemlab merge`. See docs/EXPERIMENTS.md.
            """
    )

    @Argument(help: "The experiment spec, a TOML file.")
    var spec: String

    @Option(help: "The directory for the sweep's CSV.")
    var out: String = "results"

    @Option(help: "Run only shard I of N (1 ≤ I ≤ N), e.g. 2/8.")
    var shard: String?

    @Flag(help: "Print nothing but errors: no progress, no summary.")
    var quiet = false

    @Flag(help: "List the points (id, shard's share, label) and exit without running.")
    var list = false

    public init() {}

    public func validate() throws {
        if let shard, Shard(shard) == nil {
            throw ValidationError("--shard '\(shard)' is not I/N with 1 ≤ I ≤ N, e.g. 1/4")
        }
    }

    public func run() throws {
        let text: String
        do { text = try String(contentsOfFile: spec, encoding: .utf8) } catch {
            throw CommandFailure("cannot read the spec \(spec): \(error.localizedDescription)")
        }
        let parsed = try ExperimentSpec(toml: text)
        let sweep = try Sweep(parsed)
        let selected = shard.flatMap(Shard.init) ?? .all
        if list {
            let mine = sweep.points.filter { selected.contains(pointID: $0.id) }
            for point in mine { print("\(point.id)  \(point.label)") }
            print("\(mine.count) of \(sweep.points.count) points\(selected.count > 1 ? " in shard \(selected)" : "")")
            return
        }
        let metadata = RunMetadata.collect(seed: parsed.seed, specHash: parsed.hash)
        let runner = SweepRunner(sweep: sweep, outputDirectory: URL(fileURLWithPath: out),
                                 shard: selected, metadata: metadata)
        let summary = try runner.run(progress: SweepProgress(quiet: quiet))
        for failure in summary.failed {
            FileHandle.standardError.write(Data("error: point \(failure.id) (\(failure.label)): \(failure.error)\n".utf8))
        }
        if !quiet {
            print("\(parsed.name): \(summary.total) points\(runner.shard.count > 1 ? " in shard \(runner.shard)" : ""); "
                + "\(summary.alreadyDone) already done, \(summary.done) done now, \(summary.skipped) skipped, "
                + "\(summary.failed.count) failed -> \(runner.outputURL.path)")
        }
        if !summary.failed.isEmpty { throw ExitCode(1) }
    }
}
