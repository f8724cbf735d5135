import Foundation

/// Runs the points of a sweep (or of one shard) and appends each finished
/// point to `<out>/<name>.csv` as one complete, durable row. A rerun skips
/// the point ids already in the file, so a sweep killed at any moment
/// resumes where it stopped.
public struct SweepRunner: Sendable {
    public var sweep: Sweep
    public var outputDirectory: URL
    public var shard: Shard
    public var metadata: RunMetadata

    public init(sweep: Sweep, outputDirectory: URL, shard: Shard = .all, metadata: RunMetadata) {
        self.sweep = sweep
        self.outputDirectory = outputDirectory
        self.shard = shard
        self.metadata = metadata
    }

    /// The columns before the results.
    public static let leadingColumns = ["point_id", "point_index"] + SweepPoint.parameterColumns + ["point_seed"]
    /// The columns after the results.
    public static let trailingColumns = ["status", "reason", "finished_utc"]

    /// Every column of the sweep's CSV: the point, its results, its status,
    /// then the metadata columns it does not already have.
    public var columns: [String] {
        let own = Self.leadingColumns + sweep.resultColumns + Self.trailingColumns
        return own + RunMetadata.columns.filter { !own.contains($0) }
    }

    /// The CSV this runner writes.
    public var outputURL: URL { outputDirectory.appendingPathComponent(shard.fileName(for: sweep.spec.name)) }

    /// What a run did.
    public struct Summary: Sendable, Equatable {
        /// Points in this shard.
        public var total: Int
        /// Points an earlier run had finished.
        public var alreadyDone: Int
        /// Points this run finished with results.
        public var done: Int
        /// Points this run reported as skipped.
        public var skipped: Int
        /// Points whose kind threw; they are not written, so a rerun retries them.
        public var failed: [(id: String, label: String, error: String)]

        public static func == (lhs: Summary, rhs: Summary) -> Bool {
            lhs.total == rhs.total && lhs.alreadyDone == rhs.alreadyDone && lhs.done == rhs.done
                && lhs.skipped == rhs.skipped && lhs.failed.map(\.id) == rhs.failed.map(\.id)
        }
    }

    /// Runs the points this shard owns that the file does not hold yet.
    public func run(progress: SweepProgress = SweepProgress(quiet: true)) throws -> Summary {
        let log = try CSVAppendLog(url: outputURL, columns: columns)
        let idColumn = 0
        let finished = Set(log.existingRecords.map { $0[idColumn] })
        let mine = sweep.points.filter { shard.contains(pointID: $0.id) }
        var summary = Summary(total: mine.count, alreadyDone: 0, done: 0, skipped: 0, failed: [])
        let pending = mine.filter { !finished.contains($0.id) }
        summary.alreadyDone = mine.count - pending.count
        var progress = progress
        progress.begin(total: mine.count, finished: summary.alreadyDone)
        let metadataValues = metadata.fields
        for point in pending {
            progress.starting(point, done: summary.alreadyDone + summary.done + summary.skipped + summary.failed.count)
            guard let kind = sweep.kind(of: point) else { continue }
            let outcome: PointOutcome
            do { outcome = try kind.run(point, options: sweep.spec.options) } catch {
                summary.failed.append((point.id, point.label, "\(error)"))
                continue
            }
            var fields: [String: String]
            switch outcome {
            case let .done(results):
                fields = results
                fields["status"] = "OK"
                summary.done += 1
            case let .skipped(reason):
                fields = ["status": "SKIP", "reason": reason]
                summary.skipped += 1
            }
            fields["point_id"] = point.id
            fields["point_index"] = String(point.index)
            for (column, value) in zip(SweepPoint.parameterColumns, point.parameterValues) { fields[column] = value }
            fields["point_seed"] = String(point.seed)
            fields["finished_utc"] = RunMetadata.utcTimestamp(Date())
            for (column, value) in metadataValues where fields[column] == nil { fields[column] = value }
            try log.append(columns.map { fields[$0] ?? "" })
        }
        progress.end()
        return summary
    }
}
