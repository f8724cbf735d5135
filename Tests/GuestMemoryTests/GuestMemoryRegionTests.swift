import Glibc
import Testing
@testable import GuestMemory

/// Real allocations on this host. Serialized: some tests resize the
/// hugetlb pool and some look for leftover mappings.
@Suite(.serialized)
struct GuestMemoryRegionTests {
    static let host = HostMemoryEnvironment.probe()
    static var numaAllowed: Bool { host.numa.syscallsAllowed }
    static var thpAvailable: Bool { ["always", "madvise"].contains(host.transparentHugepages.mode) }

    @Test("bind to node 0 puts every page on node 0",
          .enabled(if: numaAllowed, "needs the NUMA system calls"),
          arguments: [MemoryBacking.anonymous4K, .transparentHuge], [Prefault.populate, .touch(threads: 2)])
    func bindNodeZero(backing: MemoryBacking, prefault: Prefault) throws {
        let region = try GuestMemoryRegion(.init(size: 8 << 20, backing: backing, policy: .bind([0]), prefault: prefault),
                                           host: Self.host)
        let report = try region.verifyPlacement()
        #expect(report.pages == 2048)
        #expect(report.allPages(on: 0), "pages by node: \(report.pagesPerNode), not present: \(report.pagesNotPresent)")
        #expect(try region.node(ofByte: 4096 * 77) == 0)
    }

    @Test("every policy kind places a touched region on the only node",
          .enabled(if: numaAllowed, "needs the NUMA system calls"),
          arguments: [MemoryPolicy.local, .bind([0]), .interleave([0]), .preferred(0), .weightedInterleave([0])])
    func policies(policy: MemoryPolicy) throws {
        if policy.kind == .weightedInterleave && !Self.host.numa.weightedInterleave {
            #expect(throws: GuestMemoryError.self) { _ = try GuestMemoryRegion(.init(size: 1 << 20, policy: policy), host: Self.host) }
            return
        }
        let region = try GuestMemoryRegion(.init(size: 1 << 20, policy: policy, sharing: .shared, prefault: .populate), host: Self.host)
        let report = try region.verifyPlacement()
        #expect(report.allPages(on: 0))
    }

    static let allPolicies: [MemoryPolicy] = [.local, .bind([0]), .interleave([0]), .preferred(0), .weightedInterleave([0])]

    /// Checks a touched region of `backing` under `policy`: every page on node 0, and the backing's page size.
    static func verifyOnNodeZero(backing: MemoryBacking, policy: MemoryPolicy) throws {
        if policy.kind == .weightedInterleave && !host.numa.weightedInterleave { return }
        let region = try GuestMemoryRegion(.init(size: 4 << 20, backing: backing, policy: policy, prefault: .touch(threads: 2)),
                                           host: .probe())
        let report = try region.verifyPlacement()
        #expect(report.allPages(on: 0), "\(backing) \(policy): \(report.pagesPerNode)")
        switch backing {
        case .anonymous4K: #expect(report.hugePageBytes == 0)
        case .transparentHuge: #expect(thpAvailable ? report.transparentHugeBytes > 0 : report.hugePageBytes == 0)
        case .hugetlb2M, .hugetlb1G: #expect(report.hugetlbBytes == 4 << 20 && report.kernelPageBytes == backing.pageBytes)
        }
    }

    @Test("every policy with the 4K and THP backings", .enabled(if: numaAllowed, "needs the NUMA system calls"),
          arguments: [MemoryBacking.anonymous4K, .transparentHuge], allPolicies)
    func anonymousBackings(backing: MemoryBacking, policy: MemoryPolicy) throws {
        try Self.verifyOnNodeZero(backing: backing, policy: policy)
    }

    @Test("every policy with the hugetlb 2M backing",
          .enabled(if: numaAllowed && HugepageReservation.possible(), "needs the NUMA system calls and root to reserve 2M hugepages"),
          arguments: allPolicies)
    func hugetlbPolicies(policy: MemoryPolicy) throws {
        try HugepageReservation.with(pages: 2) { try Self.verifyOnNodeZero(backing: .hugetlb2M, policy: policy) }
    }

    @Test("a THP region gets AnonHugePages > 0",
          .enabled(if: thpAvailable, "needs transparent huge pages in mode always or madvise"))
    func transparentHugePages() throws {
        let region = try GuestMemoryRegion(.init(size: 16 << 20, backing: .transparentHuge, prefault: .populate), host: Self.host)
        #expect(UInt(bitPattern: region.baseAddress) % UInt(2 << 20) == 0)
        let report = try region.verifyPlacement()
        #expect(report.transparentHugeBytes > 0)
        #expect(report.hugePageCoverage > 0)
        #expect(report.hugetlbBytes == 0)
    }

    @Test("a 4K region gets no huge pages and is 4K-mapped")
    func smallPages() throws {
        let region = try GuestMemoryRegion(.init(size: 8 << 20, backing: .anonymous4K, prefault: .touch(threads: 2)), host: Self.host)
        let report = try region.verifyPlacement()
        #expect(report.hugePageBytes == 0)
        #expect(report.kernelPageBytes == 4096)
        #expect(report.residentBytes >= 8 << 20)
    }

    @Test("a lazy region has no page present")
    func lazy() throws {
        let region = try GuestMemoryRegion(.init(size: 1 << 20), host: Self.host)
        let report = try region.verifyPlacement()
        #expect(report.pagesNotPresent == report.pages)
        #expect(report.placedPages == 0)
    }

