import Glibc
import Testing
@testable import GuestMemory

/// Bad input and missing facilities: each is a typed error with a message
/// that names the problem, and nothing is mapped.
struct GuestMemoryErrorTests {
    static let host = HostMemoryEnvironment.probe()

    func failure(_ configuration: GuestMemoryRegion.Configuration, host: HostMemoryEnvironment = host) -> GuestMemoryError? {
        do {
            _ = try GuestMemoryRegion(configuration, host: host)
            return nil
        } catch {
            return error
        }
    }

    @Test("a node that does not exist is named")
    func missingNode() {
        let error = failure(.init(size: 1 << 20, policy: .bind([7])))
        #expect(error == .noSuchNode(7, available: Self.host.topology.memoryNodeIDs))
        #expect(error?.description.contains("node 7") == true)
    }

    @Test("a size that is not a multiple of the page size",
          arguments: [(MemoryBacking.anonymous4K, 4097), (.transparentHuge, 3 << 20), (.hugetlb2M, 1 << 20), (.hugetlb1G, 512 << 20)])
    func badSize(backing: MemoryBacking, size: Int) {
        let error = failure(.init(size: size, backing: backing))
        #expect(error == .sizeNotMultiple(size: size, backing: backing))
        #expect(error?.description.contains("not a multiple") == true)
    }

    @Test("a zero size")
    func zeroSize() { #expect(failure(.init(size: 0)) == .zeroSize) }

    @Test("unreserved hugepages: the error says how many and how to reserve them")
    func unreserved() {
        var host = Self.host
        host.hugepagePools = [HugepagePool(pageBytes: 2 << 20, total: 1, free: 1)]
        let error = failure(.init(size: 8 << 20, backing: .hugetlb2M), host: host)
        #expect(error == .hugepagesNotReserved(pageBytes: 2 << 20, needed: 4, available: 1, total: 1, node: nil))
        let message = error?.description ?? ""
        #expect(message.contains("needs 4 free 2M hugepages"))
        #expect(message.contains("echo 4 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"))
    }

    @Test("a hugepage size the kernel lacks")
    func missingPool() {
        var host = Self.host
        host.hugepagePools = []
        #expect(failure(.init(size: 1 << 30, backing: .hugetlb1G), host: host) == .hugepageSizeUnsupported(pageBytes: 1 << 30))
    }

    @Test("EPERM from the NUMA calls means no NUMA: policies fail, local still works")
    func deniedNUMA() throws {
        var host = Self.host
        host.numa = NUMASupport(probeFailure: SystemCallError(call: "get_mempolicy", errno: EPERM))
        #expect(!host.numa.syscallsAllowed)
        let error = failure(.init(size: 1 << 20, policy: .bind([0])), host: host)
        guard case let .numaUnavailable(reason) = error else {
            Issue.record("expected numaUnavailable, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("EPERM"))
        let region = try GuestMemoryRegion(.init(size: 1 << 20, prefault: .touch(threads: 1)), host: host)
        #expect(region.size == 1 << 20)
    }

    @Test("policies take the right number of nodes",
          arguments: [(MemoryPolicy.Kind.local, [0]), (.preferred, []), (.preferred, [0, 1]), (.bind, []), (.interleave, [])] as [(MemoryPolicy.Kind, [Int])])
    func policyNodeCounts(kind: MemoryPolicy.Kind, nodes: [Int]) {
        #expect(throws: GuestMemoryError.self) { _ = try kind.policy(nodes: NodeSet(nodes)) }
    }

    @Test("a prefault with no threads")
    func noThreads() { #expect(failure(.init(size: 1 << 20, prefault: .touch(threads: 0))) == .invalidThreadCount(0)) }

    @Test("system call errors name the call and the errno")
    func systemCallMessage() {
        let error = SystemCallError(call: "mbind", errno: EPERM)
        #expect(error.description == "mbind: EPERM (Operation not permitted)")
        #expect(SystemCallError.name(ofErrno: 9999) == "errno 9999")
    }
}
