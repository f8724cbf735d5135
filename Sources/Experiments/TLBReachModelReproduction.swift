import Foundation
import TLB
import Translation
import Workloads

/// The model half of the TLB-reach experiment: misses per access against
/// the working-set size for 4K, 2M and 1G pages with the host preset. Reach
/// is entries × page size; a uniformly random access over W bytes misses a
/// fully associative LRU TLB of reach R with probability about 1 - R/W once
/// W > R. The model's own counts are compared with that rule.
public struct TLBReachModelReproduction: Reproduction {
    public let name = "tlb-reach"
    public let source = "TLB reach = entries x page size (vendor optimization guides; see docs/TLB.md); "
        + "test-tlb (Torvalds) and lmbench tlb working-set sweeps"
    public let summary = "Model: TLB misses per access against working-set size, 4K/2M/1G pages, host preset"

    public init() {}

    /// The reach of the largest data level holding `size`, in entries.
    static func entries(of configuration: TLBConfiguration, size: PageSize) -> Int {
        configuration.levels.filter { $0.kind != .instruction }
            .flatMap(\.arrays).filter { $0.pageSizes.contains(size) }.map(\.entries).max() ?? 0
    }

    public func run(_ context: ReproductionContext) throws -> ReproductionOutcome {
        let configuration: TLBConfiguration
        var presetName = "host"
        do {
            configuration = try TLBPreset.named("host")
        } catch {
            presetName = "zen5"
            configuration = TLBPreset.zen5
        }
        var table = CSVTable(columns: [
            "preset", "page_size", "working_set_bytes", "reach_bytes", "accesses", "last_level_misses",
            "misses_per_access", "rule_misses_per_access", "abs_error", "status",
        ])
        var points = 0, within = 0
        var summary: [String] = []
        for size in PageSize.allCases {
            let reachEntries = Self.entries(of: configuration, size: size)
            guard reachEntries > 0 else { continue }
            let reach = UInt64(reachEntries) * size.bytes
            let exponents = context.quick ? [-2, 0, 2] : Array(-4...4)
            for exponent in exponents {
                let workingSet = exponent >= 0 ? reach << UInt64(exponent) : reach >> UInt64(-exponent)
                let pages = workingSet / size.bytes
                let accesses = min(max(pages * 20, context.quick ? 50_000 : 200_000), context.quick ? 300_000 : 2_000_000)
                // Warm up with one pass, then count.
                var simulator = try TranslationSimulator(configuration: configuration, engine: try NativeEngine(pageSize: size))
                var warm = StridedStream(region: WorkloadRegion(bytes: workingSet, accesses: pages), stride: size.bytes)
                try simulator.run(&warm)
                let warmWalks = simulator.statistics.walks
                var stream = UniformStream(region: WorkloadRegion(bytes: workingSet, accesses: accesses), seed: context.seed)
                try simulator.run(&stream)
                let misses = simulator.statistics.walks - warmWalks
                let rate = Double(misses) / Double(accesses)
                let rule = max(0, 1 - Double(reach) / Double(workingSet))
                let error = abs(rate - rule)
                let ok = error <= 0.15
                points += 1
                if ok { within += 1 }
                if exponent == 2 { summary.append("\(size) at 4x reach: " + String(format: "%.2f (rule %.2f)", rate, rule)) }
                table.append([presetName, size.name, "\(workingSet)", "\(reach)", "\(accesses)", "\(misses)",
                              String(format: "%.4f", rate), String(format: "%.4f", rule), String(format: "%.4f", error),
                              ok ? "PASS" : "DIFF"])
            }
        }
        try table.write(to: context.output("tlb-reach.csv"))
        return ReproductionOutcome(
            status: points > 0 && within == points ? .pass : .diff,
            obtained: "\(within)/\(points) points within 0.15 of the rule; " + summary.joined(separator: "; "),
            published: "misses/access ~ max(0, 1 - reach/W), reach = entries x page size",
            files: ["tlb-reach.csv"])
    }
}
