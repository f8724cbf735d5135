import ArgumentParser
import Experiments
import Foundation
import Testing
@testable import VMemLabCommands

@Suite("vmemlab run, merge and compare")
struct RunMergeCompareCommandTests {
    static let spec = """
        name = "cli"
        [sweep]
        strategies = ["nested"]
        workloads = ["walk"]
        guest_pages = ["4K", "2M"]
        backings = ["4K", "2M"]
        """

    static var exampleSpecs: [String] {
        let directory = repositoryRoot.appendingPathComponent("experiments")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".toml") }.sorted().map { directory.appendingPathComponent($0).path }
    }

    @Test func thereAreExampleSpecs() { #expect(Self.exampleSpecs.count >= 2) }

    @Test(arguments: exampleSpecs)
    func everyExampleSpecExpandsToASweep(path: String) throws {
        let sweep = try Sweep(try ExperimentSpec(toml: try String(contentsOfFile: path, encoding: .utf8)))
        #expect(!sweep.points.isEmpty)
    }

    @Test func runWritesOneRowPerPointAndARerunAddsNone() throws {
        let spec = try temporaryFile(Self.spec, name: "cli.toml")
        let out = URL(fileURLWithPath: spec).deletingLastPathComponent().appendingPathComponent("out")
        #expect(runCommand(["run", spec, "--out", out.path, "--quiet"]) == nil)
        #expect(runCommand(["run", spec, "--out", out.path, "--quiet"]) == nil)
        let table = try CSVReader.table(contentsOf: out.appendingPathComponent("cli.csv"))
        #expect(table.rows.count == 4)
        let refs = try #require(table.columns.firstIndex(of: "walk_refs"))
        #expect(Set(table.rows.map { $0[refs] }) == ["24", "19", "15"])
    }

    @Test func listRunsNothing() throws {
        let spec = try temporaryFile(Self.spec, name: "cli.toml")
        let out = URL(fileURLWithPath: spec).deletingLastPathComponent().appendingPathComponent("listed")
        #expect(runCommand(["run", spec, "--out", out.path, "--list", "--shard", "1/2"]) == nil)
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func aBadSpecFailsWithItsKey() throws {
        let spec = try temporaryFile(Self.spec.replacingOccurrences(of: "guest_pages", with: "guest_page"))
        let error = try #require(runCommand(["run", spec, "--quiet"]))
        #expect("\(error)".contains("sweep.guest_page"))
        #expect(runCommand(["run", "/nonexistent/spec.toml"]) != nil)
        #expect(runCommand(["run", spec, "--shard", "3/2"]) != nil)
    }

    @Test func shardsMergeIntoTheWholeSweep() throws {
        let spec = try temporaryFile(Self.spec, name: "cli.toml")
        let out = URL(fileURLWithPath: spec).deletingLastPathComponent()
        for shard in ["1/2", "2/2"] {
            #expect(runCommand(["run", spec, "--out", out.path, "--shard", shard, "--quiet"]) == nil)
        }
        let merged = out.appendingPathComponent("merged.csv").path
        #expect(runCommand(["merge", merged, out.appendingPathComponent("cli.shard-1-of-2.csv").path,
                            out.appendingPathComponent("cli.shard-2-of-2.csv").path, "--quiet"]) == nil)
        #expect(try CSVReader.table(contentsOf: URL(fileURLWithPath: merged)).rows.count == 4)
        #expect(runCommand(["merge", merged]) != nil)
        #expect(runCommand(["merge", merged, "/nonexistent.csv"]) != nil)
    }

    @Test func compareExitsWithThreeOnAChangeWhenAsked() throws {
        let a = try temporaryFile("guest_page,refs\r\n4K,24\r\n", name: "a.csv")
        let b = try temporaryFile("guest_page,refs\r\n4K,25\r\n", name: "b.csv")
        #expect(runCommand(["compare", a, a, "--fail-on-change"]) == nil)
        let error = runCommand(["compare", a, b, "--fail-on-change"])
        #expect((error as? ExitCode)?.rawValue == 3)
        #expect(runCommand(["compare", a, "/nonexistent.csv"]) != nil)
    }
}
