import KVM
import Translation

/// The host's TLB and cache geometry as CPUID reports it (AMD leaves
/// 80000005H and 80000006H): the reach that the cost model works from.
public struct TLBGeometry: Sendable, Equatable {
    /// Data-TLB entries (L1 + L2) for 4 KiB and for 2 MiB translations.
    public var entries4K: Int
    public var entries2M: Int
    /// Cache capacities in bytes.
    public var l2Bytes: Int
    public var l3Bytes: Int

    public init(entries4K: Int, entries2M: Int, l2Bytes: Int, l3Bytes: Int) {
        self.entries4K = entries4K
        self.entries2M = entries2M
        self.l2Bytes = l2Bytes
        self.l3Bytes = l3Bytes
    }

    /// Decodes the leaves from a CPUID table (the host's, as KVM passes it on).
    /// Nil when the AMD extended leaves are missing.
    public init?(cpuid: CPUIDTable) {
        guard let l1 = cpuid.leaf(0x8000_0005), let l2 = cpuid.leaf(0x8000_0006) else { return nil }
        let l1Data4K = Int((l1.ebx >> 16) & 0xFF), l1Data2M = Int((l1.eax >> 16) & 0xFF)
        let l2Data4K = Int((l2.ebx >> 16) & 0xFFF), l2Data2M = Int((l2.eax >> 16) & 0xFFF)
        entries4K = l1Data4K + l2Data4K
        entries2M = l1Data2M + l2Data2M
        l2Bytes = Int(l2.ecx >> 16) << 10
        l3Bytes = Int(l2.edx >> 18) << 19
        guard entries4K > 0, entries2M > 0 else { return nil }
    }

    /// The TLB entries for translations of `size` (1 GiB uses the 2 MiB count:
    /// the leaves above give no 1 GiB figure).
    public func entries(_ size: PageSize) -> Int { size == .size4K ? entries4K : entries2M }
}

/// A small cost model of the pointer chase, calibrated on measurements:
///
///     cycles = a + b·P(miss L2) + c·P(miss L3) + w·P(TLB miss)·R
///
/// - The guest's translations are shadowed by KVM at the effective page
///   size (the smaller of guest page and host backing). When this host is
///   itself a guest (`outerPage` set), the hardware walks the shadow table
///   and the outer hypervisor's nested table: R is the reference count of
///   that 2D walk, (g+1)(h+1)−1 with g and h the levels above each
///   dimension's leaf (Bhargava et al.), and a TLB entry covers the smaller
///   of the effective and the outer page. Otherwise R is the 1D walk's g.
/// - P(TLB miss) = max(0, 1 − E/T): T translations of the TLB page size cover
///   the working set; E is the CPUID entry count for it (uniform random
///   access to a fully associative TLB).
/// - P(miss Lk) = max(0, 1 − Ck/F) for the footprint F of the lines the
///   chase touches: one data line per 4 KiB page, plus one PTE line per 8
///   translations when those are 4 KiB.
/// - a, b, c and w are fitted by least squares with b, c, w ≥ 0 (a feature
///   whose best weight is negative is dropped and the rest refitted; a tiny
///   ridge gives a feature that is zero on every calibration point weight 0).
///
/// It is this runner's own model, used because the TLB issue's cost model
/// had not landed when it was written; it never sees the points it predicts
/// unless they are in the calibration set.
public struct KVMTLBCostModel: Sendable, Equatable {
    public let geometry: TLBGeometry
    /// The page size the outer hypervisor maps this host with, when this
    /// host is a guest (not observable from inside: an assumption).
    public let outerPage: PageSize?
    /// a, b, c, w.
    public let coefficients: [Double]

    /// The walk references per TLB miss.
    public static func walkReferences(effectivePage: PageSize, outerPage: PageSize?) -> Double {
        let guestLevels = Double(4 - effectivePage.leafLevel + 1)
        guard let outerPage else { return guestLevels }
        let hostLevels = Double(4 - outerPage.leafLevel + 1)
        return (guestLevels + 1) * (hostLevels + 1) - 1
    }