    @Test("a hugetlb 2M region gets KernelPageSize 2048 kB",
          .enabled(if: HugepageReservation.possible(), "needs root to reserve 2M hugepages through /sys/kernel/mm/hugepages"),
          arguments: HugetlbSource.allCases, [MemorySharing.private, .shared])
    func hugetlb2M(source: HugetlbSource, sharing: MemorySharing) throws {
        try HugepageReservation.with(pages: 4) {
            let region = try GuestMemoryRegion(
                .init(size: 8 << 20, backing: .hugetlb2M, policy: Self.numaAllowed ? .bind([0]) : .local, sharing: sharing,
                      prefault: .touch(threads: 2), hugetlbSource: source),
                host: .probe())
            let report = try region.verifyPlacement()
            #expect(report.kernelPageBytes == 2048 * 1024)
            #expect(report.hugetlbBytes == 8 << 20)
            #expect(report.hugePageCoverage == 1)
            if Self.numaAllowed { #expect(report.allPages(on: 0)) }
        }
    }

    @Test("MAP_POPULATE under the thread's policy places every page and restores the thread's policy",
          .enabled(if: numaAllowed, "needs the NUMA system calls"))
    func mapPopulate() throws {
        let before = try MemoryPolicy.currentThreadPolicy()
        let region = try GuestMemoryRegion(.init(size: 4 << 20, policy: .bind([0]), prefault: .mapPopulate), host: Self.host)
        let report = try region.verifyPlacement()
        #expect(report.allPages(on: 0))
        #expect(report.pagesNotPresent == 0)
        let after = try MemoryPolicy.currentThreadPolicy()
        #expect(after.mode == before.mode && after.nodes == before.nodes)
    }

    @Test("MAP_POPULATE is refused for THP, which needs its advice before the faults")
    func mapPopulateTHP() {
        #expect(throws: GuestMemoryError.prefaultUnsupported(.mapPopulate, .transparentHuge,
                                                             reason: "MADV_HUGEPAGE can only follow mmap; use populate or touch")) {
            _ = try GuestMemoryRegion(.init(size: 4 << 20, backing: .transparentHuge, prefault: .mapPopulate), host: Self.host)
        }
    }

    @Test("a hugetlb 2M region can be prefaulted by MAP_POPULATE or MADV_POPULATE_WRITE",
          .enabled(if: HugepageReservation.possible(), "needs root to reserve 2M hugepages through /sys/kernel/mm/hugepages"),
          arguments: [Prefault.mapPopulate, .populate])
    func hugetlbPopulate(prefault: Prefault) throws {
        try HugepageReservation.with(pages: 2) {
            let region = try GuestMemoryRegion(
                .init(size: 4 << 20, backing: .hugetlb2M, policy: Self.numaAllowed ? .bind([0]) : .local, prefault: prefault),
                host: .probe())
            let report = try region.verifyPlacement()
            #expect(report.hugetlbBytes == 4 << 20)
            #expect(report.pagesNotPresent == 0)
        }
    }

    @Test("a hugetlb 1G region gets KernelPageSize 1048576 kB",
          .enabled("needs root and a free 1G page (the kernel must find 1 GiB of contiguous memory)") {
              HugepageReservation.canReserve(pages: 1, pageBytes: 1 << 30)
          })
    func hugetlb1G() throws {
        try HugepageReservation.with(pages: 1, pageBytes: 1 << 30) {
            let region = try GuestMemoryRegion(
                .init(size: 1 << 30, backing: .hugetlb1G, policy: Self.numaAllowed ? .bind([0]) : .local, prefault: .populate),
                host: .probe())
            #expect(UInt(bitPattern: region.baseAddress) % UInt(1 << 30) == 0)
            let report = try region.verifyPlacement()
            #expect(report.kernelPageBytes == 1 << 30)
            #expect(report.hugetlbBytes == 1 << 30)
            if Self.numaAllowed { #expect(report.allPages(on: 0)) }
        }
    }

    @Test("a region is unmapped when it goes away")
    func unmapsOnDeinit() throws {
        var base: UnsafeMutableRawPointer?
        do {
            let region = try GuestMemoryRegion(.init(size: 3 << 20, prefault: .populate), host: Self.host)
            base = region.baseAddress
            #expect(msync(region.baseAddress, region.size, MS_ASYNC) == 0)
        }
        #expect(msync(base, 3 << 20, MS_ASYNC) == -1 && errno == ENOMEM)
    }

    @Test("a failure after mmap leaves nothing mapped", .enabled(if: numaAllowed, "needs the NUMA system calls"))
    func cleanupAfterFailure() throws {
        // A host that claims node 1, so validation passes and mbind fails in the kernel.
        var host = Self.host
        host.topology = try .synthetic(nodeCount: 2)
        let size = 7 << 21  // an unusual size, to find a leftover by its length
        #expect {
            _ = try GuestMemoryRegion(.init(size: size, backing: .transparentHuge, policy: .bind([1])), host: host)
        } throws: { error in
            guard case let .system(failure) = error as? GuestMemoryError else { return false }
            return failure.call == "mbind" && failure.errnoName == "EINVAL"
        }
        let maps = try SystemFiles.read("/proc/self/maps")
        let lengths = SmapsEntry.parse(maps).map { $0.end - $0.start }
        #expect(!lengths.contains(UInt(size)) && !lengths.contains(UInt(size + (2 << 20))))
    }

    @Test("a thread policy can be set and restored", .enabled(if: numaAllowed, "needs the NUMA system calls"))
    func threadPolicy() throws {
        try MemoryPolicy.bind([0]).applyToCurrentThread()
        defer { try? MemoryPolicy.local.applyToCurrentThread() }
        let current = try MemoryPolicy.currentThreadPolicy()
        #expect(current.mode == MemoryPolicy.Kind.bind.mode)
        #expect(current.nodes == [0])
        try MemoryPolicy.local.applyToCurrentThread()
        #expect(try MemoryPolicy.currentThreadPolicy().mode == 0)
    }
}
