import Testing
import Translation
import Workloads

@Suite("GuestOSTrace: the event-trace format")
struct GuestOSTraceTests {
    @Test("every event kind parses, with comments, blank lines, hex and unit suffixes")
    func parsesEveryKind() throws {
        let events = try GuestOSTrace.parse("""
            # a small session
            spawn 1
            mmap 1 0x400000 64K rw        # heap
            mmap 1 0x40000000 4M r 2M

            access 1 0x400010 w
            access 1 4194320 r
            fault 1 0x401000
            mprotect 1 0x400000 4K r
            fork 1 2
            switch 2
            munmap 2 0x400000 0x10000
            exit 2
            """)
        #expect(events == [
            .spawn(1),
            .mmap(1, start: 0x40_0000, length: 0x1_0000, writable: true, pageSize: .size4K),
            .mmap(1, start: 0x4000_0000, length: 4 << 20, writable: false, pageSize: .size2M),
            .access(1, address: 0x40_0010, .write),
            .access(1, address: 0x40_0010, .read),
            .fault(1, address: 0x40_1000),
            .mprotect(1, start: 0x40_0000, length: 0x1000, writable: false),
            .fork(parent: 1, child: 2),
            .contextSwitch(2),
            .munmap(2, start: 0x40_0000, length: 0x1_0000),
            .exit(2),
        ])
    }

    @Test("format and parse round-trip a generated workload", arguments: GuestOSWorkload.allCases)
    func roundTrip(_ workload: GuestOSWorkload) throws {
        let events = workload.events(GuestOSWorkloadOptions(seed: 3, events: 500, footprintBytes: 4 << 20, updateRatio: 0.5))
        #expect(try GuestOSTrace.parse(GuestOSTrace.format(events)) == events)
    }

    @Test("bad lines are reported with their line number", arguments: [
        ("spawn 1\nbogus 1\n", GuestOSTraceError.malformed(line: 2, text: "bogus 1", reason: "unknown event 'bogus'")),
        ("spawn 1\naccess 1 0x1000\n", .malformed(line: 2, text: "access 1 0x1000", reason: "'access' takes 3 fields, not 2")),
        ("spawn 1\n\naccess 1 0xzz r\n", .malformed(line: 3, text: "access 1 0xzz r", reason: "'0xzz' is not a valid address")),
        ("spawn 1\naccess 1 0x1000 q\n", .malformed(line: 2, text: "access 1 0x1000 q", reason: "access type 'q' is not r, w or x")),
        ("spawn 1\nmmap 1 0x1001 4K rw\n", .malformed(line: 2, text: "mmap 1 0x1001 4K rw", reason: "the range is not 4K-aligned")),
        ("spawn 1\nmmap 1 0x1000 4K rw 2M\n", .malformed(line: 2, text: "mmap 1 0x1000 4K rw 2M", reason: "the range is not aligned to its 2M pages")),
        ("spawn 1\nmmap 1 0x1000 4K rwx\n", .malformed(line: 2, text: "mmap 1 0x1000 4K rwx", reason: "protection 'rwx' is not r or rw")),
        ("spawn 1\nmmap 1 0x1000 4K rw 3M\n", .malformed(line: 2, text: "mmap 1 0x1000 4K rw 3M", reason: "page size '3M' is not 4K, 2M or 1G")),
        ("spawn x\n", .malformed(line: 1, text: "spawn x", reason: "'x' is not a process id")),
        ("spawn 1\naccess 2 0x1000 r\n", .unknownProcess(line: 2, process: 2)),
        ("spawn 1\nexit 1\nswitch 1\n", .unknownProcess(line: 3, process: 1)),
        ("spawn 1\nfork 1 1\n", .malformed(line: 2, text: "fork 1 1", reason: "a process cannot fork itself")),
        ("spawn 1\nspawn 2\nfork 1 2\n", .duplicateProcess(line: 3, process: 2)),
        ("spawn 1\nspawn 1\n", .duplicateProcess(line: 2, process: 1)),
    ])
    func badInput(_ text: String, _ expected: GuestOSTraceError) {
        #expect(throws: expected) { try GuestOSTrace.parse(text) }
        #expect(expected.description.hasPrefix("line "))
    }

    @Test("generators are deterministic from the seed", arguments: GuestOSWorkload.allCases)
    func deterministic(_ workload: GuestOSWorkload) {
        let options = GuestOSWorkloadOptions(seed: 11, events: 2_000, footprintBytes: 1 << 20, updateRatio: 0.1)
        var other = options
        other.seed = 12
        #expect(workload.events(options) == workload.events(options))
        if workload != .faultStorm {
            #expect(workload.events(options) != workload.events(other))
        }
    }

    @Test("mixed: the update ratio sets how many fresh pages are faulted per GUPS access", arguments: [0.0, 0.01, 0.1, 1.0])
    func mixedRatio(_ ratio: Double) {
        let events = GuestOSWorkload.mixed.events(GuestOSWorkloadOptions(seed: 1, events: 20_000, footprintBytes: 1 << 20, updateRatio: ratio))
        var gups = 0, fresh = 0
        // After the spawn, the mmap and one first touch per page.
        for case let .access(_, address, _) in events.dropFirst(2 + 256) {
            if address >= GuestOSWorkload.churnBase { fresh += 1 } else { gups += 1 }
        }
        #expect(abs(Double(fresh) - ratio * Double(gups)) <= 1)
    }
}
