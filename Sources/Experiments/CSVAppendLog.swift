import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an append-only CSV file could not be opened or extended.
public enum CSVAppendError: Error, CustomStringConvertible {
    /// A system call failed; `errno` says why.
    case system(call: String, path: String, errno: Int32)
    /// The file's header is not the one this run writes.
    case headerMismatch(path: String, found: [String], expected: [String])
    /// The file's complete records do not parse.
    case unreadable(path: String, CSVReadError)
    /// Another process holds the file open for appending.
    case busy(path: String)

    public var description: String {
        switch self {
        case let .system(call, path, code):
            "\(call) \(path): \(String(cString: strerror(code)))"
        case let .headerMismatch(path, found, expected):
            "\(path) has the columns [\(found.joined(separator: ","))], not the [\(expected.joined(separator: ","))] "
                + "this run writes; use another --out directory or remove the file"
        case let .unreadable(path, error):
            "\(path): \(error)"
        case let .busy(path):
            "\(path) is being written by another process (another vmemlab run of the same sweep and shard?)"
        }
    }
}

/// A CSV file that grows one complete record at a time and survives
/// `kill -9` at any moment. Each record goes to an `O_APPEND` descriptor in
/// a single `write(2)` and is then `fsync`ed. Opening the file validates it
/// and cuts off a last record without its line break, which is all a kill
/// in mid-write can leave, so a reader never sees a partial row. An
/// exclusive `flock` keeps a second writer out.
public struct CSVAppendLog: ~Copyable {
    /// The file.
    public let url: URL
    /// Its header.
    public let columns: [String]
    /// The records already in the file when it was opened.
    public let existingRecords: [[String]]
    private let descriptor: Int32

    /// Opens (or creates) the file at `url` for `columns`. An existing file
    /// must have the same header; its complete records are kept.
    public init(url: URL, columns: [String]) throws {
        self.url = url
        self.columns = columns
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let path = url.path
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CSVAppendError.system(call: "open", path: path, errno: errno) }
        // One writer at a time; the lock goes with the descriptor.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw CSVAppendError.busy(path: path) }
            throw CSVAppendError.system(call: "flock", path: path, errno: code)
        }
        do {
            existingRecords = try Self.recover(fd: fd, path: path, columns: columns)
        } catch {
            close(fd)
            throw error
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Reads the file, truncates an incomplete last record, writes the
    /// header into an empty file, and returns the data records.
    private static func recover(fd: Int32, path: String, columns: [String]) throws -> [[String]] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        guard lseek(fd, 0, SEEK_SET) >= 0 else { throw CSVAppendError.system(call: "lseek", path: path, errno: errno) }
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CSVAppendError.system(call: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        let parsed: (records: [[String]], length: Int)
        do { parsed = try CSVReader.completeRecords(bytes) } catch let error as CSVReadError {
            throw CSVAppendError.unreadable(path: path, error)
        }
        if parsed.length < bytes.count {
            guard ftruncate(fd, off_t(parsed.length)) == 0 else {
                throw CSVAppendError.system(call: "ftruncate", path: path, errno: errno)
            }
        }
        guard let header = parsed.records.first else {
            try writeLine(CSVTable.line(columns), to: fd, path: path)
            return []
        }
        guard header == columns else { throw CSVAppendError.headerMismatch(path: path, found: header, expected: columns) }
        for (offset, record) in parsed.records.enumerated() where record.count != columns.count {
            throw CSVAppendError.unreadable(
                path: path, .fieldCount(record: offset + 1, expected: columns.count, found: record.count))
        }
        return Array(parsed.records.dropFirst())
    }

    /// Appends one record, durably: it is on disk when this returns.
    public func append(_ fields: [String]) throws {
        precondition(fields.count == columns.count, "a CSV row has \(fields.count) fields for \(columns.count) columns")
        try Self.writeLine(CSVTable.line(fields), to: descriptor, path: url.path)
    }

    /// Writes `line` with one `write(2)` (more only if the kernel writes
    /// part of it), then `fsync`s.
    private static func writeLine(_ line: String, to fd: Int32, path: String) throws {
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw CSVAppendError.system(call: "write", path: path, errno: errno)
            }
            offset += written
        }
        guard fsync(fd) == 0 else { throw CSVAppendError.system(call: "fsync", path: path, errno: errno) }
    }
}
