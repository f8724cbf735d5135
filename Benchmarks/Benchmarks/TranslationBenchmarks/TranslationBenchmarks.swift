import Benchmark
import Translation

/// Page walks per second, and allocations per walk (which must be zero).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    Benchmark("1D walk, 4-level, 4K pages") { benchmark in
        var fixture = WalkFixture(pages: 4096)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            blackHole(fixture.walk1D(index))
        }
    }

    Benchmark("2D walk, 4-level guest on 4-level EPT, 4K/4K") { benchmark in
        var fixture = WalkFixture(pages: 4096)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            blackHole(fixture.walk2D(index))
        }
    }
}
