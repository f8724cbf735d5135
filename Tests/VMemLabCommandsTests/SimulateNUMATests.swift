import ArgumentParser
import Foundation
import TLB
import Testing
import Translation
import Workloads
@testable import VMemLabCommands

@Suite("vmemlab simulate with NUMA placement")
struct SimulateNUMATests {
    static let workload = ["simulate", "--workload", "gups", "--footprint", "1G", "--accesses", "20000",
                           "--tlb-preset", "zen4", "--json"]

    /// The report of `simulate` with `arguments`.
    static func report(_ arguments: [String]) throws -> SimulationReport {
        let command = try VMemLab.parseAsRoot(arguments)
        guard let simulate = command as? SimulateCommand else { throw CommandFailure("not simulate: \(arguments)") }
        return try simulate.simulationReport()
    }

    /// The JSON object of `simulate` with `arguments`.
    static func object(_ arguments: [String]) throws -> [String: Any] {
        let data = Data(try report(arguments).json().utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func number(_ object: [String: Any], _ key: String) -> Double {
        ((object[key] ?? (object["numa"] as? [String: Any])?[key]) as? NSNumber)?.doubleValue ?? .nan
    }

    @Test("remote page tables cost more than local, replicated as much as local, interference more still",
          arguments: ["native", "nested"])
    func placements(paging: String) throws {
        let base = Self.workload + ["--paging", paging, "--numa-nodes", "4"]
        let local = try Self.object(base + ["--pt-placement", "local"])
        let remote = try Self.object(base + ["--pt-placement", "remote"])
        let replicated = try Self.object(base + ["--pt-placement", "replicated"])
        let interfered = try Self.object(base + ["--pt-placement", "remote", "--interference-nodes", "2"])
        let dram = (local["pte_line_hits"] as? [String: Any])?["dram"] as? NSNumber
        #expect((dram?.doubleValue ?? 0) > 0)
        // The counts do not move; only the price of DRAM references does.
        for key in ["walks", "walk_refs", "walk_refs_made"] {
            #expect(Self.number(local, key) == Self.number(remote, key))
        }
        #expect(Self.number(local, "walk_remote_refs") == 0)
        #expect(Self.number(local, "walk_local_refs") == dram?.doubleValue)
        #expect(Self.number(remote, "walk_local_refs") == 0)
        #expect(Self.number(remote, "walk_remote_refs") == dram?.doubleValue)
        #expect((remote["numa"] as? [String: Any])?["pt_placement"] as? String == "remote")
        #expect(Self.number(remote, "pt_node") == 2)  // opposite corner of the 4-node ring
        #expect(Self.number(remote, "walk_cycles") > Self.number(local, "walk_cycles"))
        #expect(Self.number(remote, "predicted_cycles") > Self.number(local, "predicted_cycles"))
        #expect(Self.number(replicated, "walk_cycles") == Self.number(local, "walk_cycles"))
        #expect(Self.number(interfered, "walk_cycles") > Self.number(remote, "walk_cycles"))
        // The difference is exactly the DRAM references times the latency gap (31 vs 10, 250-cycle local DRAM).
        let gap = (Self.number(remote, "walk_numa_cycles") - Self.number(local, "walk_numa_cycles"))
        #expect(abs(gap - (dram?.doubleValue ?? 0) * 250 * 2.1) < 1e-6 * gap)
        #expect(abs((Self.number(remote, "walk_cycles") - Self.number(local, "walk_cycles")) - gap) < 1e-6 * gap)
    }

    @Test("2M pages shrink the cost of remote page tables")
    func largePages() throws {
        func penalty(_ page: String) throws -> Double {
            let base = Self.workload + ["--numa-nodes", "2", "--guest-page", page]
            return try Self.number(Self.object(base + ["--pt-placement", "remote"]), "walk_cycles")
                - Self.number(Self.object(base + ["--pt-placement", "local"]), "walk_cycles")
        }
        let small = try penalty("4K"), large = try penalty("2M")
        #expect(small > 0)
        #expect(large < small)
    }

    @Test("data accesses that miss the data-line model cost the latency to the data node, interference included")
    func data() throws {
        let base = Self.workload + ["--numa-nodes", "2"]
        let local = try Self.object(base)
        let remote = try Self.object(base + ["--data-node", "1"])
        let busy = try Self.object(base + ["--data-node", "1", "--interference-nodes", "1", "--interference-factor", "3"])
        let misses = Self.number(local, "data_memory_accesses")
        #expect(misses > 0 && misses <= 20000)
        #expect(Self.number(remote, "data_memory_accesses") == misses)
        #expect(Self.number(local, "data_cycles") == misses * 250)
        #expect(abs(Self.number(remote, "data_cycles") - misses * 250 * 2.1) < 1e-6 * misses * 250)
        #expect(abs(Self.number(busy, "data_cycles") - misses * 250 * 2.1 * 3) < 1e-6 * misses * 250)
        #expect(Self.number(remote, "walk_cycles") == Self.number(local, "walk_cycles"))
    }

    @Test("a footprint that fits the LLC reaches memory once per line")
    func dataFitsCache() throws {
        let small = try Self.object(["simulate", "--workload", "uniform", "--footprint", "1M", "--accesses", "100000",
                                     "--tlb-preset", "zen4", "--json", "--numa-nodes", "2"])
        let misses = Self.number(small, "data_memory_accesses")
        #expect(misses > 0 && misses <= Double((1 << 20) / 64))
    }

    @Test("a trace goes through the data-line model too: each distinct line reaches memory once")
    func trace() throws {
        let path = scratch("numa-trace.raw64")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // 3 passes over 100 lines of 64 bytes, two accesses per line.
        var addresses: [UInt64] = []
        for _ in 0..<3 { for line in 0..<100 { addresses += [0x4000_0000 + UInt64(line) * 64, 0x4000_0000 + UInt64(line) * 64 + 8] } }
        let data = addresses.withUnsafeBufferPointer { Data(buffer: $0) }
        try data.write(to: URL(fileURLWithPath: path))
        let object = try Self.object(["simulate", "--trace", path, "--trace-format", "raw64", "--tlb-preset", "zen4",
                                      "--numa-nodes", "2", "--data-node", "1"])
        #expect(Self.number(object, "accesses") == 600)
        #expect(Self.number(object, "data_memory_accesses") == 100)
        #expect(abs(Self.number(object, "data_cycles") - 100 * 525) < 1e-6)
    }

    @Test("without NUMA options the report is the plain simulation's, and one local node prices DRAM as before")
    func unchanged() throws {
        let plain = try Self.report(Self.workload)
        #expect(plain.numa == nil)
        let statistics = try SimulationWorkload(name: "gups", region: WorkloadRegion(bytes: 1 << 30, accesses: 20000),
                                                stride: 4096, zipfExponent: 1, seed: 42)
            .simulate(try TLBPreset.named("zen4"), .native, .size4K, .size4K)
        let direct = SimulationReport(statistics: statistics, paging: "native", guestPage: .size4K, hostPage: .size4K)
        #expect(try plain.json() == direct.json())
        #expect(!(try plain.json()).contains("numa"))
        let single = try Self.object(Self.workload + ["--numa-nodes", "1"])
        let before = try Self.object(Self.workload)
        #expect(Self.number(single, "walk_cycles") == Self.number(before, "walk_cycles"))
        #expect(Self.number(single, "predicted_cycles") == Self.number(before, "predicted_cycles"))
    }

    @Test("bad NUMA input names the problem", arguments: [
        (["--numa-nodes", "2", "--data-node", "7"], "node 7"),
        (["--numa-nodes", "2", "--cpu-node", "3"], "node 3"),
        (["--numa-nodes", "4", "--pt-placement", "node:5"], "node 5"),
        (["--numa-nodes", "2", "--interference-nodes", "6"], "node 6"),
        (["--numa-nodes", "9"], "from 1 to 8"),
        (["--numa-nodes", "2", "--pt-placement", "sideways"], "local, remote, replicated or node:K"),
        (["--numa-nodes", "1", "--pt-placement", "remote"], "second node"),
        (["--data-node", "1"], "--numa-nodes"),
        (["--guest-workload", "gups", "--numa-nodes", "2"], "not --guest-workload"),
        (["--numa-nodes", "2", "--interference-factor", "0.5"], "--interference-factor"),
    ])
    func badInput(arguments: [String], message: String) {
        do {
            _ = try Self.report(Self.workload + arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            let text = VMemLab.message(for: error) + "\(error)"
            #expect(text.contains(message), "\(text)")
            #expect(VMemLab.exitCode(for: error) != .success)
        }
    }
}
