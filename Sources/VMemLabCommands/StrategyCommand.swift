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

    @Option(help: "A guest-OS event trace file.")
    var events: String?

    @Option(help: "A named guest-OS workload: gups, fork-churn, fault-storm or mixed.")
    var guestWorkload: String?

    @Option(help: "Events to generate for --guest-workload.")
    var count: Int = 200_000

    @Option(help: "The workload's data footprint (e.g. 64M).")
    var footprint: String = "64M"

    @Option(help: "The workload's data page size: 4K, 2M or 1G.")
    var guestPage: String = "4K"

    @Option(help: "For mixed: fresh-page faults per GUPS access.")
    var updateRatio: Double = 0.01

    @Option(help: "The seed of the workload generator.")
    var seed: UInt64 = 42

    @Option(help: "Leading events run but not counted (default: a named workload's populate phase; 0 for a trace).")
    var warmup: Int?

    @Option(help: "The host page size backing guest memory: 4K, 2M or 1G.")
    var hostPage: String = "4K"

    @Option(help: "Paging levels of the guest (4 or 5).")
    var levels: Int = 4

    @Option(help: "Guest-physical memory size (e.g. 1G).")
    var guestMemory: String = "1G"

    @Option(help: "TLB entries.") var tlbEntries: Int = 1536
    @Option(help: "TLB ways.") var tlbWays: Int = 12
    @Option(help: "Page-walk cache entries (keyed by entry address).") var pwcEntries: Int = 32
    @Flag(help: "A 1D page-walk cache: nested references bypass it.") var pwc1d = false
    @Option(help: "Nested TLB entries (gPA to hPA), 0 for none.") var ntlbEntries: Int = 16
    @Option(help: "Cycles per walk reference that misses the walk cache.") var walkRefCycles: Double?
    @Option(help: "Cycles per walk-cache hit.") var pwcHitCycles: Double?
    @Option(help: "Cycles per trapped, emulated page-table write.") var trapCycles: Double?
    @Option(help: "Cycles per other exit (faults, CR3 loads, INVLPG, flushes).") var exitCycles: Double?
    @Option(help: "Cycles per guest entry re-read while syncing.") var syncEntryCycles: Double?
    @Option(help: "Agile: VMM interventions on a table within an interval that move it to nested mode.") var agileThreshold: Int = 2
    @Option(help: "Agile: the policy interval, in guest-OS operations.") var agileInterval: Int = 10_000

    @Flag(help: "Print one JSON object.")
    var json = false

    public init() {}

    /// A size such as `64M`, `1G`, `4096` or `0x1000`.
    static func parseSize(_ text: String) -> UInt64? {
        var body = text.uppercased()
        var scale: UInt64 = 1
        if body.hasSuffix("IB") { body.removeLast(2) } else if body.hasSuffix("B") { body.removeLast() }
        switch body.last {
        case "K": scale = 1 << 10
        case "M": scale = 1 << 20
        case "G": scale = 1 << 30
        default: break
        }
        if scale != 1 { body.removeLast() }
        let value = body.hasPrefix("0X") ? UInt64(body.dropFirst(2), radix: 16) : UInt64(body)
        guard let value, value.multipliedReportingOverflow(by: scale).overflow == false else { return nil }
        return value * scale
    }

    func strategies() throws -> [PagingStrategy] {
        if paging == "all" { return PagingStrategy.allCases }
        return try paging.split(separator: ",").map { name in
            guard let strategy = PagingStrategy(rawValue: String(name)) else {
                throw ValidationError("unknown paging '\(name)'; use native, nested, shadow, agile or all")
            }
            return strategy
        }
    }

    public func validate() throws {
        if (events == nil) == (guestWorkload == nil) { throw ValidationError("give exactly one of --events FILE and --guest-workload NAME") }
        if let name = guestWorkload, GuestOSWorkload(rawValue: name) == nil {
            throw ValidationError("unknown guest workload '\(name)'; known: \(GuestOSWorkload.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        _ = try strategies()
        for (flag, text) in [("--guest-page", guestPage), ("--host-page", hostPage)] where PageSize(name: text) == nil {
            throw ValidationError("\(flag) '\(text)' is not 4K, 2M or 1G")
        }
        guard let memory = Self.parseSize(guestMemory), memory >= 8 << 20, memory <= 32 << 30, memory % (2 << 20) == 0 else {
            throw ValidationError("--guest-memory '\(guestMemory)' must be a multiple of 2M between 8M and 32G")
        }
        if let host = PageSize(name: hostPage), memory % host.bytes != 0 {
            throw ValidationError("--guest-memory must be a multiple of the host page size")
        }
        guard Self.parseSize(footprint) != nil else { throw ValidationError("--footprint '\(footprint)' is not a size") }
        guard levels == 4 || levels == 5 else { throw ValidationError("--levels must be 4 or 5") }
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard tlbEntries > 0, tlbWays > 0, tlbEntries % tlbWays == 0 else {
            throw ValidationError("--tlb-entries (\(tlbEntries)) must be a positive multiple of --tlb-ways (\(tlbWays))")
        }
        guard pwcEntries >= 0, ntlbEntries >= 0, agileThreshold > 0, agileInterval > 0, updateRatio >= 0 else {
            throw ValidationError("cache sizes, the update ratio and the agile knobs must not be negative")
        }
    }

    public func run() throws {
        var comparison = StrategyComparison()
        comparison.mode = levels == 5 ? .fiveLevel : .fourLevel
        comparison.guestMemoryBytes = Self.parseSize(guestMemory) ?? 1 << 30
        comparison.hostPageSize = PageSize(name: hostPage) ?? .size4K
        comparison.caches.tlbEntries = tlbEntries
        comparison.caches.tlbWays = tlbWays
        comparison.caches.walkCacheEntries = pwcEntries
        comparison.caches.walkCacheHoldsNested = !pwc1d
        comparison.caches.nestedTLBEntries = ntlbEntries
        if let walkRefCycles { comparison.costs.walkReferenceCycles = walkRefCycles }
        if let pwcHitCycles { comparison.costs.walkCacheHitCycles = pwcHitCycles }
        if let trapCycles { comparison.costs.pageTableWriteTrapCycles = trapCycles }
        if let exitCycles { comparison.costs.exitCycles = exitCycles }
        if let syncEntryCycles { comparison.costs.syncEntryCycles = syncEntryCycles }
        comparison.policy.switchThreshold = agileThreshold
        comparison.policy.intervalEvents = agileInterval

        let workloadEvents: [GuestOSEvent]
        let source: String
        var skip = warmup ?? 0
        if let path = events {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure("cannot read event trace '\(path)'")
            }
            do {
                workloadEvents = try GuestOSTrace.parse(text)
            } catch {
                throw CommandFailure("\(path): \(error)")
            }
            source = path
        } else {
            let workload = GuestOSWorkload(rawValue: guestWorkload ?? "") ?? .gups
            let options = GuestOSWorkloadOptions(seed: seed, events: count, footprintBytes: Self.parseSize(footprint) ?? 64 << 20,
                                                 pageSize: PageSize(name: guestPage) ?? .size4K, updateRatio: updateRatio)
            workloadEvents = workload.events(options)
            source = workload.rawValue
            if warmup == nil { skip = StrategyComparison.warmup(of: workload, events: workloadEvents, options: options) }
        }

        var results: [StrategyResult] = []
        for strategy in try strategies() {
            let start = ContinuousClock.now
            do {
                results.append(try comparison.run(strategy, events: workloadEvents, warmup: skip))
            } catch {
                throw CommandFailure("\(source): \(error)")
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            FileHandle.standardError.write(Data("\(strategy.rawValue): \(workloadEvents.count) events in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", Double(workloadEvents.count) / max(seconds, 1e-9))) events/s)\n".utf8))
        }
        if json {
            print(StrategyReport.json(source: source, events: workloadEvents.count, warmup: skip, comparison: comparison, results: results))
        } else {
            print(StrategyReport.table(results))
        }
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
