import ArgumentParser
import Experiments
import Foundation
import ShadowPaging
import Translation
import Workloads

/// `vmemlab strategy`: runs a guest-OS event workload under native, nested,
/// shadow and agile paging and reports each one's TLB and walk cost and its
/// virtualization events, with every cost component separate.
public struct StrategyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "strategy",
        abstract: "Compare native, nested, shadow and agile paging on a guest-OS event workload.",
        discussion: """
            Give a trace (--events FILE, the format in docs/SHADOW.md) or a named workload \
            (--guest-workload gups|fork-churn|fault-storm|mixed). Costs are cycles: TLB misses walk \
            through a page-walk cache (and a nested TLB for 2D walks); shadow and agile add exits, \
            emulated page-table writes and syncs, each with its own cost. Defaults are labelled in --json.
            """
    )

    @Option(help: "Strategies: native, nested, shadow, agile or all (comma-separated).")
    var paging: String = "all"

    @OptionGroup var options: StrategyOptions

    @Option(help: "Events to generate for --guest-workload.")
    var count: Int = 200_000

    @Option(help: "The workload's data footprint (e.g. 64M).")
    var footprint: String = "64M"

    @Option(help: "The workload's data page size: 4K, 2M or 1G.")
    var guestPage: String = "4K"

    @Option(help: "The seed of the workload generator.")
    var seed: UInt64 = 42

    @Option(help: "The host page size backing guest memory: 4K, 2M or 1G.")
    var hostPage: String = "4K"

    @Option(help: "TLB entries of the built-in single-level TLB.") var tlbEntries: Int = 1536
    @Option(help: "TLB ways of the built-in single-level TLB.") var tlbWays: Int = 12
    @Option(help: "A TLB configuration file (TOML, as for simulate) instead of the built-in level.") var tlb: String?
    @Option(help: "A named TLB preset, or host, instead of the built-in level.") var tlbPreset: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    public init() {}

    public func validate() throws {
        _ = try StrategyOptions.strategies(paging)
        for (flag, text) in [("--guest-page", guestPage), ("--host-page", hostPage)] where PageSize(name: text) == nil {
            throw ValidationError("\(flag) '\(text)' is not 4K, 2M or 1G")
        }
        try options.check(hostPage: hostPage)
        guard StrategyOptions.parseSize(footprint) != nil else { throw ValidationError("--footprint '\(footprint)' is not a size") }
        guard count > 0 else { throw ValidationError("--count must be positive") }
        if tlb != nil && tlbPreset != nil { throw ValidationError("give --tlb or --tlb-preset, not both") }
        guard tlbEntries > 0, tlbWays > 0, tlbEntries % tlbWays == 0 else {
            throw ValidationError("--tlb-entries (\(tlbEntries)) must be a positive multiple of --tlb-ways (\(tlbWays))")
        }
    }

    public func run() throws {
        let host = PageSize(name: hostPage) ?? .size4K
        var comparison = options.comparison(hostPage: host, tlbEntries: tlbEntries, tlbWays: tlbWays)
        comparison.caches.tlbLevels = try StrategyOptions.tlbLevels(file: tlb, preset: tlbPreset)
        print(try options.run(try StrategyOptions.strategies(paging), comparison: comparison,
                              footprint: StrategyOptions.parseSize(footprint) ?? 64 << 20, guestPage: PageSize(name: guestPage) ?? .size4K,
                              seed: seed, count: count, json: json))
    }
}

/// Formats strategy results.
enum StrategyReport {
    static func json(source: String, events: Int, warmup: Int, comparison: StrategyComparison, results: [StrategyResult]) -> String {
        func number(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value) }
        func quote(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var parameters: [String] = [
            "\"walk_reference_cycles\": \(number(comparison.costs.walkReferenceCycles))",
            "\"walk_cache_hit_cycles\": \(number(comparison.costs.walkCacheHitCycles))",
            "\"page_table_write_trap_cycles\": \(number(comparison.costs.pageTableWriteTrapCycles))",
            "\"exit_cycles\": \(number(comparison.costs.exitCycles))",
            "\"sync_entry_cycles\": \(number(comparison.costs.syncEntryCycles))",
            "\"tlb_entries\": \(comparison.caches.tlbEntries)", "\"tlb_ways\": \(comparison.caches.tlbWays)",
            "\"walk_cache_entries\": \(comparison.caches.walkCacheEntries)",
            "\"walk_cache_holds_nested\": \(comparison.caches.walkCacheHoldsNested)",
            "\"nested_tlb_entries\": \(comparison.caches.nestedTLBEntries)",
            "\"host_page\": \(quote(comparison.hostPageSize.name))", "\"levels\": \(comparison.mode.levels)",
            "\"agile_switch_threshold\": \(comparison.policy.switchThreshold)",
            "\"agile_interval_events\": \(comparison.policy.intervalEvents)",
        ]
        parameters.append("\"cost_sources\": {" + StrategyCostParameters.sources.map { "\(quote($0.0)): \(quote($0.1))" }.joined(separator: ", ") + "}")
        let strategies = results.map { result -> String in
            let counters = result.shadow.named.map { "\(quote($0.0)): \($0.1)" }.joined(separator: ", ")
            return """
                {"paging": \(quote(result.strategy.rawValue)), "accesses": \(result.accesses), "tlb_hits": \(result.tlbHits), \
                "tlb_misses": \(result.tlbMisses), "walk_refs": \(result.walkReferences), "walk_cache_hits": \(result.walkCacheHits), \
                "nested_tlb_hits": \(result.nestedTLBHits), "guest_page_faults": \(result.guestPageFaults), \
                "agile_to_nested": \(result.agileToNested), "agile_to_shadow": \(result.agileToShadow), \
                "events": {\(counters)}, \
                "cost_cycles": {"tlb_and_walk": \(number(result.walkCycles)), "page_table_write_traps": \(number(result.trapCycles)), \
                "exits": \(number(result.exitCycles)), "syncs": \(number(result.syncCycles)), "total": \(number(result.totalCycles))}, \
                "cycles_per_access": \(number(result.cyclesPerAccess))}
                """
        }
        return """
            {"workload": \(quote(source)), "events": \(events), "warmup_events": \(warmup), \
            "parameters": {\(parameters.joined(separator: ", "))}, "strategies": [\(strategies.joined(separator: ", "))]}
            """
    }

    static func table(_ results: [StrategyResult]) -> String {
        let header = ["paging", "accesses", "tlb_misses", "walk_refs", "exits", "traps", "syncs", "walk_cyc", "trap_cyc", "exit_cyc", "sync_cyc", "total_cyc", "cyc/access"]
        var rows = [header]
        for result in results {
            rows.append([
                result.strategy.rawValue, "\(result.accesses)", "\(result.tlbMisses)", "\(result.walkReferences)",
                "\(result.shadow.exits)", "\(result.shadow.pageTableWriteTraps)", "\(result.shadow.syncs)",
                String(format: "%.0f", result.walkCycles), String(format: "%.0f", result.trapCycles),
                String(format: "%.0f", result.exitCycles), String(format: "%.0f", result.syncCycles),
                String(format: "%.0f", result.totalCycles), String(format: "%.1f", result.cyclesPerAccess),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
