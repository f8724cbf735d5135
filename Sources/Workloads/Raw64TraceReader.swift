import Foundation
import Translation

/// Reads a raw64 trace: a binary file of little-endian UInt64 virtual
/// addresses, one per data access (read as loads). The file is streamed
/// through a fixed buffer.
public struct Raw64TraceReader: AccessStream {
    @usableFromInline let reader: BufferedFileReader
    @usableFromInline var position = 0
    @usableFromInline var available = 0
    /// The number of accesses in the file.
    public let count: UInt64

    /// Opens `path`. Throws if it cannot be read or its size is not a
    /// multiple of 8 bytes.
    public init(path: String) throws(TraceError) {
        let size: UInt64
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        } catch {
            throw .unreadable(path: path, reason: BufferedFileReader.reason(error))
        }
        guard size % 8 == 0 else { throw .truncatedRaw64(path: path, size: size) }
        count = size / 8
        reader = try BufferedFileReader(path: path)
    }

    @inlinable @inline(__always)
    public mutating func next() throws(TraceError) -> AccessRecord? {
        if position &+ 8 > available {
            available = try reader.refill(keeping: 0, from: 0)
            position = 0
            if available < 8 { return nil }
        }
        let raw = reader.buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position &+= 8
        return AccessRecord(address: UInt64(littleEndian: raw), type: .read)
    }
}

/// Writes accesses as a raw64 trace (for tools and tests).
public enum Raw64TraceWriter {
    /// Writes `addresses` to `path` as little-endian UInt64 values.
    public static func write<S: Sequence<UInt64>>(_ addresses: S, to path: String) throws {
        var data = Data()
        for address in addresses { withUnsafeBytes(of: address.littleEndian) { data.append(contentsOf: $0) } }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
