import Experiments
import Foundation
import Testing

@Suite struct ReproductionRunnerTests {
    @Test func everyListedCSVAndTheSummaryCarryTheMetadata() throws {
        let directory = try temporaryDirectory()
        let context = ReproductionContext(outputDirectory: directory, quick: true, seed: 5)
        let report = try ReproductionRunner(context: context).run([WalkReferencesReproduction()], writeSummary: true)
        #expect(report.failures == 0)

        let walks = try CSVReader.table(contentsOf: directory.appendingPathComponent("walk-refs.csv"))
        #expect(walks.rows.count == 20)
        for column in RunMetadata.columns { #expect(walks.columns.contains(column), "walk-refs.csv lacks \(column)") }
        let seed = try #require(walks.columns.firstIndex(of: "seed"))
        #expect(walks.rows.allSatisfy { $0[seed] == "5" })

        let summary = try CSVReader.table(contentsOf: directory.appendingPathComponent("summary.csv"))
        #expect(summary.columns == ["name", "source", "status", "obtained", "published"] + RunMetadata.columns)
        #expect(summary.rows.count == 1)
        #expect(summary.rows[0][0] == "walk-refs")
        #expect(summary.rows[0][2] == "PASS")
        let hash = try #require(summary.columns.firstIndex(of: "spec_hash"))
        #expect(summary.rows[0][hash] == ReproductionRunner.invocationHash(["walk-refs"], quick: true, seed: 5))
    }
}
