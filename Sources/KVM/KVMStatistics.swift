import CKVM
import Glibc

/// The binary statistics of a VM or vCPU (`KVM_GET_STATS_FD`): the header
/// and descriptors are read once, the values on every `snapshot()`.
public final class KVMStatistics: @unchecked Sendable {
    /// One statistic: its name and where its values are in the data block.
    public struct Descriptor: Sendable, Hashable {
        public var name: String
        /// `KVM_STATS_TYPE_*`, `KVM_STATS_UNIT_*` and `KVM_STATS_BASE_*` bits.
        public var flags: UInt32
        /// The number of 64-bit values (1 except for histograms).
        public var count: Int
        /// The byte offset of the first value in the data block.
        public var offset: Int
    }

    let descriptor: FileDescriptorOwner
    /// The statistics, in the kernel's order.
    public let descriptors: [Descriptor]
    let dataOffset: Int
    let dataSize: Int

    init(descriptor: consuming FileDescriptorOwner) throws(KVMError) {
        let fd = descriptor.raw
        var header = kvm_stats_header()
        try Self.read(fd, into: &header, size: MemoryLayout<kvm_stats_header>.size, at: 0)
        let stride = ckvm_stats_desc_stride(header.name_size)
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(stride * Int(header.num_desc), 8), alignment: 8)
        defer { block.deallocate() }
        try Self.read(fd, into: block.baseAddress!, size: stride * Int(header.num_desc), at: Int(header.desc_offset))
        var descriptors: [Descriptor] = []
        var end = 0
        do {
            for index in 0..<header.num_desc {
                let entry = ckvm_stats_desc_at(block.baseAddress!, header.name_size, index)!
                let nameBytes = UnsafeRawPointer(ckvm_stats_desc_name(entry)!)
                    .assumingMemoryBound(to: UInt8.self)
                let length = (0..<Int(header.name_size)).first { nameBytes[$0] == 0 } ?? Int(header.name_size)
                let name = String(decoding: UnsafeBufferPointer(start: nameBytes, count: length), as: UTF8.self)
                let item = Descriptor(name: name, flags: entry.pointee.flags, count: Int(entry.pointee.size),
                                      offset: Int(entry.pointee.offset))
                end = max(end, item.offset + 8 * item.count)
                descriptors.append(item)
            }
        }
        self.descriptors = descriptors
        dataOffset = Int(header.data_offset)
        dataSize = end
        self.descriptor = descriptor
    }

    private static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, size: Int, at offset: Int) throws(KVMError) {
        var done = 0
        while done < size {
            let count = try systemCall("pread of KVM stats") { pread(fd, buffer + done, size - done, off_t(offset + done)) }
            guard count > 0 else { throw .systemCall("pread of KVM stats (short read)", .invalidArgument) }
            done += count
        }
    }

    /// The current value of every statistic (the sum of the buckets for a
    /// histogram). The corresponding C function is `pread`.
    public func snapshot() throws(KVMError) -> StatisticsSnapshot {
        let data = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max((dataSize + 7) / 8, 1))
        defer { data.deallocate() }
        try Self.read(descriptor.raw, into: UnsafeMutableRawPointer(data.baseAddress!), size: dataSize, at: dataOffset)
        var values: [String: UInt64] = [:]
        for item in descriptors {
            var sum: UInt64 = 0
            for index in 0..<item.count { sum &+= data[item.offset / 8 + index] }
            values[item.name] = sum
        }
        return StatisticsSnapshot(values: values)
    }
}

/// The values of a set of KVM statistics at one moment, by name.
public struct StatisticsSnapshot: Sendable, Equatable {
    public var values: [String: UInt64]

    public init(values: [String: UInt64] = [:]) { self.values = values }

    /// The value of `name`, or 0 when this KVM does not have it.
    public subscript(name: String) -> UInt64 { values[name] ?? 0 }

    /// What changed since `earlier`: each value minus its earlier value
    /// (signed, since instant values such as `pages_4k` can fall).
    public func delta(since earlier: StatisticsSnapshot) -> [String: Int64] {
        var result: [String: Int64] = [:]
        for (name, value) in values {
            result[name] = Int64(bitPattern: value &- (earlier.values[name] ?? 0))
        }
        return result
    }
}
