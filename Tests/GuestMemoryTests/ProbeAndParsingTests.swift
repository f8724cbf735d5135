import Glibc
import Testing
@testable import GuestMemory

struct ProbeAndParsingTests {
    @Test("node lists parse as numactl writes them",
          arguments: [("0", [0]), ("0,2", [0, 2]), ("0-3,6", [0, 1, 2, 3, 6]), (" 1 - 2 ", [1, 2]), ("", []), ("3,1,3", [1, 3])])
    func nodeLists(text: String, nodes: [Int]) throws {
        #expect(try NodeSet(parsing: text).nodes == nodes)
    }

    @Test("bad node lists name the bad part", arguments: ["x", "1-", "3-1", "-1", "0,,1", "1.5"])
    func badNodeLists(text: String) {
        #expect(throws: NodeListError.self) { try NodeSet(parsing: text) }
    }

    @Test("node sets print compactly and become kernel masks")
    func nodeSetForms() {
        #expect(NodeSet([6, 0, 1, 2, 3]).description == "0-3,6")
        #expect(NodeSet([0, 65]).mask(words: 2) == [1, 2])
        #expect(NodeSet([200]).mask(words: 1) == [0])
    }

    @Test("sizes parse with binary suffixes",
          arguments: [("4096", 4096), ("64K", 64 << 10), ("64M", 64 << 20), ("2G", 2 << 30), ("2g", 2 << 30), ("1GiB", 1 << 30), ("3MB", 3 << 20)])
    func sizes(text: String, bytes: Int) {
        #expect(ByteCount(parsing: text)?.bytes == bytes)
    }

    @Test("bad sizes do not parse", arguments: ["", "M", "-1M", "1.5G", "12Q", "99999999999999999999G", "١M"])
    func badSizes(text: String) { #expect(ByteCount(parsing: text) == nil) }

    @Test("a positive size parses as a count does, and zero is refused")
    func positiveSizes() {
        #expect(ByteCount.positive(parsing: "64MiB") == 64 << 20)
        #expect(ByteCount.positive(parsing: " 4K ") == 4096)
        #expect(ByteCount.positive(parsing: "0") == nil)
        #expect(ByteCount.positive(parsing: "0K") == nil)
        #expect(ByteCount.positive(parsing: "0x1000") == nil)
    }

    @Test("sizes print with the largest exact suffix")
    func sizeText() {
        #expect(ByteCount(64 << 20).description == "64M")
        #expect(ByteCount(4097).description == "4097")
        #expect(ByteCount(0).description == "0")
    }

    @Test("smaps entries parse, with kB converted to bytes")
    func smaps() {
        let text = """
            7f0000000000-7f0000400000 rw-p 00000000 00:00 0
            Size:               4096 kB
            KernelPageSize:        4 kB
            AnonHugePages:      2048 kB
            VmFlags: rd wr mr mw me ac hg
            7f0000400000-7f0000600000 rw-s 00000000 00:0f 1234    /anon_hugepage (deleted)
            KernelPageSize:     2048 kB
            Shared_Hugetlb:     2048 kB
            """
        let entries = SmapsEntry.parse(text)
        #expect(entries.count == 2)
        #expect(entries[0]["AnonHugePages"] == 2 << 20)
        #expect(entries[1]["KernelPageSize"] == 2 << 20)
        #expect(entries[1].start == 0x7f00_0040_0000)
        #expect(SmapsEntry.overlapping(entries, start: 0x7f00_0040_0000, end: 0x7f00_0050_0000).count == 1)
    }

    @Test("the THP mode is the bracketed word")
    func thpMode() {
        #expect(TransparentHugepageSettings.selected(in: "always [madvise] never\n") == "madvise")
        #expect(TransparentHugepageSettings.selected(in: "never") == "never")
    }

    @Test("the NUMA probe reads EPERM and ENOSYS as no NUMA", arguments: [EPERM, ENOSYS])
    func deniedProbe(code: Int32) {
        let support = NUMASupport(probeFailure: SystemCallError(call: "get_mempolicy", errno: code))
        #expect(!support.syscallsAllowed)
        #expect(support.reason?.contains(SystemCallError.name(ofErrno: code)) == true)
        #expect(throws: GuestMemoryError.self) { try support.requireSyscalls() }
        #expect(NUMASupport(probeFailure: nil).syscallsAllowed)
    }

    @Test("the host probe finds node 0 with CPUs and memory, its distance and the hugepage pools")
    func hostProbe() throws {
        let host = HostMemoryEnvironment.probe()
        let zero = try #require(host.topology.nodes.first { $0.id == 0 })
        #expect(!zero.cpus.isEmpty)
        #expect(zero.memoryBytes > 0)
        #expect(try host.topology.distance(from: 0, to: 0) == 10)
        #expect(host.basePageBytes == 4096)
        #expect(["always", "madvise", "never", "unsupported"].contains(host.transparentHugepages.mode))
        if access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) == 0 {
            let pool = try #require(host.pool(pageBytes: 2 << 20))
            #expect(pool.free <= pool.total + pool.surplus)
        }
    }
}
