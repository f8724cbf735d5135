import ArgumentParser
import Experiments
import GuestMemory
import Translation

/// `vmemlab simulate --events FILE | --guest-workload NAME`: guest-OS event
/// workloads under native, nested, shadow or agile paging (`--paging`, or
/// `all`), through the strategy comparison. The TLB is the configuration's
/// (`--tlb` or `--tlb-preset`) when one is given; `--accesses` is the number
/// of events to generate. The JSON adds the shadow MMU's event counters and
/// the cost components.
extension SimulateCommand {
    func validateGuestOS() throws {
        guard trace == nil, workload == nil, traceFormat == nil else {
            throw ValidationError("--events and --guest-workload replace --trace and --workload; give one source")
        }
        if tlb != nil && tlbPreset != nil { throw ValidationError("give --tlb or --tlb-preset, not both") }
        _ = try StrategyOptions.strategies(paging)
        for (flag, value) in [("--guest-page", guestPage), ("--host-page", hostPage)] where PageSize(name: value) == nil {
            throw ValidationError("unknown page size '\(value)' for \(flag); known: 4K, 2M, 1G")
        }
        guard let bytes = ByteCount.positive(parsing: footprint), bytes >= 4096 else {
            throw ValidationError("--footprint '\(footprint)' is not a byte count of at least 4K")
        }
        guard accesses > 0, accesses <= 100_000_000 else { throw ValidationError("--accesses (events) must be between 1 and 100000000") }
        try guestOS.check(hostPage: hostPage)
    }

    func runGuestOS() throws {
        let host = PageSize(name: hostPage) ?? .size4K
        var comparison = guestOS.comparison(hostPage: host, tlbEntries: 1536, tlbWays: 12)
        comparison.caches.tlbLevels = try StrategyOptions.tlbLevels(file: tlb, preset: tlbPreset)
        print(try guestOS.run(try StrategyOptions.strategies(paging), comparison: comparison,
                              footprint: ByteCount.positive(parsing: footprint) ?? 64 << 20, guestPage: PageSize(name: guestPage) ?? .size4K,
                              seed: seed, count: Int(accesses), json: json))
    }
}
