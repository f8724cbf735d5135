import Experiments
import Foundation
import Testing
@testable import VMemLabCommands

@Suite("vmemlab reproduce")
struct ReproduceCommandTests {
    @Test func listsTheReproductions() {
        #expect(runCommand(["reproduce", "--list"]) == nil)
        #expect(Reproductions.named("walk-refs") != nil)
    }

    @Test func rejectsUnknownNamesAndEmptyRequests() {
        #expect(runCommand(["reproduce", "no-such-paper"]) != nil)
        #expect(runCommand(["reproduce"]) != nil)
        #expect(runCommand(["reproduce", "--all", "walk-refs"]) != nil)
    }

    @Test func walkRefsWritesTwentyPassingRows() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vmemlab-repro-\(UUID().uuidString)")
        #expect(runCommand(["reproduce", "walk-refs", "--out", directory.path]) == nil)
        let text = try String(contentsOf: directory.appendingPathComponent("walk-refs.csv"), encoding: .utf8)
        let lines = text.split(separator: "\r\n")
        #expect(lines.count == 21)
        let header = lines[0].split(separator: ",").map(String.init)
        for column in ["guest_levels", "host_levels", "guest_page", "host_page", "refs", "published_refs", "status"] {
            #expect(header.contains(column))
        }
        let status = try #require(header.firstIndex(of: "status"))
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",")[status] == "PASS" })
    }
}
