import CNUMAShim
import Glibc

/// Guest RAM on the host: a mapping with a chosen backing, NUMA policy and
/// prefault, owned by this value and unmapped when it goes away.
///
/// Making one either succeeds whole or throws with nothing left mapped. The
/// KVM runner registers `baseAddress` and `size` as a memslot; `hostPageBytes`
/// says how large the host pages behind it can be, and `verifyPlacement()`
/// says where they really are.
public struct GuestMemoryRegion: ~Copyable, @unchecked Sendable {
    /// What to make.
    public struct Configuration: Hashable, Sendable {
        /// The size in bytes: a multiple of the backing's page size.
        public var size: Int
        public var backing: MemoryBacking
        public var policy: MemoryPolicy
        public var sharing: MemorySharing
        public var prefault: Prefault
        /// Whether the kernel reserves the memory at mmap time. Without it
        /// (`MAP_NORESERVE`), a hugetlb region whose pool runs dry is killed
        /// by `SIGBUS` on a later touch.
        public var reserve: Bool
        /// Where hugetlb pages come from; ignored by other backings.
        public var hugetlbSource: HugetlbSource
        /// Parts with their own policy, which overrides `policy` there. Each
        /// starts and ends on a multiple of the backing's page size.
        public var segments: [PolicySegment] = []

        public init(size: Int, backing: MemoryBacking = .anonymous4K, policy: MemoryPolicy = .local,
                    sharing: MemorySharing = .private, prefault: Prefault = .lazy, reserve: Bool = true,
                    hugetlbSource: HugetlbSource = .anonymous) {
            self.size = size
            self.backing = backing
            self.policy = policy
            self.sharing = sharing
            self.prefault = prefault
            self.reserve = reserve
            self.hugetlbSource = hugetlbSource
        }
    }

    private let mapping: Mapping
    /// What the region was made with.
    public let configuration: Configuration

