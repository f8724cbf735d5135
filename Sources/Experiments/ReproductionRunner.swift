import Foundation

/// Runs reproductions one after another, keeps going when one fails, and
/// writes `summary.csv` with one row per reproduction. Afterwards it appends
/// the run's metadata columns to every CSV a reproduction lists in its
/// `files`, and to the summary.
public struct ReproductionRunner: Sendable {
    public var context: ReproductionContext
    /// The metadata every CSV row of the run carries.
    public var metadata: RunMetadata

    /// A runner whose metadata is collected from this host now; its spec
    /// hash identifies the reproduction names, `quick` and the seed.
    public init(context: ReproductionContext) {
        self.init(context: context, metadata: RunMetadata.collect(seed: context.seed, specHash: ""))
    }

    /// A runner that stamps the given metadata. An empty `specHash` is
    /// replaced, per run, by the hash of the invocation.
    public init(context: ReproductionContext, metadata: RunMetadata) {
        self.context = context
        self.metadata = metadata
    }

    /// The spec hash of a `reproduce` run: what it ran, and how.
    public static func invocationHash(_ names: [String], quick: Bool, seed: UInt64) -> String {
        StableHash.hex(of: ["reproduce", "quick=\(quick)", "seed=\(seed)"] + names)
    }

    /// The results of a run.
    public struct Report: Sendable {
        public var rows: [(name: String, source: String, status: String, obtained: String, published: String)]
        /// How many reproductions threw instead of reporting.
        public var failures: Int

        /// A fixed-width table for the terminal.
        public var table: String {
            let header = ("name", "status", "obtained", "published")
            var widths = (header.0.count, header.1.count, header.2.count)
            for row in rows {
                widths = (max(widths.0, row.name.count), max(widths.1, row.status.count), max(widths.2, row.obtained.count))
            }
            func line(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
                a.padding(toLength: widths.0, withPad: " ", startingAt: 0) + "  "
                    + b.padding(toLength: widths.1, withPad: " ", startingAt: 0) + "  "
                    + c.padding(toLength: widths.2, withPad: " ", startingAt: 0) + "  " + d
            }
            return ([line(header.0, header.1, header.2, header.3)]
                + rows.map { line($0.name, $0.status, $0.obtained, $0.published) }).joined(separator: "\n")
        }
    }

    /// Runs `reproductions`; with `writeSummary`, writes `summary.csv` too.
    public func run(_ reproductions: [any Reproduction], writeSummary: Bool) throws -> Report {
        var metadata = self.metadata
        if metadata.specHash.isEmpty {
            metadata.specHash = Self.invocationHash(reproductions.map(\.name), quick: context.quick, seed: context.seed)
        }
        var report = Report(rows: [], failures: 0)
        for reproduction in reproductions {
            let status: String, obtained: String, published: String
            do {
                let outcome = try reproduction.run(context)
                for file in outcome.files {
                    try MetadataStamp.apply(metadata, to: context.output(file))
                }
                status = outcome.status.label
                if case let .skip(reason) = outcome.status {
                    obtained = "skipped: \(reason)"
                } else {
                    obtained = outcome.obtained
                }
                published = outcome.published
            } catch {
                status = "ERROR"
                obtained = "\(error)"
                published = ""
                report.failures += 1
            }
            report.rows.append((reproduction.name, reproduction.source, status, obtained, published))
        }
        if writeSummary {
            var summary = CSVTable(columns: ["name", "source", "status", "obtained", "published"])
            for row in report.rows { summary.append([row.name, row.source, row.status, row.obtained, row.published]) }
            try MetadataStamp.stamped(summary, with: metadata).write(to: context.output("summary.csv"))
        }
        return report
    }
}
