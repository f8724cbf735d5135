import Experiments
import Foundation
import Testing

/// A point kind defined by the tests: the framework must run any kind.
struct SquareKind: PointKind {
    let name = "square"
    let mode = ExperimentMode.model
    let workloads = ["square"]
    let strategies = ["native", "nested"]
    let resultColumns = ["square_bytes"]
    /// Sizes above `fail_above` throw (0: never), as a model error would.
    let optionDefaults = ["fail_above": "0"]
    func axes(for strategy: String) -> SweepAxes { [.workingSet] }

    func check(_ options: SweepOptions) throws {
        guard options["fail_above"].flatMap({ UInt64($0) }) != nil else {
            throw SpecError(key: "options.fail_above", "must be an integer")
        }
    }

    func run(_ point: SweepPoint, options: SweepOptions) throws -> PointOutcome {
        let size = point.workingSetBytes ?? 0
        let limit = UInt64(options["fail_above"] ?? "0") ?? 0
        if limit > 0 && size > limit { throw SpecError(key: "test", "too big") }
        if point.strategy == "nested" { return .skipped(reason: "nested squares are not modelled") }
        return .done(["square_bytes": "\(size * size)"])
    }
}

@Suite struct SweepRunnerTests {
    static func spec(failAbove: Int) -> String {
        """
        name = "squares"
        repetitions = 2
        [options]
        fail_above = \(failAbove)
        [sweep]
        strategies = ["native", "nested"]
        workloads = ["square"]
        sizes = [1, 2, 3]
        """
    }

    static func runner(_ text: String, out: URL) throws -> SweepRunner {
        let spec = try ExperimentSpec(toml: text, kinds: [SquareKind()])
        let sweep = try Sweep(spec, kinds: [SquareKind()])
        return SweepRunner(sweep: sweep, outputDirectory: out,
                           metadata: RunMetadata.collect(seed: spec.seed, specHash: spec.hash))
    }

    @Test func failedPointsAreNotWrittenAndARerunRetriesThem() throws {
        let out = try temporaryDirectory()
        let first = try Self.runner(Self.spec(failAbove: 2), out: out).run()
        #expect(first.total == 12)
        #expect(first.done == 4)     // native, sizes 1 and 2, two repetitions
        #expect(first.skipped == 4)  // nested, sizes 1 and 2
        #expect(first.failed.count == 4)  // size 3
        let second = try Self.runner(Self.spec(failAbove: 0), out: out).run()
        #expect(second.alreadyDone == 8)
        #expect(second.done == 2 && second.skipped == 2 && second.failed.isEmpty)

        let table = try CSVReader.table(contentsOf: out.appendingPathComponent("squares.csv"))
        #expect(table.rows.count == 12)
        let column = { (name: String) in table.columns.firstIndex(of: name)! }
        let squares = table.rows.filter { $0[column("status")] == "OK" }.map { $0[column("square_bytes")] }
        #expect(squares.sorted() == ["1", "1", "4", "4", "9", "9"])
        let skips = table.rows.filter { $0[column("status")] == "SKIP" }
        #expect(skips.allSatisfy { $0[column("reason")] == "nested squares are not modelled" && $0[column("square_bytes")].isEmpty })
        #expect(table.rows.allSatisfy { $0[column("host_kernel")] != "" && $0[column("spec_hash")] != "" })
    }

    @Test func aBadOptionIsASpecErrorNamingIt() throws {
        let text = Self.spec(failAbove: 0).replacingOccurrences(of: "fail_above = 0", with: "fail_above = \"x\"")
        #expect {
            _ = try Self.runner(text, out: try temporaryDirectory())
        } throws: { ($0 as? SpecError)?.key == "options.fail_above" }
    }

    @Test func aFileWithOtherColumnsIsRefused() throws {
        let out = try temporaryDirectory()
        try Data("point_id,other\r\n".utf8).write(to: out.appendingPathComponent("squares.csv"))
        #expect(throws: CSVAppendError.self) { _ = try Self.runner(Self.spec(failAbove: 0), out: out).run() }
    }
}
