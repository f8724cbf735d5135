import ArgumentParser
import Foundation
import Testing
@testable import VMemLabCommands

func run(_ arguments: [String]) throws {
    var command = try VMemLab.parseAsRoot(arguments)
    try command.run()
}

func scratch(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("vmemlab-sim-\(ProcessInfo.processInfo.processIdentifier)-\(name)").path
}

@Suite("vmemlab simulate")
struct SimulateCommandTests {
    static let config = """
        [[level]]
        name = "L1D"
        entries = 64
        ways = 4
        replacement = "lru"
        page_sizes = ["4K"]
        """

    @Test("a workload runs and writes CSV", arguments: ["native", "nested", "shadow"])
    func runs(paging: String) throws {
        let tlb = scratch("ok-\(paging).toml"), csv = scratch("out-\(paging).csv")
        defer { for path in [tlb, csv] { try? FileManager.default.removeItem(atPath: path) } }
        try Self.config.write(toFile: tlb, atomically: true, encoding: .utf8)
        try run(["simulate", "--workload", "uniform", "--footprint", "1M", "--accesses", "5000", "--tlb", tlb,
                 "--paging", paging, "--guest-page", "2M", "--json", "--csv", csv])
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(text.hasPrefix("paging,guest_page,host_page,accesses,L1D_hits,L1D_misses,walks,walk_refs"))
        #expect(text.contains("\(paging),2M,"))
    }

    @Test("bad input gives an error, not a crash", arguments: [
        (["--workload", "uniform", "--tlb-preset", "pentium"], "unknown TLB preset 'pentium'"),
        (["--workload", "uniform", "--tlb-preset", "zen4", "--guest-page", "8K"], "unknown page size '8K'"),
        (["--workload", "teleport", "--tlb-preset", "zen4"], "unknown workload 'teleport'"),
        (["--workload", "uniform"], "--tlb"),
        (["--tlb-preset", "zen4"], "--workload"),
        (["--trace", "x", "--tlb-preset", "zen4"], "--trace-format"),
        (["--trace", "x", "--trace-format", "pdf", "--tlb-preset", "zen4"], "unknown trace format 'pdf'"),
        (["--workload", "uniform", "--tlb-preset", "zen4", "--paging", "sideways"], "unknown paging mode"),
    ])
    func badArguments(arguments: [String], message: String) {
        do {
            try run(["simulate"] + arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            let text = VMemLab.message(for: error) + "\(error)"
            #expect(text.contains(message), "\(text)")
            #expect(VMemLab.exitCode(for: error) != .success)
        }
    }

    @Test("bad files give an error naming the problem", arguments: [
        ("tlb", "[[level]]\nname = \"L1\"\nentries = 10\nways = 4", "not divisible by ways"),
        ("tlb", "[[level]]\nname = \"L1\"\nentries = 64\nways = 4\nspeed = 3", "unknown key 'speed'"),
        ("tlb", "[[level]\n", "invalid TOML"),
        ("tlb", "[[level]]\nentries = 64\nways = 4\npage_sizes = [\"3K\"]", "unknown page size"),
        ("raw64", "12345", "not a multiple of 8"),
        ("lackey", "I  0400,3\n L 12g4,8\n", ":2:"),
    ])
    func badFiles(kind: String, content: String, message: String) throws {
        let path = scratch("bad-\(kind)-\(abs(content.hashValue))")
        let tlb = scratch("good-\(abs(content.hashValue)).toml")
        defer { for file in [path, tlb] { try? FileManager.default.removeItem(atPath: file) } }
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        try Self.config.write(toFile: tlb, atomically: true, encoding: .utf8)
        let arguments = kind == "tlb"
            ? ["simulate", "--workload", "uniform", "--accesses", "10", "--tlb", path]
            : ["simulate", "--trace", path, "--trace-format", kind, "--tlb", tlb]
        do {
            try run(arguments)
            Issue.record("accepted \(kind): \(content)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
            #expect(VMemLab.exitCode(for: error) != .success)
        }
    }
}
