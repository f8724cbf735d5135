import Experiments
import Testing

@Suite struct RunComparisonTests {
    static func table(_ columns: [String], _ rows: [[String]]) -> CSVTable {
        var table = CSVTable(columns: columns)
        for row in rows { table.append(row) }
        return table
    }

    @Test func ratiosOfMediansAndTheThresholdWithoutNoiseColumns() throws {
        let a = Self.table(["workload", "ns_per_access"], [["gups", "10.0"], ["chase", "20.0"], ["seq", "1.5"]])
        let b = Self.table(["workload", "ns_per_access"], [["gups", "10.4"], ["chase", "30.0"], ["zipf", "1.0"]])
        let comparison = try RunComparison(a, b)
        #expect(comparison.keyColumns == ["workload"])
        #expect(comparison.entries.map(\.key) == ["workload=gups", "workload=chase"])
        #expect(comparison.entries.map(\.changed) == [false, true])
        #expect(abs(comparison.entries[1].ratio - 1.5) < 1e-12)
        #expect(comparison.entries[0].noise == "threshold")
        #expect(comparison.onlyInA == ["workload=seq"])
        #expect(comparison.onlyInB == ["workload=zipf"])
        #expect(try RunComparison(a, b, threshold: 0.01).entries[0].changed)
    }

    @Test func overlappingP25P75RangesAreNoise() throws {
        let columns = ["backing", "cycles_per_access", "cycles_p25", "cycles_p75"]
        let a = Self.table(columns, [["4K", "100", "90", "120"], ["THP", "50", "48", "52"]])
        let b = Self.table(columns, [["4K", "125", "110", "140"], ["THP", "60", "57", "63"]])
        let comparison = try RunComparison(a, b)
        #expect(comparison.entries.map(\.noise) == ["p25/p75", "p25/p75"])
        #expect(comparison.entries.map(\.changed) == [false, true])
    }

    @Test func repetitionsGiveTheMedianAndTheirInterquartileRange() throws {
        let columns = ["point_id", "strategy", "repetition", "value_ns"]
        let a = Self.table(columns, [["1", "nested", "0", "10"], ["2", "nested", "1", "12"], ["3", "nested", "2", "14"]])
        let b = Self.table(columns, [["4", "nested", "0", "13"], ["5", "nested", "1", "15"], ["6", "nested", "2", "17"]])
        let comparison = try RunComparison(a, b)
        let entry = try #require(comparison.entries.first)
        #expect(comparison.entries.count == 1)
        #expect(entry.a == 12 && entry.b == 15)
        #expect(entry.noise == "repetitions")
        #expect(entry.changed)  // the ranges [11, 13] and [14, 16] do not overlap
        let near = Self.table(columns, [["4", "nested", "0", "11"], ["5", "nested", "1", "13"], ["6", "nested", "2", "15"]])
        #expect(try !RunComparison(a, near).entries[0].changed)
    }

    @Test func exactCountsAreFlaggedOnAnyChange() throws {
        let a = Self.table(["guest_page", "refs"], [["4K", "24"], ["2M", "19"]])
        let b = Self.table(["guest_page", "refs"], [["4K", "25"], ["2M", "19"]])
        let comparison = try RunComparison(a, b)
        #expect(comparison.entries.map(\.noise) == ["exact", "exact"])
        #expect(comparison.entries.map(\.changed) == [true, false])
    }

    @Test func metadataIsNeverComparedAndAMissingKeyIsAnError() throws {
        let a = Self.table(["name", "x", "seed"], [["a", "1.5", "1"]])
        let b = Self.table(["name", "x", "seed"], [["a", "1.5", "2"]])
        #expect(try RunComparison(a, b).entries.map(\.column) == ["x"])
        #expect(throws: RunComparisonError.self) { _ = try RunComparison(a, b, key: ["nope"]) }
        let text = Self.table(["name"], [["a"]])
        #expect(throws: RunComparisonError.self) { _ = try RunComparison(text, text) }
    }
}
