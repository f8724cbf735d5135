import Benchmark
import Foundation
import TLB
import Translation
import Workloads

/// Translations per second through `TranslationSimulator`, reading a raw64
/// trace from a file (in the page cache after the first run), as
/// `vmemlab simulate` does. The targets: 100 M/s for an
/// L1-hit-dominated stream with an L1+L2 TLB, 20 M/s for a miss-dominated
/// stream with native walks and a PWC.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .mega,
        maxDuration: .seconds(5),
        maxIterations: 10
    )

    let levels = [
        TLBLevelConfiguration(name: "L1D", entries: 64, ways: 4, pageSizes: [.size4K]),
        TLBLevelConfiguration(name: "L2", entries: 1536, ways: 12, pageSizes: [.size4K, .size2M], hitLatencyCycles: 7),
    ]

    /// A raw64 trace of `count` accesses written once to a temporary file.
    func trace(_ name: String, count: Int, address: (Int) -> UInt64) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmemlab-bench-\(name).raw64").path
        if !FileManager.default.fileExists(atPath: path) {
            try? Raw64TraceWriter.write((0..<count).lazy.map(address), to: path)
        }
        return path
    }

    /// A simulator that has seen the trace once, so its page tables are
    /// built and its TLB is warm: the measured pass is steady state.
    func warmSimulator(_ path: String, _ configuration: TLBConfiguration) -> TranslationSimulator<NativeEngine> {
        do {
            var simulator = try TranslationSimulator(configuration: configuration, engine: try NativeEngine(pageSize: .size4K))
            var stream = try Raw64TraceReader(path: path)
            try simulator.run(&stream)
            return simulator
        } catch {
            fatalError("benchmark setup: \(error)")
        }
    }

    /// One pass over the trace, reading it from the file.
    func pass(_ simulator: inout TranslationSimulator<NativeEngine>, _ path: String) -> UInt64 {
        do {
            var stream = try Raw64TraceReader(path: path)
            try simulator.run(&stream)
        } catch {
            fatalError("benchmark run: \(error)")
        }
        return simulator.accesses
    }

    // 1M accesses (one scaled iteration of .mega): random lines in 48 pages (L1-hit-dominated, few repeats of a page in a row).
    let hitTrace = trace("l1hits", count: 1_000_000) { index in
        var z = UInt64(index) &* 0x9E37_79B9_7F4A_7C15
        z ^= z >> 29
        return 0x1000_0000_0000 + (z % 48) << 12 + ((z >> 8) & 63) << 6
    }
    Benchmark("simulate raw64, L1-hit-dominated, L1+L2", configuration: .init(scalingFactor: .mega)) { benchmark in
        var simulator = warmSimulator(hitTrace, TLBConfiguration(levels: levels))
        benchmark.startMeasurement()
        // One iteration is one pass over the 1M-access trace: scaledIterations.count translations.
        blackHole(pass(&simulator, hitTrace))
    }

    // 1M accesses: uniform over 256 MiB, 65536 pages (nearly every access walks).
    let missTrace = trace("misses256m", count: 1_000_000) { index in
        var z = UInt64(index) &* 0x9E37_79B9_7F4A_7C15
        z ^= z >> 31
        return 0x1000_0000_0000 + (z % (1 << 22)) << 6
    }
    Benchmark("simulate raw64, miss-dominated, native walks + PWC", configuration: .init(scalingFactor: .mega)) { benchmark in
        let configuration = TLBConfiguration(levels: levels, walkCache: WalkCacheConfiguration(design: .pwc, entries: 32, ways: 32))
        var simulator = warmSimulator(missTrace, configuration)
        benchmark.startMeasurement()
        blackHole(pass(&simulator, missTrace))
    }
}
