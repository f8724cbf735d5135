import Foundation
import Translation

/// World switches and L0 exits for one guest page fault under shadow paging
/// on EPT, EPT on EPT and PVM, counted from the stacking model's own log,
/// beside Huang et al.'s formulas.
public struct PVMSwitchesReproduction: Reproduction {
    public let name = "pvm-switches"
    public let source = "Huang et al., PVM: Efficient Shadow Paging for Deploying Secure Containers, SOSP 2023"
    public let summary = "World switches and L0 exits per guest page fault: shadow-on-EPT, EPT-on-EPT, PVM"

    public init() {}

    /// The paper's formulas for an n-level table: (world switches, L0 exits).
    public static func published(_ stacking: NestedStacking, levels n: Int) -> (switches: Int, exits: Int) {
        switch stacking {
        case .shadowOnEPT: (4 * n + 8, 2 * n + 4)
        case .eptOnEPT: (2 * n + 6, n + 3)
        case .pvm: (2 * n + 4, 0)
        }
    }

    public func run(_ context: ReproductionContext) throws -> ReproductionOutcome {
        var table = CSVTable(columns: [
            "scheme", "levels", "world_switches", "l0_exits", "published_world_switches", "published_l0_exits",
            "published_formula", "status", "kvm_mmu_world_switches", "kvm_mmu_l0_exits",
        ])
        var log = CSVTable(columns: ["scheme", "levels", "step", "from", "to", "reason"])
        var matched = 0, total = 0
        var headline: [String] = []
        for stacking in NestedStacking.allCases {
            for mode in PagingMode.allCases {
                let counted = try PVMStackingModel.guestPageFault(stacking, mode: mode)
                let published = Self.published(stacking, levels: mode.levels)
                let ok = counted.worldSwitches == published.switches && counted.l0Exits == published.exits
                total += 1
                if ok { matched += 1 }
                let formula: String
                switch stacking {
                case .shadowOnEPT: formula = "4n+8 / 2n+4"
                case .eptOnEPT: formula = "2n+6 / n+3"
                case .pvm: formula = "2n+4 / 0"
                }
                let kvm = try PVMStackingModel.guestPageFaultWithShadowMMU(stacking, mode: mode)
                table.append([
                    stacking.rawValue, "\(mode.levels)", "\(counted.worldSwitches)", "\(counted.l0Exits)",
                    "\(published.switches)", "\(published.exits)", formula, ok ? "PASS" : "DIFF",
                    kvm.map { "\($0.worldSwitches)" } ?? "", kvm.map { "\($0.l0Exits)" } ?? "",
                ])
                for (step, change) in counted.switches.enumerated() {
                    log.append([stacking.rawValue, "\(mode.levels)", "\(step + 1)", change.from.rawValue, change.to.rawValue, change.reason])
                }
                if mode == .fourLevel { headline.append("\(stacking.rawValue) \(counted.worldSwitches)/\(counted.l0Exits)") }
            }
        }
        try table.write(to: context.output("pvm-switches.csv"))
        try log.write(to: context.output("pvm-switches-log.csv"))
        return ReproductionOutcome(
            status: matched == total ? .pass : .diff,
            obtained: "n=4: " + headline.joined(separator: ", ") + "; \(matched)/\(total) rows match",
            published: "n=4: shadow-on-ept 24/12, ept-on-ept 14/7, pvm 12/0",
            files: ["pvm-switches.csv", "pvm-switches-log.csv"])
    }
}
