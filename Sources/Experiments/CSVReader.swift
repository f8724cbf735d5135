import Foundation

/// Why CSV text could not be read.
public enum CSVReadError: Error, Equatable, CustomStringConvertible {
    /// The text has no header row.
    case empty
    /// A quote inside an unquoted field, or text after a closing quote.
    case strayQuote(record: Int)
    /// A quoted field that never ends.
    case unterminatedQuote(record: Int)
    /// A record whose field count differs from the header's.
    case fieldCount(record: Int, expected: Int, found: Int)
    /// The bytes are not UTF-8.
    case notUTF8(record: Int)

    public var description: String {
        switch self {
        case .empty: "the CSV has no header row"
        case let .strayQuote(record): "record \(record): a quote inside an unquoted field or after a closing quote"
        case let .unterminatedQuote(record): "record \(record): a quoted field is not closed"
        case let .fieldCount(record, expected, found): "record \(record): \(found) fields where the header has \(expected)"
        case let .notUTF8(record): "record \(record): the bytes are not UTF-8"
        }
    }
}

/// An RFC 4180 parser. Records end with CRLF or a bare LF; fields may be
/// quoted, and a quoted field may hold commas, doubled quotes and line
/// breaks. Record numbers in errors count from 1 for the header.
public enum CSVReader {
    /// The records of `bytes` that end with a line break, and the length of
    /// the prefix they fill. A last record without its line break is left
    /// out of both: it is what a writer killed mid-record leaves behind.
    public static func completeRecords(_ bytes: [UInt8]) throws -> (records: [[String]], length: Int) {
        var records: [[String]] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var length = 0
        var index = 0
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

        func finishField() throws {
            guard let text = String(validating: field, as: UTF8.self) else {
                throw CSVReadError.notUTF8(record: records.count + 1)
            }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
        }

        while index < bytes.count {
            // The start of a field.
            if bytes[index] == quote {
                index += 1
                var closed = false
                while index < bytes.count {
                    if bytes[index] == quote {
                        if index + 1 < bytes.count && bytes[index + 1] == quote {
                            field.append(quote)
                            index += 2
                        } else {
                            index += 1
                            closed = true
                            break
                        }
                    } else {
                        field.append(bytes[index])
                        index += 1
                    }
                }
                guard closed else { return (records, length) }  // an unfinished last record
                if index < bytes.count && ![comma, cr, lf].contains(bytes[index]) {
                    throw CSVReadError.strayQuote(record: records.count + 1)
                }
            } else {
                while index < bytes.count && ![comma, cr, lf].contains(bytes[index]) {
                    if bytes[index] == quote { throw CSVReadError.strayQuote(record: records.count + 1) }
                    field.append(bytes[index])
                    index += 1
                }
            }
            // The end of a field: a comma, a line break, or the end of the bytes.
            guard index < bytes.count else { break }
            if bytes[index] == comma {
                try finishField()
                index += 1
                continue
            }
            if bytes[index] == cr {
                guard index + 1 < bytes.count else { break }  // CR without its LF yet
                guard bytes[index + 1] == lf else { throw CSVReadError.strayQuote(record: records.count + 1) }
                index += 1
            }
            try finishField()
            index += 1
            records.append(fields)
            fields.removeAll(keepingCapacity: true)
            length = index
        }
        return (records, length)
    }

    /// Parses a whole CSV text: a header row, then records with as many
    /// fields. A last record may omit its line break; an unclosed quote is an error.
    public static func table(_ bytes: [UInt8]) throws -> CSVTable {
        var (records, length) = try completeRecords(bytes)
        if length < bytes.count {
            var tail = Array(bytes[length...])
            if tail.last == UInt8(ascii: "\r") {
                tail.append(UInt8(ascii: "\n"))
            } else {
                tail += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
            }
            let (last, lastLength) = try completeRecords(tail)
            guard lastLength == tail.count else { throw CSVReadError.unterminatedQuote(record: records.count + 1) }
            records += last
        }
        guard let header = records.first else { throw CSVReadError.empty }
        var table = CSVTable(columns: header)
        for (offset, record) in records.dropFirst().enumerated() {
            guard record.count == header.count else {
                throw CSVReadError.fieldCount(record: offset + 2, expected: header.count, found: record.count)
            }
            table.append(record)
        }
        return table
    }

    /// Parses a CSV text.
    public static func table(_ text: String) throws -> CSVTable { try table(Array(text.utf8)) }

    /// Reads and parses the CSV file at `url`.
    public static func table(contentsOf url: URL) throws -> CSVTable {
        try table(Array(try Data(contentsOf: url)))
    }
}
