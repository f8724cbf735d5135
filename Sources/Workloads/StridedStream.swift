import Translation

/// Walks the region from its base with a fixed stride, wrapping around at
/// the end. With an 8-byte stride it is a sequential scan.
@frozen public struct StridedStream: AccessStream, Sendable {
    public let region: WorkloadRegion
    public let stride: UInt64
    public let type: AccessType
    @usableFromInline var offset: UInt64 = 0
    @usableFromInline var remaining: UInt64

    /// A stream that steps by `stride` bytes (greater than zero).
    public init(region: WorkloadRegion, stride: UInt64, type: AccessType = .read) {
        precondition(stride > 0, "a stride is at least one byte")
        self.region = region
        self.stride = stride
        self.type = type
        remaining = region.accesses
    }

    /// A sequential scan: one 8-byte word after another.
    public static func sequential(region: WorkloadRegion, type: AccessType = .read) -> StridedStream {
        StridedStream(region: region, stride: 8, type: type)
    }

    @inlinable @inline(__always)
    public mutating func next() throws(TraceError) -> AccessRecord? {
        guard remaining > 0 else { return nil }
        remaining &-= 1
        let address = region.base &+ offset
        offset &+= stride
        if offset >= region.bytes { offset %= region.bytes }
        return AccessRecord(address: address, type: type)
    }
}
