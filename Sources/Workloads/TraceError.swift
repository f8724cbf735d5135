/// Why a trace could not be read.
public enum TraceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// A raw64 file whose size is not a multiple of 8 bytes.
    case truncatedRaw64(path: String, size: UInt64)
    /// A Valgrind lackey record that does not parse.
    case malformedLackeyLine(path: String, line: Int, text: String)
    /// The name of a trace format that does not exist.
    case unknownFormat(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read trace '\(path)': \(reason)"
        case let .truncatedRaw64(path, size):
            return "raw64 trace '\(path)' is \(size) bytes, not a multiple of 8 (each access is one little-endian UInt64)"
        case let .malformedLackeyLine(path, line, text):
            return "malformed lackey record at \(path):\(line): '\(text)' (expected 'I  ADDR,SIZE' or ' L|S|M ADDR,SIZE' with ADDR in hex)"
        case let .unknownFormat(name):
            return "unknown trace format '\(name)'; known: raw64, lackey"
        }
    }
}
