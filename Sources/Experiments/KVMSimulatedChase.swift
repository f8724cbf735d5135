import TLB
import Translation
import Workloads

/// The TLB issue's model applied to the runner's pointer chase: the same
/// chase (one line per 4 KiB page, pages in a random cycle) through
/// `TranslationSimulator` with a TLB configuration (the host preset), on the
/// translation the hardware performs here:
/// - a shadow-paging host that is itself a guest: a 2D walk of the shadow
///   table (effective page) and the outer hypervisor's table (`outerPage`);
/// - a shadow-paging host on bare metal: a 1D walk of the shadow table;
/// - an EPT/NPT host: a 2D walk of guest table and EPT.
///
/// The simulator counts TLB lookups and where each walk reference's line
/// was (L1, L2, LLC, DRAM); `KVMSimulatedChaseModel` fits the latencies.
public struct KVMSimulatedChase: Sendable, Equatable {
    /// TLB lookup cycles per access (the preset's hit latencies).
    public var lookupCycles: Double
    /// Walk references per access served by L1, L2, LLC and DRAM.
    public var lines: [Double]
    /// Walks per access.
    public var walks: Double

    public init(lookupCycles: Double, lines: [Double], walks: Double) {
        self.lookupCycles = lookupCycles
        self.lines = lines
        self.walks = walks
    }

    /// How the hardware translates a guest access on this host.
    public enum Translation: Sendable, Hashable {
        /// One dimension with pages of this size (shadow paging on bare metal).
        case oneDimensional(PageSize)
        /// Two dimensions: the walked table's page size, then the nested one's.
        case twoDimensional(PageSize, PageSize)
    }

    /// Simulates one lap to warm up, then `accesses` chase steps.
    public static func simulate(configuration: TLBConfiguration, translation: Translation, workingSetBytes: Int,
                                accesses: Int, seed: UInt64) throws -> KVMSimulatedChase {
        switch translation {
        case let .oneDimensional(page):
            return try run(configuration, try NativeEngine(pageSize: page), workingSetBytes, accesses, seed)
        case let .twoDimensional(guest, host):
            return try run(configuration, try NestedEngine(guestPageSize: guest, hostPageSize: host),
                           workingSetBytes, accesses, seed)
        }
    }

    static func run<Engine: TranslationEngine>(_ configuration: TLBConfiguration, _ engine: Engine, _ bytes: Int,
                                               _ accesses: Int, _ seed: UInt64) throws -> KVMSimulatedChase {
        var simulator = try TranslationSimulator(configuration: configuration, engine: engine)
        let pages = UInt64(bytes >> 12)
        var warm = PointerChaseStream(region: WorkloadRegion(bytes: UInt64(bytes), accesses: pages), seed: seed)
        try simulator.run(&warm)
        let before = simulator.statistics
        var stream = PointerChaseStream(region: WorkloadRegion(bytes: UInt64(bytes), accesses: pages + UInt64(accesses)),
                                        seed: seed)
        try simulator.run(&stream)
        let after = simulator.statistics
        let count = Double(after.accesses - before.accesses)
        return KVMSimulatedChase(
            lookupCycles: (after.lookupCycles - before.lookupCycles) / count,
            lines: [Double(after.lineHits.l1 - before.lineHits.l1) / count, Double(after.lineHits.l2 - before.lineHits.l2) / count,
                    Double(after.lineHits.llc - before.lineHits.llc) / count,
                    Double(after.lineHits.dram - before.lineHits.dram) / count],
            walks: Double(after.walks - before.walks) / count)
    }
}

/// Cycles per access from a simulated chase: a + lookup + Σ latency_k × lines_k,
/// with the intercept a (the data access itself) and the four line
/// latencies fitted ≥ 0 by least squares on a calibration curve.
public struct KVMSimulatedChaseModel: Sendable, Equatable {
    /// a, then the L1, L2, LLC and DRAM latencies in cycles.
    public var coefficients: [Double]

    public init(coefficients: [Double]) { self.coefficients = coefficients }

    public func predict(_ chase: KVMSimulatedChase) -> Double {
        chase.lookupCycles + zip([1] + chase.lines, coefficients).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Fits the model to (simulated chase, measured cycles) pairs, minimizing
    /// the squared relative error (so that the large working sets, with
    /// hundreds of cycles, do not drown the small ones).
    public static func calibrate(_ points: [(KVMSimulatedChase, Double)]) -> KVMSimulatedChaseModel {
        let rows = points.map { point in ([1] + point.0.lines).map { $0 / max(point.1, 1e-9) } }
        let targets = points.map { ($0.1 - $0.0.lookupCycles) / max($0.1, 1e-9) }
        return KVMSimulatedChaseModel(coefficients: NonNegativeLeastSquares.fit(rows, targets))
    }

    public var summary: String {
        zip(["a", "L1", "L2", "LLC", "DRAM"], coefficients).map { "\($0)=\(csvNumber($1, decimals: 1))" }
            .joined(separator: " ")
    }
}

/// Least squares with every weight ≥ 0: a weight that comes out negative is
/// fixed at 0 and the rest refitted (normal equations, tiny ridge).
enum NonNegativeLeastSquares {
    static func fit(_ rows: [[Double]], _ targets: [Double]) -> [Double] {
        let n = rows.first?.count ?? 0
        var active = [Bool](repeating: true, count: n)
        var weights = [Double](repeating: 0, count: n)
        for _ in 0..<max(n, 1) {
            weights = leastSquares(rows.map { row in row.indices.map { active[$0] ? row[$0] : 0 } }, targets, n)
            for index in 0..<n where !active[index] { weights[index] = 0 }
            guard let negative = (0..<n).first(where: { active[$0] && weights[$0] < 0 }) else { break }
            active[negative] = false
        }
        return weights.map { max(0, $0) }
    }

    static func leastSquares(_ rows: [[Double]], _ targets: [Double], _ n: Int) -> [Double] {
        var normal = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        for (row, target) in zip(rows, targets) {
            for i in 0..<n {
                for j in 0..<n { normal[i][j] += row[i] * row[j] }
                normal[i][n] += row[i] * target
            }
        }
        let ridge = 1e-9 * max(1, (0..<n).reduce(0) { $0 + normal[$1][$1] })
        for i in 0..<n { normal[i][i] += ridge }
        return KVMTLBCostModel.solve(normal)
    }
}
