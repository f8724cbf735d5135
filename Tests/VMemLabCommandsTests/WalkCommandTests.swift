import Foundation
import Testing
@testable import VMemLabCommands

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Writes `text` to a fresh temporary file and returns its path.
func temporaryFile(_ text: String, name: String = "layout.toml") throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vmemlab-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// Runs `vmemlab` with `arguments` in process and returns the error it threw, if any.
func runCommand(_ arguments: [String]) -> (any Error)? {
    do {
        var command = try VMemLab.parseAsRoot(arguments)
        try command.run()
        return nil
    } catch {
        return error
    }
}

@Suite("vmemlab walk")
struct WalkCommandTests {
    static let nativeExample = repositoryRoot.appendingPathComponent("docs/examples/native-4k.toml").path

    func layout(_ name: String) throws -> WalkLayout {
        let text = try String(contentsOfFile: repositoryRoot.appendingPathComponent("docs/examples/\(name)").path, encoding: .utf8)
        return try WalkLayout(toml: text)
    }

    @Test func nativeExampleTranslates() throws {
        let report = WalkReport(try layout("native-4k.toml"))
        #expect(report.outcome == "translated")
        #expect(report.details["physical"] == "0x200234")
        #expect(report.references.map(\.level) == [4, 3, 2, 1])
    }

    @Test func nestedExampleMakesTwentyFourReferences() throws {
        let report = WalkReport(try layout("nested-ept-4k.toml"))
        #expect(report.outcome == "translated")
        #expect(report.details["host_physical"] == "0x40200234")
        #expect(report.references.count == 24)
        #expect(report.references.filter { $0.dimension == "guest" }.count == 4)
        #expect(report.references.last?.step == 0)
    }

    @Test func smapExampleFaults() throws {
        let report = WalkReport(try layout("native-smap-fault.toml"))
        #expect(report.outcome == "page_fault")
        #expect(report.details["error_code"] == "0x1")
        #expect(report.details["level"] == "PT")
    }

    @Test func runsInProcessWithJSON() {
        #expect(runCommand(["walk", Self.nativeExample, "--json"]) == nil)
        #expect(runCommand(["walk", Self.nativeExample, "--address", "0x7f0000001008"]) == nil)
    }

    /// Each bad layout and the words its error must contain.
    static let badLayouts: [(edit: @Sendable (String) -> String, expected: [String])] = [
        ({ $0.replacingOccurrences(of: "root = 0x1000 ", with: "") }, ["paging.root", "missing field"]),
        ({ $0.replacingOccurrences(of: "root = 0x1000 ", with: "root = 0x1234 ") }, ["paging.root", "not 4 KiB aligned"]),
        ({ $0.replacingOccurrences(of: "physical = 0x200000", with: "physical = 0x80000000") },
         ["paging.map[0].physical", "outside memory"]),
        ({ $0.replacingOccurrences(of: "\"US\"]", with: "\"US\", \"RX\"]") }, ["paging.map[0].flags[3]", "unknown flag 'RX'"]),
        ({ "adress = 1\n" + $0 }, ["adress", "unknown key"]),
        ({ $0.replacingOccurrences(of: "page = \"4K\"", with: "page = \"8K\"") }, ["paging.map[0].page", "8K"]),
        ({ $0 + "\n[[paging.entry]]\ntable = 0x1000\nindex = 600\naddress = 0x5000\n" }, ["paging.entry[0].index", "0...511"]),
        ({ $0.replacingOccurrences(of: "size = \"1G\"", with: "size = \"lots\"") }, ["memory.size"]),
        ({ $0.replacingOccurrences(of: "size = \"1G\"", with: "size = \"0b1000\"") }, ["memory.size", "positive size"]),
        ({ $0.replacingOccurrences(of: "levels = 4", with: "levels = 6") }, ["paging.levels", "4...5"]),
        ({ _ in "address = = 1" }, ["invalid TOML", "line 1"]),
    ]

    @Test(arguments: 0..<badLayouts.count)
    func badLayoutNamesTheProblem(_ index: Int) throws {
        let original = try String(contentsOfFile: Self.nativeExample, encoding: .utf8)
        let path = try temporaryFile(Self.badLayouts[index].edit(original))
        let error = try #require(runCommand(["walk", path]))
        let message = "\(error)"
        for word in Self.badLayouts[index].expected {
            #expect(message.contains(word), "\(message) should mention \(word)")
        }
        #expect(error is CommandFailure)
    }

    @Test func missingFileIsAnError() {
        let error = runCommand(["walk", "/nonexistent/layout.toml"])
        #expect(error is CommandFailure)
    }

    @Test func nestedLayoutNeedsAKnownKind() throws {
        let text = try String(contentsOfFile: repositoryRoot.appendingPathComponent("docs/examples/nested-ept-4k.toml").path,
                              encoding: .utf8)
        let error = runCommand(["walk", try temporaryFile(text.replacingOccurrences(of: "kind = \"ept\"", with: "kind = \"vtx\""))])
        #expect("\(error.map { "\($0)" } ?? "")".contains("nested.kind"))
    }
}
