import Foundation

/// Runs reproductions one after another, keeps going when one fails, and
/// writes `summary.csv` with one row per reproduction.
public struct ReproductionRunner: Sendable {
    public var context: ReproductionContext

    public init(context: ReproductionContext) { self.context = context }

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
        var report = Report(rows: [], failures: 0)
        for reproduction in reproductions {
            let status: String, obtained: String, published: String
            do {
                let outcome = try reproduction.run(context)
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
            try summary.write(to: context.output("summary.csv"))
        }
        return report
    }
}
