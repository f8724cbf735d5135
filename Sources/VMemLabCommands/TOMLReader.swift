import GuestMemory
import TOMLKit

/// An error in an input file, naming the key path where it is, such as
/// `paging.table[1].address`.
public struct InputFileError: Error, CustomStringConvertible, Equatable {
    /// The key path, or empty for an error in the file as a whole.
    public var path: String
    public var message: String
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Reads typed values from a TOML table, rejecting unknown keys and naming
/// the full key path in every error.
struct TOMLReader {
    let table: TOMLTable
    let path: String

    init(_ table: TOMLTable, path: String) {
        self.table = table
        self.path = path
    }

    /// Parses TOML text; a syntax error names the line and column.
    static func parse(_ text: String) throws -> TOMLReader {
        do {
            return TOMLReader(try TOMLTable(string: text), path: "")
        } catch let error as TOMLParseError {
            throw InputFileError(path: "", "invalid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// Fails on any key not in `known`.
    func rejectUnknownKeys(_ known: Set<String>) throws {
        for key in table.keys.sorted() where !known.contains(key) {
            throw InputFileError(path: keyPath(key), "unknown key; expected one of: \(known.sorted().joined(separator: ", "))")
        }
    }

    func has(_ key: String) -> Bool { table[key] != nil }

    func required(_ key: String) throws -> TOMLValueConvertible {
        guard let value = table[key] else { throw InputFileError(path: keyPath(key), "missing field") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let value = try required(key).string else { throw InputFileError(path: keyPath(key), "expected a string") }
        return value
    }

    func string(_ key: String, default value: String) throws -> String { has(key) ? try string(key) : value }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard has(key) else { return value }
        guard let flag = try required(key).bool else { throw InputFileError(path: keyPath(key), "expected true or false") }
        return flag
    }

    /// An unsigned 64-bit number: a TOML integer, or a string such as
    /// `"0xffff800000000000"` for values beyond TOML's signed range.
    func uint64(_ key: String) throws -> UInt64 {
        let value = try required(key)
        if let number = value.int {
            guard number >= 0 else { throw InputFileError(path: keyPath(key), "must not be negative") }
            return UInt64(number)
        }
        if let text = value.string, let number = TOMLReader.parseNumber(text) { return number }
        throw InputFileError(path: keyPath(key), "expected a non-negative integer (or a string such as \"0x1000\")")
    }

    func uint64(_ key: String, default value: UInt64) throws -> UInt64 { has(key) ? try uint64(key) : value }

    /// A byte count: an integer, or a string with a K, M, G or T suffix.
    func byteCount(_ key: String) throws -> UInt64 {
        let value = try required(key)
        if let number = value.int, number > 0 { return UInt64(number) }
        if let text = value.string, let bytes = ByteCount.positive(parsing: text) { return bytes }
        throw InputFileError(path: keyPath(key), "expected a positive size such as 4096 or \"1G\"")
    }

    func int(_ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard has(key) else { return value }
        guard let number = try required(key).int, range.contains(number) else {
            throw InputFileError(path: keyPath(key), "expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    func table(_ key: String) throws -> TOMLReader {
        guard let inner = try required(key).table else { throw InputFileError(path: keyPath(key), "expected a table") }
        return TOMLReader(inner, path: keyPath(key))
    }

    func optionalTable(_ key: String) throws -> TOMLReader? { has(key) ? try table(key) : nil }

    /// The tables of an array of tables; absent means empty.
    func tables(_ key: String) throws -> [TOMLReader] {
        guard has(key) else { return [] }
        guard let array = try required(key).array else { throw InputFileError(path: keyPath(key), "expected an array of tables") }
        return try array.enumerated().map { index, element in
            guard let inner = element.table else { throw InputFileError(path: "\(keyPath(key))[\(index)]", "expected a table") }
            return TOMLReader(inner, path: "\(keyPath(key))[\(index)]")
        }
    }

    func strings(_ key: String) throws -> [String] {
        guard has(key) else { return [] }
        guard let array = try required(key).array else { throw InputFileError(path: keyPath(key), "expected an array of strings") }
        return try array.enumerated().map { index, element in
            guard let text = element.string else { throw InputFileError(path: "\(keyPath(key))[\(index)]", "expected a string") }
            return text
        }
    }

    /// Parses `123`, `0x7b`, `0o173` or `0b1111011` (underscores allowed).
    static func parseNumber(_ text: String) -> UInt64? {
        let clean = text.replacingOccurrences(of: "_", with: "").lowercased()
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where clean.hasPrefix(prefix) {
            return UInt64(clean.dropFirst(2), radix: radix)
        }
        return UInt64(clean)
    }
}
