import Experiments
import Foundation
import Testing

@Suite struct RunMetadataTests {
    @Test func oneValuePerColumnAndTheSeedAndHashAsGiven() {
        let metadata = RunMetadata.collect(seed: 7, specHash: "abc", backing: "THP",
                                           now: Date(timeIntervalSince1970: 0))
        #expect(metadata.values.count == RunMetadata.columns.count)
        #expect(metadata.fields["seed"] == "7")
        #expect(metadata.fields["spec_hash"] == "abc")
        #expect(metadata.fields["backing"] == "THP")
        #expect(metadata.fields["run_started_utc"] == "1970-01-01T00:00:00Z")
    }

    @Test func stampingAppendsOnlyTheColumnsATableLacks() {
        let metadata = RunMetadata.collect(seed: 1, specHash: "h")
        var table = CSVTable(columns: ["x_bytes", "backing"])
        table.append(["4096", "THP"])
        let stamped = MetadataStamp.stamped(table, with: metadata)
        #expect(stamped.columns == ["x_bytes", "backing"] + RunMetadata.columns.filter { $0 != "backing" })
        #expect(stamped.rows[0][1] == "THP")
        #expect(stamped.rows[0].count == stamped.columns.count)
    }
}