    /// The four features of a point.
    public static func features(workingSetBytes: Int, effectivePage: PageSize, outerPage: PageSize?,
                                geometry: TLBGeometry) -> [Double] {
        let pages4K = Double(workingSetBytes) / 4096
        let tlbPage = min(effectivePage, outerPage ?? effectivePage)
        let translations = max(1, Double(workingSetBytes) / Double(tlbPage.bytes))
        var footprint = pages4K * 64
        if effectivePage == .size4K { footprint += pages4K / 8 * 64 }
        func missRate(_ capacity: Double) -> Double { max(0, 1 - capacity / footprint) }
        let tlbMiss = max(0, 1 - Double(geometry.entries(tlbPage)) / translations)
        return [1, missRate(Double(geometry.l2Bytes)), missRate(Double(geometry.l3Bytes)),
                tlbMiss * walkReferences(effectivePage: effectivePage, outerPage: outerPage)]
    }

    /// Fits the coefficients to `(workingSetBytes, effectivePage, measuredCycles)` points.
    public static func calibrate(geometry: TLBGeometry, outerPage: PageSize?,
                                 points: [(Int, PageSize, Double)]) -> KVMTLBCostModel {
        let rows = points.map {
            features(workingSetBytes: $0.0, effectivePage: $0.1, outerPage: outerPage, geometry: geometry)
        }
        var active = [true, true, true, true]
        var coefficients = [Double](repeating: 0, count: 4)
        for _ in 0..<4 {
            coefficients = leastSquares(rows.map { row in row.indices.map { active[$0] ? row[$0] : 0 } },
                                        points.map(\.2))
            guard let negative = (1..<4).first(where: { active[$0] && coefficients[$0] < 0 }) else { break }
            active[negative] = false
        }
        for index in 0..<4 where !active[index] { coefficients[index] = 0 }
        return KVMTLBCostModel(geometry: geometry, outerPage: outerPage, coefficients: coefficients)
    }

    /// The least-squares coefficients of `rows` for `targets` (normal equations).
    static func leastSquares(_ rows: [[Double]], _ targets: [Double]) -> [Double] {
        let n = 4
        var normal = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        for (row, target) in zip(rows, targets) {
            for i in 0..<n {
                for j in 0..<n { normal[i][j] += row[i] * row[j] }
                normal[i][n] += row[i] * target
            }
        }
        let ridge = 1e-9 * max(1, (0..<n).reduce(0) { $0 + normal[$1][$1] })
        for i in 0..<n { normal[i][i] += ridge }
        return solve(normal)
    }

    init(geometry: TLBGeometry, outerPage: PageSize?, coefficients: [Double]) {
        self.geometry = geometry
        self.outerPage = outerPage
        self.coefficients = coefficients
    }

    /// The predicted cycles per access.
    public func predict(workingSetBytes: Int, effectivePage: PageSize) -> Double {
        zip(Self.features(workingSetBytes: workingSetBytes, effectivePage: effectivePage, outerPage: outerPage,
                          geometry: geometry), coefficients).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Gaussian elimination with partial pivoting on an augmented n×(n+1) matrix.
    static func solve(_ matrix: [[Double]]) -> [Double] {
        var a = matrix
        let n = a.count
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0][column]) < abs(a[$1][column]) }!
            a.swapAt(column, pivot)
            guard abs(a[column][column]) > 1e-300 else { continue }
            for row in 0..<n where row != column {
                let factor = a[row][column] / a[column][column]
                for k in column...n { a[row][k] -= factor * a[column][k] }
            }
        }
        return (0..<n).map { abs(a[$0][$0]) > 1e-300 ? a[$0][n] / a[$0][$0] : 0 }
    }
}