    /// The first byte of the region.
    public var baseAddress: UnsafeMutableRawPointer { mapping.base }
    /// The size in bytes.
    public var size: Int { mapping.length }
    public var backing: MemoryBacking { configuration.backing }
    public var policy: MemoryPolicy { configuration.policy }
    /// The largest host page that can back the region: 4 KiB, 2 MiB (THP or
    /// hugetlb) or 1 GiB. The region's base and size are multiples of it.
    /// For THP it is what the kernel tries for; `verifyPlacement()` says what it got.
    public var hostPageBytes: Int { backing.pageBytes }
    /// The region's bytes.
    public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: mapping.base, count: mapping.length) }

    /// Maps, advises, places and (if asked) prefaults a region.
    /// - Throws: `GuestMemoryError`, naming the failed system call and its
    ///   errno, the missing node, the hugepages to reserve, or the bad size.
    public init(_ configuration: Configuration, host: HostMemoryEnvironment = .probe()) throws(GuestMemoryError) {
        let size = configuration.size, backing = configuration.backing, policy = configuration.policy
        guard size > 0 else { throw .zeroSize }
        guard size % backing.pageBytes == 0 else { throw .sizeNotMultiple(size: size, backing: backing) }
        try host.validate(policy)
        for segment in configuration.segments {
            guard segment.offset >= 0, segment.length > 0, segment.offset + segment.length <= size,
                  segment.offset % backing.pageBytes == 0, segment.length % backing.pageBytes == 0
            else { throw .segmentOutOfRange(offset: segment.offset, length: segment.length, size: size, backing: backing) }
            try host.validate(segment.policy)
        }
        if configuration.prefault == .mapPopulate && !configuration.segments.isEmpty {
            throw .prefaultUnsupported(.mapPopulate, backing, reason: "one MAP_POPULATE cannot follow several policies; use populate or touch")
        }
        if case let .touch(threads) = configuration.prefault, threads < 1 { throw .invalidThreadCount(threads) }
        if backing.isHugetlb {
            try Self.checkPool(configuration, host: host)
        }
        if configuration.prefault == .mapPopulate && backing == .transparentHuge {
            throw .prefaultUnsupported(.mapPopulate, backing, reason: "MADV_HUGEPAGE can only follow mmap; use populate or touch")
        }
        let mapping: Mapping
        do throws(SystemCallError) {
            if configuration.prefault == .mapPopulate && host.numa.syscallsAllowed && policy != .local {
                mapping = try Self.mapUnderThreadPolicy(configuration)
            } else {
                mapping = try Self.map(configuration)
            }
        } catch let error where error.errno == ENOMEM && backing.isHugetlb {
            throw Self.poolShortage(configuration, host: host) ?? .system(error)
        } catch {
            throw .system(error)
        }
        do throws(SystemCallError) {
            switch backing {
            case .anonymous4K: try mapping.advise(MADV_NOHUGEPAGE, name: "MADV_NOHUGEPAGE")
            case .transparentHuge: try mapping.advise(MADV_HUGEPAGE, name: "MADV_HUGEPAGE")
            case .hugetlb2M, .hugetlb1G: break
            }
            if host.numa.syscallsAllowed {
                try NUMASystemCalls.bind(mapping.base, length: size, policy: policy)
                for segment in configuration.segments {
                    try NUMASystemCalls.bind(mapping.base + segment.offset, length: segment.length, policy: segment.policy)
                }
            }
            switch configuration.prefault {
            case .lazy, .mapPopulate: break
            case .populate: try mapping.advise(MADV_POPULATE_WRITE, name: "MADV_POPULATE_WRITE")
            case let .touch(threads):
                for part in Self.touchPlan(configuration) {
                    try PrefaultThreads.touch(mapping.base + part.range.lowerBound, length: part.range.count,
                                              stride: backing.isHugetlb ? backing.pageBytes : 4096,
                                              threads: threads, nodes: host.numa.syscallsAllowed ? part.nodes : [])
                }
            }
        } catch let error where error.errno == ENOMEM && backing.isHugetlb {
            throw Self.poolShortage(configuration, host: host) ?? .system(error)
        } catch {
            throw .system(error)
        }
        self.mapping = mapping
        self.configuration = configuration
    }

    /// The parts of the region to touch, each with the nodes its touching
    /// threads are bound to: every segment, and the gaps between them under
    /// the region's policy.
    static func touchPlan(_ configuration: Configuration) -> [(range: Range<Int>, nodes: NodeSet)] {
        var plan: [(range: Range<Int>, nodes: NodeSet)] = []
        var next = 0
        for segment in configuration.segments.sorted(by: { $0.offset < $1.offset }) {
            if segment.offset > next { plan.append((next..<segment.offset, configuration.policy.nodes)) }
            if segment.range.upperBound > next {
                plan.append((max(next, segment.offset)..<segment.range.upperBound, segment.policy.nodes))
                next = segment.range.upperBound
            }
        }
        if next < configuration.size { plan.append((next..<configuration.size, configuration.policy.nodes)) }
        return plan
    }

    /// Checks the pool before mapping, when the pages must exist now: with a
    /// reservation or a prefault. A `bind` to nodes also needs them there.
    private static func checkPool(_ configuration: Configuration, host: HostMemoryEnvironment) throws(GuestMemoryError) {
        let pageBytes = configuration.backing.pageBytes
        guard let pool = host.pool(pageBytes: pageBytes) else { throw .hugepageSizeUnsupported(pageBytes: pageBytes) }
        let needed = configuration.size / pageBytes
        guard configuration.reserve || configuration.prefault != .lazy else { return }
        if pool.available < needed {
            throw .hugepagesNotReserved(pageBytes: pageBytes, needed: needed, available: pool.available, total: pool.total, node: nil)
        }
        if host.topology.nodes.count > 1, case let .bind(nodes) = configuration.policy {
            let pools = nodes.compactMap { HugepagePool.probe(pageBytes: pageBytes, node: $0) }
            let free = pools.reduce(0) { $0 + $1.free }
            if free < needed {
                throw .hugepagesNotReserved(pageBytes: pageBytes, needed: needed, available: free,
                                            total: pools.reduce(0) { $0 + $1.total }, node: nodes.count == 1 ? nodes.first : nil)
            }
        }
    }

    /// The shortage error from a fresh look at the pool, if it is short.
    private static func poolShortage(_ configuration: Configuration, host: HostMemoryEnvironment) -> GuestMemoryError? {
        let pageBytes = configuration.backing.pageBytes
        guard let pool = HugepagePool.probe(pageBytes: pageBytes) else { return nil }
        let needed = configuration.size / pageBytes
        guard pool.available < needed else { return nil }
        return .hugepagesNotReserved(pageBytes: pageBytes, needed: needed, available: pool.available, total: pool.total, node: nil)
    }

    /// Maps with `MAP_POPULATE` while the calling thread's policy is the
    /// region's, since the pages are faulted inside mmap, before mbind can
    /// apply; then restores the thread's policy. If that fails, the mapping
    /// is unmapped and the error thrown.
    /// The corresponding C function is `set_mempolicy`.
    private static func mapUnderThreadPolicy(_ configuration: Configuration) throws(SystemCallError) -> Mapping {
        let saved = try NUMASystemCalls.threadPolicy()
        try NUMASystemCalls.setThreadPolicy(mode: configuration.policy.mode, nodes: configuration.policy.nodes)
        let mapping: Mapping
        do {
            mapping = try map(configuration)
        } catch {
            try? NUMASystemCalls.setThreadPolicy(mode: saved.mode, nodes: saved.nodes)
            throw error
        }
        try NUMASystemCalls.setThreadPolicy(mode: saved.mode, nodes: saved.nodes)
        return mapping
    }

    /// Maps the range for `configuration`'s backing and sharing.
    private static func map(_ configuration: Configuration) throws(SystemCallError) -> Mapping {
        let protection = PROT_READ | PROT_WRITE
        var flags = configuration.sharing == .shared ? MAP_SHARED : MAP_PRIVATE
        if !configuration.reserve { flags |= MAP_NORESERVE }
        if configuration.prefault == .mapPopulate { flags |= MAP_POPULATE }
        let backing = configuration.backing
        switch backing {
        case .anonymous4K:
            return try Mapping(length: configuration.size, protection: protection, flags: flags | MAP_ANONYMOUS)
        case .transparentHuge:
            return try Mapping(length: configuration.size, alignment: backing.pageBytes, protection: protection,
                               flags: flags | MAP_ANONYMOUS)
        case .hugetlb2M, .hugetlb1G:
            let sizeFlag = Int32(backing.pageBytes.trailingZeroBitCount) << hugeSizeShift
            if configuration.hugetlbSource == .anonymous {
                return try Mapping(length: configuration.size, protection: protection,
                                   flags: flags | MAP_ANONYMOUS | MAP_HUGETLB | sizeFlag)
            }
            let descriptor = try systemCall("memfd_create") {
                vmemlab_memfd_create("vmemlab-guest-ram", vmemlab_MFD_CLOEXEC | vmemlab_MFD_HUGETLB | UInt32(sizeFlag))
            }
            defer { close(descriptor) }
            _ = try systemCall("ftruncate") { ftruncate(descriptor, off_t(configuration.size)) }
            return try Mapping(length: configuration.size, protection: protection, flags: flags, descriptor: descriptor)
        }
    }

    /// Where `MAP_HUGETLB` and `MFD_HUGETLB` take log2 of the page size
    /// (`MAP_HUGE_SHIFT`, `MFD_HUGE_SHIFT`).
    private static let hugeSizeShift: Int32 = 26
}

extension GuestMemoryRegion {
    /// Writes one byte into every page of the region (every 4 KiB, or every
    /// hugetlb page) from `threads` threads bound round-robin to the nodes of
    /// the policy of each part (see `segments`), faulting in whatever is not
    /// yet present.
    public func touch(threads: Int = 1) throws(GuestMemoryError) {
        guard threads >= 1 else { throw .invalidThreadCount(threads) }
        do {
            for part in Self.touchPlan(configuration) {
                try PrefaultThreads.touch(baseAddress + part.range.lowerBound, length: part.range.count,
                                          stride: backing.isHugetlb ? backing.pageBytes : 4096, threads: threads, nodes: part.nodes)
            }
        } catch {
            throw .system(error)
        }
    }
}
