import Experiments
import Foundation
import Testing

@Suite struct CSVRoundTripTests {
    static let awkwardFields = [
        "plain", "", "with,comma", "with \"quotes\"", "\"", "line\nbreak", "cr\r\nlf", " leading space",
        "trailing,", "ünïcödé µs", "a,\"b\",\nc",
    ]

    @Test(arguments: awkwardFields)
    func aFieldSurvivesWritingAndReading(field: String) throws {
        var table = CSVTable(columns: ["name", "value_ns"])
        table.append([field, "1"])
        table.append(["x", field])
        let read = try CSVReader.table(table.text)
        #expect(read == table)
    }

    @Test func fieldsThatNeedQuotingAreQuotedAndOthersAreNot() {
        #expect(CSVTable.quote("a,b") == "\"a,b\"")
        #expect(CSVTable.quote("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVTable.quote("two\nlines") == "\"two\nlines\"")
        #expect(CSVTable.quote("plain") == "plain")
    }

    @Test func aWrittenFileReadsBack() throws {
        var table = CSVTable(columns: Self.awkwardFields.indices.map { "c\($0)" })
        table.append(Self.awkwardFields)
        table.append(Self.awkwardFields.reversed())
        let url = try temporaryDirectory().appendingPathComponent("t.csv")
        try table.write(to: url)
        #expect(try CSVReader.table(contentsOf: url) == table)
    }

    @Test func bareLineFeedsAndAMissingFinalLineBreakAreAccepted() throws {
        let table = try CSVReader.table("a,b\n1,2\n3,\"4\"")
        #expect(table.columns == ["a", "b"])
        #expect(table.rows == [["1", "2"], ["3", "4"]])
    }

    @Test(arguments: [
        ("a,b\r\n1,x\"y\r\n", CSVReadError.strayQuote(record: 2)),
        ("a,b\r\n\"1\"x,2\r\n", CSVReadError.strayQuote(record: 2)),
        ("a,b\r\n\"1,2\r\n", CSVReadError.unterminatedQuote(record: 2)),
        ("a,b\r\n1,2,3\r\n", CSVReadError.fieldCount(record: 2, expected: 2, found: 3)),
        ("", CSVReadError.empty),
    ])
    func malformedTextIsAnErrorNamingTheRecord(text: String, error: CSVReadError) {
        #expect(throws: error) { try CSVReader.table(text) }
    }

    @Test func completeRecordsStopBeforeAnUnfinishedLastRecord() throws {
        let text = "a,b\r\n1,2\r\n3,\"fo"
        let (records, length) = try CSVReader.completeRecords(Array(text.utf8))
        #expect(records == [["a", "b"], ["1", "2"]])
        #expect(length == "a,b\r\n1,2\r\n".utf8.count)
        let withoutLF = try CSVReader.completeRecords(Array("a,b\r\n1,2\r".utf8))
        #expect(withoutLF.records == [["a", "b"]])
    }
}
