import Experiments
import Foundation
import Testing

@Suite struct SweepMergeTests {
    static let spec = """
        name = "merge"
        repetitions = 2
        [sweep]
        strategies = ["native", "nested", "shadow"]
        workloads = ["walk"]
        guest_pages = ["4K", "2M"]
        backings = ["4K", "1G"]
        guest_levels = [4, 5]
        """

    /// A table without the per-row finish time, which differs between runs.
    static func comparable(_ table: CSVTable) -> [[String]] {
        let keep = table.columns.indices.filter { table.columns[$0] != "finished_utc" }
        return table.rows.map { row in keep.map { row[$0] } }
    }

    @Test(arguments: [2, 3, 5])
    func mergedShardsEqualTheUnshardedRun(shards: Int) throws {
        let sweep = try Sweep(try ExperimentSpec(toml: Self.spec))
        let metadata = RunMetadata.collect(seed: sweep.spec.seed, specHash: sweep.spec.hash)
        let directory = try temporaryDirectory()
        let whole = SweepRunner(sweep: sweep, outputDirectory: directory.appendingPathComponent("whole"), metadata: metadata)
        #expect(try whole.run().done == sweep.points.count)

        var parts: [URL] = []
        var counted = 0
        for index in 1...shards {
            let runner = SweepRunner(sweep: sweep, outputDirectory: directory.appendingPathComponent("shards"),
                                     shard: Shard("\(index)/\(shards)")!, metadata: metadata)
            counted += try runner.run().done
            parts.append(runner.outputURL)
        }
        #expect(counted == sweep.points.count)
        let merged = directory.appendingPathComponent("merged.csv")
        let result = try SweepMerge.merge(parts, into: merged)
        #expect(result == (rows: sweep.points.count, duplicates: 0))

        let expected = try CSVReader.table(contentsOf: whole.outputURL)
        let actual = try CSVReader.table(contentsOf: merged)
        #expect(actual.columns == expected.columns)
        #expect(Self.comparable(actual) == Self.comparable(expected))
    }

    @Test func repeatedPointsAreKeptOnceAndForeignFilesAreRejected() throws {
        var a = CSVTable(columns: ["point_id", "point_index", "v", "spec_hash"])
        a.append(["b", "1", "x", "h"])
        a.append(["a", "0", "y", "h"])
        let (merged, duplicates) = try SweepMerge.merge([("a", a), ("again", a)])
        #expect(duplicates == 2)
        #expect(merged.rows.map { $0[0] } == ["a", "b"])

        var other = CSVTable(columns: ["point_id", "point_index", "v", "spec_hash"])
        other.append(["c", "2", "z", "another"])
        #expect(throws: SweepMergeError.self) { _ = try SweepMerge.merge([("a", a), ("other", other)]) }
        #expect(throws: SweepMergeError.self) { _ = try SweepMerge.merge([("a", a), ("x", CSVTable(columns: ["point_id"]))]) }

        // A shard resumed after its spec was extended holds both hashes.
        var extended = CSVTable(columns: ["point_id", "point_index", "v", "spec_hash"])
        extended.append(["d", "3", "w", "h"])
        extended.append(["e", "4", "w", "h2"])
        var fresh = CSVTable(columns: ["point_id", "point_index", "v", "spec_hash"])
        fresh.append(["f", "5", "w", "h2"])
        #expect(try SweepMerge.merge([("extended", extended), ("fresh", fresh)]).table.rows.count == 3)
        #expect(throws: SweepMergeError.self) { _ = try SweepMerge.merge([("x", CSVTable(columns: ["name"]))]) }
    }
}
