import Translation

/// One memory access of a workload: the virtual address and what the access
/// does (a data read or write, or an instruction fetch).
@frozen public struct AccessRecord: Hashable, Sendable, CustomStringConvertible {
    public var address: UInt64
    public var type: AccessType

    @inlinable public init(address: UInt64, type: AccessType = .read) {
        self.address = address
        self.type = type
    }

    public var description: String { "\(type) 0x" + String(address, radix: 16) }
}

/// A stream of accesses, read one at a time. Generators and trace readers
/// conform; the simulator is generic over it, so `next()` is specialized
/// into its loop. Implementations do not allocate in `next()`.
public protocol AccessStream {
    /// The next access, or nil at the end of the stream. Trace readers throw
    /// when the input is malformed.
    mutating func next() throws(TraceError) -> AccessRecord?
}

extension AccessStream {
    /// Reads up to `limit` accesses into an array (for tests and small tools).
    public mutating func collect(limit: Int = .max) throws(TraceError) -> [AccessRecord] {
        var records: [AccessRecord] = []
        while records.count < limit, let record = try next() { records.append(record) }
        return records
    }
}
