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
///     cycles = a + w·M·R + (b·P(miss L2) + c·P(miss L3))·(1 + M·R)
///
/// - The guest's translations are shadowed by KVM at the effective page
///   size (the smaller of guest page and host backing). When this host is
///   itself a guest (`outerPage` set), the hardware walks the shadow table
///   and the outer hypervisor's nested table: R is the reference count of
///   that 2D walk, (g+1)(h+1)−1 with g and h the levels above each
///   dimension's leaf (Bhargava et al.), and a TLB entry covers the smaller
///   of the effective and the outer page. Otherwise R is the 1D walk's g.
/// - M = max(0, 1 − E/T), the TLB miss rate: T translations of the TLB page
///   size cover the working set; E is the CPUID entry count for it (uniform
///   random access to a fully associative TLB).
/// - Every reference (the data load and the M·R walk references) misses a
///   cache of capacity C with probability max(0, 1 − C/F), F being the
///   footprint of the lines the chase touches: one data line per 4 KiB page,
///   one leaf-entry line per 8 shadow translations, and with an outer level
///   one per 8 outer translations.
/// - Calibration fits a, w, b, c ≥ 0 by least squares of the relative error (a weight whose best
///   value is negative is dropped and the rest refitted), and the effective
///   capacities C2 < C3 by a search over powers of two from 32 KiB to 64 MiB
///   (the CPUID sizes are the starting point, but L3 is shared with every
///   other process and the outer hypervisor's structures).
///
/// It is this runner's own model, used because the TLB issue's cost model
/// had not landed when it was written; it never sees the points it predicts
/// unless they are in the calibration set.
public struct KVMTLBCostModel: Sendable, Equatable {
    public let geometry: TLBGeometry
    /// The page size the outer hypervisor maps this host with, when this
    /// host is a guest (not observable from inside: an assumption).
    public let outerPage: PageSize?
    /// The fitted effective L2 and L3 capacities in bytes.
    public let l2Bytes: Int, l3Bytes: Int
    /// a, w, b, c.
    public let coefficients: [Double]

    /// The walk references per TLB miss.
    public static func walkReferences(effectivePage: PageSize, outerPage: PageSize?) -> Double {
        let guestLevels = Double(4 - effectivePage.leafLevel + 1)
        guard let outerPage else { return guestLevels }
        let hostLevels = Double(4 - outerPage.leafLevel + 1)
        return (guestLevels + 1) * (hostLevels + 1) - 1
    }

    /// The four features of a point, for capacities `l2` and `l3`.
    public static func features(workingSetBytes: Int, effectivePage: PageSize, outerPage: PageSize?,
                                geometry: TLBGeometry, l2: Int, l3: Int) -> [Double] {
        let bytes = Double(workingSetBytes)
        let tlbPage = min(effectivePage, outerPage ?? effectivePage)
        let translations = max(1, bytes / Double(tlbPage.bytes))
        var footprint = bytes / 4096 * 64 + max(1, bytes / Double(effectivePage.bytes)) / 8 * 64
        if let outerPage { footprint += max(1, bytes / Double(outerPage.bytes)) / 8 * 64 }
        func missRate(_ capacity: Int) -> Double { max(0, 1 - Double(capacity) / footprint) }
        let walkReferences = max(0, 1 - Double(geometry.entries(tlbPage)) / translations)
            * walkReferences(effectivePage: effectivePage, outerPage: outerPage)
        return [1, walkReferences, missRate(l2) * (1 + walkReferences), missRate(l3) * (1 + walkReferences)]
    }

    /// Fits the model to `(workingSetBytes, effectivePage, measuredCycles)` points.
    public static func calibrate(geometry: TLBGeometry, outerPage: PageSize?,
                                 points: [(Int, PageSize, Double)]) -> KVMTLBCostModel {
        let capacities = (15...26).map { 1 << $0 }
        var best: (error: Double, model: KVMTLBCostModel)?
        for l2 in capacities {
            for l3 in capacities where l3 > l2 {
                let rows = points.map {
                    features(workingSetBytes: $0.0, effectivePage: $0.1, outerPage: outerPage, geometry: geometry,
                             l2: l2, l3: l3)
                }
                // Relative error: each row and target divided by the measured value.
                let weighted = zip(rows, points).map { row, point in row.map { $0 / max(point.2, 1e-9) } }
                let coefficients = NonNegativeLeastSquares.fit(weighted, points.map { _ in 1.0 })
                let model = KVMTLBCostModel(geometry: geometry, outerPage: outerPage, l2Bytes: l2, l3Bytes: l3,
                                            coefficients: coefficients)
                let error = points.reduce(0.0) {
                    $0 + abs(model.predict(workingSetBytes: $1.0, effectivePage: $1.1) - $1.2) / max($1.2, 1e-9)
                }
                if best == nil || error < best!.error { best = (error, model) }
            }
        }
        return best?.model ?? KVMTLBCostModel(geometry: geometry, outerPage: outerPage, l2Bytes: geometry.l2Bytes,
                                              l3Bytes: geometry.l3Bytes, coefficients: [0, 0, 0, 0])
    }

    init(geometry: TLBGeometry, outerPage: PageSize?, l2Bytes: Int, l3Bytes: Int, coefficients: [Double]) {
        self.geometry = geometry
        self.outerPage = outerPage
        self.l2Bytes = l2Bytes
        self.l3Bytes = l3Bytes
        self.coefficients = coefficients
    }

    /// The fitted parameters in words.
    public var summary: String {
        let names = ["a", "w", "b", "c"]
        return zip(names, coefficients).map { "\($0)=\(csvNumber($1, decimals: 3))" }.joined(separator: " ")
            + " L2eff=\(l2Bytes >> 10)KiB L3eff=\(l3Bytes >> 10)KiB TLB 4K/2M entries=\(geometry.entries4K)/\(geometry.entries2M)"
            + (outerPage.map { " outer=\($0.name)" } ?? "")
    }

    /// The predicted cycles per access.
    public func predict(workingSetBytes: Int, effectivePage: PageSize) -> Double {
        zip(Self.features(workingSetBytes: workingSetBytes, effectivePage: effectivePage, outerPage: outerPage,
                          geometry: geometry, l2: l2Bytes, l3: l3Bytes), coefficients).reduce(0) { $0 + $1.0 * $1.1 }
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
