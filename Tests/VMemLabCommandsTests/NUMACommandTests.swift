import ArgumentParser
import Glibc
import GuestMemory
import Testing
@testable import VMemLabCommands

/// `vmemlab numa show` and `vmemlab numa check`, run in process.
@Suite(.serialized)
struct NUMACommandTests {
    static let host = HostMemoryEnvironment.probe()

    func check(_ arguments: [String], host: HostMemoryEnvironment = host) throws -> NUMACheckCommand.Report {
        try NUMACheckCommand.parse(arguments).check(on: host)
    }

    @Test("show's JSON has nodes, distances, thp_mode and hugepages with total and free")
    func showJSON() throws {
        let object = NUMAShowCommand.object(Self.host)
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        #expect(nodes.first?["id"] as? Int == 0)
        #expect((nodes.first?["cpus"] as? [Int])?.isEmpty == false)
        #expect(nodes.first?["memory_bytes"] as? UInt64 ?? 0 > 0)
        #expect(object["distances"] as? [[Int]] == [[10]])
        #expect(object["thp_mode"] as? String == Self.host.transparentHugepages.mode)
        let pools = try #require(object["hugepages"] as? [String: [String: Int]])
        for pool in pools.values { #expect(pool["total"] != nil && pool["free"] != nil) }
        #expect(try NUMAShowCommand.json(Self.host).contains("\"thp_mode\""))
    }

    @Test("THP bound to node 0 puts every page on node 0 in huge pages",
          .enabled(if: host.numa.syscallsAllowed && host.transparentHugepages.mode != "never", "needs NUMA calls and THP"))
    func thpBind() throws {
        let report = try check(["--backing", "THP", "--policy", "bind", "--nodes", "0", "--size", "64M", "--json"])
        let object = report.object
        #expect(object["pages"] as? Int == 16384)
        #expect(object["pages_per_node"] as? [String: Int] == ["0": 16384])
        #expect(object["huge_page_bytes"] as? Int ?? 0 > 0)
        #expect(object["backing"] as? String == "THP")
        #expect(object["policy"] as? String == "bind")
        #expect(report.placedAsAsked)
    }

    @Test("every backing-free policy with default nodes lands as asked",
          .enabled(if: host.numa.syscallsAllowed, "needs the NUMA system calls"),
          arguments: ["bind", "interleave", "preferred", "local"])
    func defaultNodes(policy: String) throws {
        let report = try check(["--backing", "4K", "--policy", policy, "--size", "4M", "--prefault", "--threads", "2"])
        #expect(report.placedAsAsked)
        #expect(report.text.contains("as asked"))
    }

    @Test("--nodes 7 fails naming node 7")
    func missingNode() {
        #expect {
            _ = try check(["--backing", "4K", "--policy", "bind", "--nodes", "7", "--size", "64M"])
        } throws: { error in
            "\(error)".contains("node 7")
        }
    }

    @Test("a size that is not a multiple of the page size fails")
    func badSize() {
        #expect { _ = try check(["--backing", "2M", "--policy", "local", "--size", "3M"]) } throws: { error in
            "\(error)".contains("not a multiple")
        }
    }

    @Test("unreserved hugepages fail with the count and the command")
    func unreserved() {
        var host = Self.host
        host.hugepagePools = [HugepagePool(pageBytes: 2 << 20, total: 0, free: 0)]
        #expect { _ = try check(["--backing", "2M", "--policy", "local", "--size", "64M"], host: host) } throws: { error in
            "\(error)".contains("needs 32 free 2M hugepages") && "\(error)".contains("echo 32 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")
        }
    }

    @Test("EPERM from the NUMA calls fails the check with the reason")
    func denied() {
        var host = Self.host
        host.numa = NUMASupport(probeFailure: SystemCallError(call: "get_mempolicy", errno: EPERM))
        #expect { _ = try check(["--backing", "4K", "--policy", "local", "--size", "4M"], host: host) } throws: { error in
            "\(error)".contains("EPERM")
        }
    }

    @Test("bad arguments are rejected by the parser",
          arguments: [["--backing", "8K", "--policy", "local", "--size", "4M"],
                      ["--backing", "4K", "--policy", "spread", "--size", "4M"],
                      ["--backing", "4K", "--policy", "local", "--size", "12Q"],
                      ["--backing", "4K", "--policy", "bind", "--nodes", "x", "--size", "4M"],
                      ["--backing", "4K", "--policy", "local", "--size", "4M", "--threads", "2"],
                      ["--backing", "4K", "--policy", "local", "--size", "4M", "--memfd"]])
    func badArguments(arguments: [String]) {
        #expect(throws: (any Error).self) { _ = try NUMACheckCommand.parse(arguments) }
    }

    func model(_ arguments: [String]) throws -> Double {
        let (run, baseline, _) = try NUMAModelCommand.parse(arguments + ["--updates", "3000", "--table-size", "1G"]).results()
        return run.runtimeCycles / baseline.runtimeCycles
    }

    @Test("numa model: remote data or tables cost more, interference more still, replication restores local")
    func modelPlacements() throws {
        let remoteData = try model(["--nodes", "2", "--data-node", "1"])
        let remoteTables = try model(["--nodes", "2", "--pt-placement", "1"])
        let interfered = try model(["--nodes", "2", "--pt-placement", "1", "--interference-nodes", "1"])
        let replicated = try model(["--nodes", "2", "--pt-placement", "replicated", "--interference-nodes", "1"])
        #expect(remoteData > 1.05)
        #expect(remoteTables > 1.05)
        #expect(interfered > remoteTables)
        #expect(abs(replicated - 1) < 0.001)
        #expect(abs(try model(["--nodes", "4"]) - 1) < 0.001)
    }

    @Test("numa model: a node the machine lacks is named", arguments: [["--pt-placement", "7"], ["--data-node", "7"],
                                                                       ["--interference-nodes", "0,7"], ["--cpu-node", "7"]])
    func modelMissingNode(arguments: [String]) {
        #expect { _ = try model(["--nodes", "2"] + arguments) } throws: { "\($0)".contains("node 7") }
    }

    @Test("numa model: bad options are rejected by the parser",
          arguments: [["--page-size", "3K"], ["--pt-placement", "far"], ["--interference-factor", "0.5"], ["--nodes", "0"]])
    func modelBadOptions(arguments: [String]) {
        #expect(throws: (any Error).self) { _ = try NUMAModelCommand.parse(arguments) }
    }
}
