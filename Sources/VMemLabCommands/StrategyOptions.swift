import ArgumentParser
import Experiments
import Foundation
import TLB
import Translation
import Workloads

/// The options of a guest-OS strategy run that other commands do not
/// already have: the event source, the guest, the walk caches, the costs of
/// each virtualization event and agile paging's policy.
public struct StrategyOptions: ParsableArguments {
    @Option(help: "A guest-OS event trace file (format: docs/SHADOW.md).")
    var events: String?

    @Option(help: "A named guest-OS workload: gups, fork-churn, fault-storm or mixed.")
    var guestWorkload: String?

    @Option(help: "For mixed: fresh-page faults per GUPS access.")
    var updateRatio: Double = 0.01

    @Option(help: "Leading events run but not counted (default: a named workload's populate phase; 0 for a trace).")
    var warmup: Int?

    @Option(help: "Paging levels of the guest (4 or 5).")
    var levels: Int = 4

    @Option(help: "Guest-physical memory size (e.g. 1G).")
    var guestMemory: String = "1G"

    @Option(help: "Page-walk cache entries (keyed by entry address).") var pwcEntries: Int = 32
    @Flag(help: "A 1D page-walk cache: nested references bypass it.") var pwc1d = false
    @Option(help: "Nested TLB entries (gPA to hPA), 0 for none.") var ntlbEntries: Int = 16
    @Option(help: "Cycles per walk reference that misses the walk cache (default 40, an assumption).") var walkRefCycles: Double?
    @Option(help: "Cycles per walk-cache hit (default 2, an assumption).") var pwcHitCycles: Double?
    @Option(help: "Cycles per trapped, emulated page-table write (default 8300, measured on this machine).") var trapCycles: Double?
    @Option(help: "Cycles per other exit (default 4150, from the PVM paper).") var exitCycles: Double?
    @Option(help: "Cycles per guest entry re-read while syncing (default 10, an assumption).") var syncEntryCycles: Double?
    @Option(help: "Agile: VMM interventions on a table within an interval that move it to nested mode.") var agileThreshold: Int = 2
    @Option(help: "Agile: the policy interval, in guest-OS operations.") var agileInterval: Int = 10_000

    public init() {}

    /// Whether a guest-OS event source was given.
    var isActive: Bool { events != nil || guestWorkload != nil }

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

    /// The strategies named by a comma-separated list, or all of them.
    static func strategies(_ list: String) throws -> [PagingStrategy] {
        if list == "all" { return PagingStrategy.allCases }
        return try list.split(separator: ",").map { name in
            guard let strategy = PagingStrategy(rawValue: String(name)) else {
                throw ValidationError("unknown paging '\(name)'; use native, nested, shadow, agile or all")
            }
            return strategy
        }
    }

    /// Checks the options against the host page size the command uses.
    func check(hostPage: String) throws {
        if (events == nil) == (guestWorkload == nil) { throw ValidationError("give exactly one of --events FILE and --guest-workload NAME") }
        if let name = guestWorkload, GuestOSWorkload(rawValue: name) == nil {
            throw ValidationError("unknown guest workload '\(name)'; known: \(GuestOSWorkload.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let memory = Self.parseSize(guestMemory), memory >= 8 << 20, memory <= 32 << 30, memory % (2 << 20) == 0 else {
            throw ValidationError("--guest-memory '\(guestMemory)' must be a multiple of 2M between 8M and 32G")
        }
        if let host = PageSize(name: hostPage), memory % host.bytes != 0 {
            throw ValidationError("--guest-memory must be a multiple of the host page size")
        }
        guard levels == 4 || levels == 5 else { throw ValidationError("--levels must be 4 or 5") }
        guard pwcEntries >= 0, ntlbEntries >= 0, agileThreshold > 0, agileInterval > 0, updateRatio >= 0, (warmup ?? 0) >= 0 else {
            throw ValidationError("cache sizes, the update ratio, the warm-up and the agile knobs must not be negative")
        }
    }

    /// The TLB levels of a configuration file or a preset, if either is given.
    static func tlbLevels(file: String?, preset: String?) throws -> [TLBLevelConfiguration]? {
        do {
            if let path = file {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw CommandFailure("cannot read TLB configuration '\(path)'")
                }
                return try TLBConfiguration(toml: text).levels
            }
            if let preset { return try TLBPreset.named(preset).levels }
            return nil
        } catch let error as TLBConfigurationError {
            throw CommandFailure("\(file.map { "\($0): " } ?? "")\(error)")
        }
    }

    /// The comparison these options describe.
    func comparison(hostPage: PageSize, tlbEntries: Int, tlbWays: Int) -> StrategyComparison {
        var comparison = StrategyComparison()
        comparison.mode = levels == 5 ? .fiveLevel : .fourLevel
        comparison.guestMemoryBytes = Self.parseSize(guestMemory) ?? 1 << 30
        comparison.hostPageSize = hostPage
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
        return comparison
    }

    /// Reads the trace or generates the workload: the events, their source
    /// and how many lead-in events are not counted.
    func loadEvents(footprint: UInt64, guestPage: PageSize, seed: UInt64, count: Int) throws -> (events: [GuestOSEvent], source: String, warmup: Int) {
        if let path = events {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure("cannot read event trace '\(path)'")
            }
            do {
                return (try GuestOSTrace.parse(text), path, warmup ?? 0)
            } catch {
                throw CommandFailure("\(path): \(error)")
            }
        }
        let workload = GuestOSWorkload(rawValue: guestWorkload ?? "") ?? .gups
        let options = GuestOSWorkloadOptions(seed: seed, events: count, footprintBytes: footprint, pageSize: guestPage,
                                             updateRatio: updateRatio)
        let generated = workload.events(options)
        return (generated, workload.rawValue, warmup ?? StrategyComparison.warmup(of: workload, events: generated, options: options))
    }

    /// Runs each strategy, printing its speed on stderr, and returns the report.
    func run(_ strategies: [PagingStrategy], comparison: StrategyComparison, footprint: UInt64, guestPage: PageSize, seed: UInt64,
             count: Int, json: Bool) throws -> String {
        let (stream, source, skip) = try loadEvents(footprint: footprint, guestPage: guestPage, seed: seed, count: count)
        var results: [StrategyResult] = []
        for strategy in strategies {
            let start = ContinuousClock.now
            do {
                results.append(try comparison.run(strategy, events: stream, warmup: skip))
            } catch {
                throw CommandFailure("\(source): \(error)")
            }
            let elapsed = start.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let rate = Double(stream.count) / max(seconds, 1e-9)
            FileHandle.standardError.write(Data(String(format: "%@: %d guest-OS events in %.2f s (%.0f events/s)\n",
                                                       strategy.rawValue, stream.count, seconds, rate).utf8))
        }
        return json ? StrategyReport.json(source: source, events: stream.count, warmup: skip, comparison: comparison, results: results)
            : StrategyReport.table(results)
    }
}
