import Foundation
import Testing
import TLB
import Translation
import Workloads

/// The path of the C reference model, from this file's path.
private let referenceSource = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Benchmarks/reference/miss-path.c").path

/// A C compiler on the PATH (cc, gcc or clang; Swift's toolchain has clang), if any.
private let compiler: String? = {
    let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
    for name in ["cc", "gcc", "clang"] {
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
    }
    return nil
}()

/// `Benchmarks/reference/miss-path.c` models the benchmarks' miss
/// configuration independently, in plain C. On the same trace it must
/// count exactly what the simulator counts.
@Suite("The simulator against the C reference model")
struct CReferenceTests {
    @Test("same hits, walks, references, PWC hits, PTE-line hits and walk cycles",
          .enabled(if: compiler != nil, "no C compiler (cc, gcc or clang) on this machine"))
    func sameCounts() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vmemlab-cref-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("miss-path").path
        let trace = directory.appendingPathComponent("trace.raw64").path

        // 600,000 accesses uniform over 1 GiB: almost all walk, some hit the
        // L2 TLB, and the 32768 PTE lines overflow the L2 line model.
        var random = SplitMix64(seed: 11)
        let addresses = (0..<600_000).map { _ in 0x1000_0000_0000 + random.below(1 << 30) & ~7 }
        try Raw64TraceWriter.write(addresses, to: trace)

        let compile = try Self.execute(compiler!, ["-O2", "-o", binary, referenceSource])
        #expect(compile.status == 0, "\(compile.output)")
        let reference = try Self.execute(binary, [trace])
        #expect(reference.status == 0, "\(reference.output)")
        var expected: [String: [String]] = [:]
        for line in reference.output.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if let key = words.first { expected[key] = Array(words.dropFirst()) }
        }

        let configuration = TLBConfiguration(
            levels: [
                TLBLevelConfiguration(name: "L1D", entries: 64, ways: 4, pageSizes: [.size4K]),
                TLBLevelConfiguration(name: "L2", entries: 1536, ways: 12, pageSizes: [.size4K, .size2M]),
            ],
            walkCache: WalkCacheConfiguration(design: .pwc, entries: 32, ways: 32))
        var simulator = try TranslationSimulator(configuration: configuration, engine: try NativeEngine(pageSize: .size4K))
        var stream = try Raw64TraceReader(path: trace)
        try simulator.run(&stream)
        let statistics = simulator.statistics
        let lines = statistics.lineHits

        #expect(expected["accesses"] == ["600000"])
        #expect(expected["L1D"] == ["hits", "\(statistics.levels[0].hits)", "misses", "\(statistics.levels[0].misses)"])
        #expect(expected["L2"] == ["hits", "\(statistics.levels[1].hits)", "misses", "\(statistics.levels[1].misses)"])
        #expect(expected["walks"] == ["\(statistics.walks)"])
        #expect(expected["walk_refs"] == ["\(statistics.walkReferences)"])
        #expect(expected["pwc_hits"] == ["\(statistics.pwcHits)"])
        #expect(expected["pte_line_hits"] == ["l1", "\(lines.l1)", "l2", "\(lines.l2)", "llc", "\(lines.llc)", "dram", "\(lines.dram)"])
        #expect(expected["walk_cycles"] == [String(format: "%.0f", statistics.walkCycles)])
        #expect(statistics.levels[1].hits > 0 && statistics.pwcHits > 0 && lines.llc > 0, "every part was exercised")
    }

    /// Runs `path` with `arguments`; returns its exit status and its
    /// standard output and error.
    static func execute(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
