import Foundation
import Testing
import TLB
import Translation
import Workloads

/// `run` reads ahead and prefetches while walks are frequent; these check
/// that it translates exactly as one access at a time does.
@Suite("The simulator's run loop")
struct SimulatorRunTests {
    static func configuration() throws -> TLBConfiguration {
        try TLBPreset.named("skylake")
    }

    @Test("run gives the statistics of one access at a time, for miss- and hit-dominated streams",
          arguments: [64 << 30, 64 << 20, 1 << 20] as [UInt64])
    func sameAsOneAtATime(footprint: UInt64) throws {
        let region = WorkloadRegion(bytes: footprint, accesses: 20_000)
        var stream = UniformStream(region: region, seed: 9)
        var ran = try TranslationSimulator(configuration: try Self.configuration(), engine: try NativeEngine(pageSize: .size4K))
        try ran.run(&stream)
        var records = UniformStream(region: region, seed: 9)
        var stepped = try TranslationSimulator(configuration: try Self.configuration(), engine: try NativeEngine(pageSize: .size4K))
        while let record = try records.next() { try stepped.access(record) }
        #expect(ran.statistics == stepped.statistics)
        #expect(ran.accesses == 20_000)
        #expect(ran.statistics.walks > 0)
    }

    @Test("a trace error after many walks: every access before it is translated, then the error is thrown")
    func errorAfterWalks() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmemlab-run-\(getpid()).lackey").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loads = (0..<300).map { " L " + String(0x1000_0000_0000 + UInt64($0) << 12, radix: 16) + ",8" }
        try (loads + [" L zz,8", " L 10,8"]).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var reader = try LackeyTraceReader(path: path)
        var simulator = try TranslationSimulator(configuration: try Self.configuration(), engine: try NativeEngine(pageSize: .size4K))
        #expect(throws: SimulationError.self) { try simulator.run(&reader) }
        #expect(simulator.accesses == 300)
        #expect(simulator.statistics.walks == 300)
    }
}
