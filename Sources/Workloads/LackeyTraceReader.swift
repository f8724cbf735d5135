import Foundation
import Translation

/// Reads the output of `valgrind --tool=lackey --trace-mem=yes`, streamed
/// through a fixed buffer. Records are
///
///     I  04000000,3      an instruction fetch
///      L 1ffefffd10,8    a load
///      S 1ffefffd10,8    a store
///      M 1ffefffd10,8    a modify (load and store of one datum)
///
/// with the address in hex and the size in decimal. `M` is one write access
/// (one translation). Every other line, such as Valgrind's `==pid==`
/// messages, is skipped. A line that starts like a record but does not
/// parse is an error naming its line number.
public struct LackeyTraceReader: AccessStream {
    @usableFromInline let reader: BufferedFileReader
    @usableFromInline var position = 0
    @usableFromInline var available = 0
    /// The 1-based number of the line last read.
    public private(set) var line = 0

    public init(path: String) throws(TraceError) {
        reader = try BufferedFileReader(path: path)
    }

    public mutating func next() throws(TraceError) -> AccessRecord? {
        while true {
            guard let (start, end) = try nextLine() else { return nil }
            line += 1
            if let record = try parse(start, end) { return record }
        }
    }

    /// The byte range of the next line (without its newline), refilling the
    /// buffer as needed.
    mutating func nextLine() throws(TraceError) -> (Int, Int)? {
        var scan = position
        while true {
            while scan < available {
                if reader.buffer.load(fromByteOffset: scan, as: UInt8.self) == 0x0A {
                    defer { position = scan + 1 }
                    return (position, scan)
                }
                scan += 1
            }
            let kept = available - position
            if reader.atEnd {
                guard kept > 0 else { return nil }
                defer { position = available }
                return (position, available)
            }
            if kept == reader.capacity {
                throw .malformedLackeyLine(path: reader.path, line: line + 1, text: "a line longer than \(kept) bytes")
            }
            available = try reader.refill(keeping: kept, from: position)
            scan = kept
            position = 0
        }
    }

    /// The record on a line, nil for a line to skip.
    func parse(_ start: Int, _ end: Int) throws(TraceError) -> AccessRecord? {
        let bytes = UnsafeRawBufferPointer(start: reader.buffer + start, count: end - start)
        var index = 0
        let type: AccessType
        if bytes.count >= 2 && bytes[0] == UInt8(ascii: "I") && bytes[1] == UInt8(ascii: " ") {
            type = .fetch
            index = 1
        } else if bytes.count >= 3 && bytes[0] == UInt8(ascii: " ") && bytes[2] == UInt8(ascii: " ")
            && (bytes[1] == UInt8(ascii: "L") || bytes[1] == UInt8(ascii: "S") || bytes[1] == UInt8(ascii: "M")) {
            type = bytes[1] == UInt8(ascii: "L") ? .read : .write
            index = 2
        } else {
            return nil
        }
        while index < bytes.count && bytes[index] == UInt8(ascii: " ") { index += 1 }
        var address: UInt64 = 0
        var digits = 0
        while index < bytes.count, let digit = Self.hexValue(bytes[index]) {
            guard digits < 16 else { throw malformed(bytes) }
            address = address << 4 | digit
            digits += 1
            index += 1
        }
        guard digits > 0, index < bytes.count, bytes[index] == UInt8(ascii: ",") else { throw malformed(bytes) }
        index += 1
        var sizeDigits = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            sizeDigits += 1
            index += 1
        }
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\r") { index += 1 }
        guard sizeDigits > 0, index == bytes.count else { throw malformed(bytes) }
        return AccessRecord(address: address, type: type)
    }

    func malformed(_ bytes: UnsafeRawBufferPointer) -> TraceError {
        .malformedLackeyLine(path: reader.path, line: line, text: String(decoding: bytes.prefix(120), as: UTF8.self))
    }

    static func hexValue(_ byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt64(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
