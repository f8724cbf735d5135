import Experiments
import Foundation
import Testing

/// The `vmemlab` executable built beside this test bundle.
let vmemlabExecutable: URL? = {
    let bundleDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
        let url = candidate.appendingPathComponent("vmemlab")
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return nil
}()

@Suite(.serialized) struct ResumeAfterKillTests {
    /// 624 walk points (78 parameter combinations, 8 repetitions): several
    /// seconds of work for a debug build, so a kill lands mid-sweep.
    static let spec = """
        name = "resume"
        repetitions = 8
        [sweep]
        strategies = ["native", "nested", "shadow"]
        workloads = ["walk"]
        guest_pages = ["4K", "2M", "1G"]
        backings = ["4K", "THP", "2M", "1G"]
        guest_levels = [4, 5]
        host_levels = [4, 5]
        """

    static func dataRows(_ url: URL) -> Int {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return 0 }
        return max(0, text.components(separatedBy: "\r\n").count - 2)
    }

    static func run(_ spec: URL, out: URL) throws -> Process {
        let process = Process()
        guard let executable = vmemlabExecutable else {
            throw CSVAppendError.system(call: "find the vmemlab executable beside the tests", path: "", errno: ENOENT)
        }
        process.executableURL = executable
        process.arguments = ["run", spec.path, "--out", out.path, "--quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Synchronous on purpose: the polling loop keeps its thread, so other
    /// tests busy on the cooperative pool cannot delay the kill.
    @Test func aSweepKilledWithSIGKILLResumesWithNoDuplicateAndNoPartialRow() throws {
        let directory = try temporaryDirectory()
        let specURL = directory.appendingPathComponent("resume.toml")
        try Data(Self.spec.utf8).write(to: specURL)
        let out = directory.appendingPathComponent("out")
        let csv = out.appendingPathComponent("resume.csv")
        let total = try Sweep(try ExperimentSpec(toml: Self.spec)).points.count

        // Kill the sweep once it has reported a few points, twice over.
        var killedAt: [Int] = []
        for threshold in [5, 40] {
            let child = try Self.run(specURL, out: out)
            let deadline = Date().addingTimeInterval(120)
            while Self.dataRows(csv) < threshold && child.isRunning && Date() < deadline {
                usleep(2_000)
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "the sweep finished before it could be killed")
            killedAt.append(Self.dataRows(csv))
            // The file ends with a complete record: one write(2) per row.
            let bytes = try Data(contentsOf: csv)
            #expect(bytes.suffix(2) == Data("\r\n".utf8), "a kill left a partial row")
        }
        #expect(killedAt[0] < total && killedAt[1] < total)
        #expect(killedAt[1] >= killedAt[0])

        // The killed file already parses: no partial row, no repeated id.
        let interrupted = try CSVReader.table(contentsOf: csv)
        #expect(Set(interrupted.rows.map { $0[0] }).count == interrupted.rows.count)

        let rerun = try Self.run(specURL, out: out)
        rerun.waitUntilExit()
        #expect(rerun.terminationStatus == 0)
        let table = try CSVReader.table(contentsOf: csv)
        let ids = table.rows.map { $0[0] }
        #expect(ids.count == total)
        #expect(Set(ids).count == total)
        #expect(table.rows.allSatisfy { $0.count == table.columns.count })
        let status = try #require(table.columns.firstIndex(of: "status"))
        #expect(table.rows.allSatisfy { $0[status] == "OK" })
        // The rows written before the kills are still there, unchanged.
        #expect(Array(table.rows.prefix(interrupted.rows.count)) == interrupted.rows)
    }
}
