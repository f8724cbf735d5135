import Experiments
import Foundation
import Testing

@Suite struct CSVAppendLogTests {
    @Test func aNewFileGetsItsHeaderAndRecordsAccumulateAcrossOpens() throws {
        let url = try temporaryDirectory().appendingPathComponent("log.csv")
        do {
            let log = try CSVAppendLog(url: url, columns: ["id", "text"])
            #expect(log.existingRecords.isEmpty)
            try log.append(["1", "a,b"])
        }
        do {
            let log = try CSVAppendLog(url: url, columns: ["id", "text"])
            #expect(log.existingRecords == [["1", "a,b"]])
            try log.append(["2", "line\nbreak"])
        }
        let table = try CSVReader.table(contentsOf: url)
        #expect(table.rows == [["1", "a,b"], ["2", "line\nbreak"]])
    }

    @Test(arguments: ["2,par", "2,\"open quote", "2,x\r", "\"2"])
    func aPartialLastRecordIsCutOffOnOpen(tail: String) throws {
        let url = try temporaryDirectory().appendingPathComponent("log.csv")
        try Data(("id,text\r\n1,a\r\n" + tail).utf8).write(to: url)
        let log = try CSVAppendLog(url: url, columns: ["id", "text"])
        #expect(log.existingRecords == [["1", "a"]])
        try log.append(["2", "b"])
        #expect(try String(contentsOf: url, encoding: .utf8) == "id,text\r\n1,a\r\n2,b\r\n")
    }

    @Test func aPartialHeaderIsRewritten() throws {
        let url = try temporaryDirectory().appendingPathComponent("log.csv")
        try Data("id,te".utf8).write(to: url)
        let log = try CSVAppendLog(url: url, columns: ["id", "text"])
        try log.append(["1", "a"])
        #expect(try String(contentsOf: url, encoding: .utf8) == "id,text\r\n1,a\r\n")
    }

    @Test func anotherHeaderIsAnErrorNamingBoth() throws {
        let url = try temporaryDirectory().appendingPathComponent("log.csv")
        try Data("id,other\r\n".utf8).write(to: url)
        #expect {
            _ = try CSVAppendLog(url: url, columns: ["id", "text"])
        } throws: { error in
            "\(error)".contains("id,other") && "\(error)".contains("id,text")
        }
    }

    @Test func aCorruptCompleteRecordIsAnError() throws {
        let url = try temporaryDirectory().appendingPathComponent("log.csv")
        try Data("id,text\r\n1,2,3\r\n".utf8).write(to: url)
        #expect(throws: CSVAppendError.self) { _ = try CSVAppendLog(url: url, columns: ["id", "text"]) }
    }
}

@Suite struct CSVAppendLogLockTests {
    @Test func aSecondWriterIsRefusedWhileTheFirstHasTheFile() throws {
        let url = try temporaryDirectory().appendingPathComponent("log.csv")
        let first = try CSVAppendLog(url: url, columns: ["id"])
        #expect {
            _ = try CSVAppendLog(url: url, columns: ["id"])
        } throws: { error in
            if case .busy = error as? CSVAppendError { return true }
            return false
        }
        try first.append(["1"])
    }
}
