import ShadowPaging
import Translation
import Workloads

/// A run of one guest-OS workload under the paging strategies.
public struct StrategyComparison: Sendable {
    public var mode: PagingMode = .fourLevel
    public var guestMemoryBytes: UInt64 = 1 << 30
    public var hostPageSize: PageSize = .size4K
    public var costs = StrategyCostParameters()
    public var caches = StrategyCacheParameters()
    public var policy = AgilePolicy()

    public init() {}

    /// Why a comparison could not run: a bad TLB configuration, or an event
    /// (numbered from 1) the guest kernel refused.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `events` under `strategy`. The first `warmup` events run but are
    /// not counted (the caches and shadow tables stay warm).
    public func run(_ strategy: PagingStrategy, events: [GuestOSEvent], warmup: Int = 0) throws(Failure) -> StrategyResult {
        var machine: StrategySimulator
        do {
            machine = try StrategySimulator(strategy: strategy, mode: mode, guestMemoryBytes: guestMemoryBytes,
                                            hostPageSize: hostPageSize, costs: costs, caches: caches, policy: policy)
        } catch {
            throw Failure(description: "TLB configuration: \(error)")
        }
        var kernel = GuestKernel(mode: mode, memoryBytes: guestMemoryBytes)
        for (index, event) in events.enumerated() {
            if index == warmup { machine.resetCounts() }
            do {
                try kernel.apply(event, on: &machine)
            } catch {
                throw Failure(description: "event \(index + 1): \(error)")
            }
        }
        if warmup >= events.count { machine.resetCounts() }
        return machine.costReport
    }

    /// The number of leading events of a named workload that only set it up
    /// (mapping and first-touching its data): the events before the first
    /// access that is not a first touch. Zero for workloads without a
    /// populate phase.
    public static func warmup(of workload: GuestOSWorkload, events: [GuestOSEvent], options: GuestOSWorkloadOptions) -> Int {
        switch workload {
        case .gups, .mixed: return min(events.count, 2 + Int(options.footprintBytes / options.pageSize.bytes))
        case .forkChurn: return min(events.count, 2 + Int(min(options.footprintBytes, 8 << 20) / options.pageSize.bytes))
        case .faultStorm: return 0
        }
    }
}
