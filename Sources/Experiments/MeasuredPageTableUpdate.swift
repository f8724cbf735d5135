import Foundation
import KVM

/// `measure pt-update`: the cost of a guest store into one of its own page
/// tables. The guest maps its page-table pool writable and repeats one
/// 8-byte store of 0 into an unused entry of a table in use: the PT that
/// maps its code (a leaf table) or the PD above it (a non-leaf table). Under
/// shadow paging KVM write-protects shadowed tables; a leaf table can go
/// unsync, after which stores cost what ordinary stores cost, while a store
/// into a non-leaf table traps and is emulated every time.
public struct MeasuredPageTableUpdate: Sendable {
    public enum TableLevel: String, Sendable, CaseIterable {
        case leaf, nonleaf
        var level: Int { self == .leaf ? 1 : 2 }
    }

    public var repetitions: Int
    /// Stores per timed run, by level (a trapping store costs thousands of cycles).
    public var stores: [TableLevel: UInt64]

    public init(repetitions: Int, stores: [TableLevel: UInt64]) {
        self.repetitions = repetitions
        self.stores = stores
    }

    public static func standard(quick: Bool) -> MeasuredPageTableUpdate {
        MeasuredPageTableUpdate(repetitions: quick ? 5 : 11,
                                stores: [.leaf: quick ? 200_000 : 1_000_000, .nonleaf: quick ? 2_000 : 10_000])
    }

    /// All repetitions of one level.
    public struct Point: Sendable {
        public var level: TableLevel
        public var stores: UInt64
        public var cyclesPerStore: MeasuredSummary
        /// Medians of the VM and vCPU statistics deltas of the timed runs.
        public var statistics: [String: Double]
    }

    /// Untimed stores before the timed run (the first store to a leaf table
    /// is the one that makes KVM unsync it).
    public static let warmUpStores: UInt64 = 100

    /// The statistics written as columns, VM first. VM deltas cover the
    /// warm-up and timed stores; vCPU deltas the timed run alone.
    public static let vmStatistics = ["mmu_pte_write", "mmu_unsync", "mmu_flooded", "mmu_shadow_zapped", "mmu_pde_zapped",
                                      "remote_tlb_flush"]
    public static let vcpuStatistics = ["pf_emulate", "pf_fixed", "exits", "insn_emulation"]

    /// Runs the levels interleaved, each repetition in a fresh VM: one
    /// warm-up run of 100 stores, then the timed run.
    public func run(_ context: KVMMeasurementContext) throws -> [Point] {
        var cycles: [TableLevel: [Double]] = [:]
        var statistics: [TableLevel: [String: [Double]]] = [:]
        for _ in 0..<repetitions {
            for level in TableLevel.allCases {
                let session = try GuestSession(device: context.device,
                                               configuration: GuestConfiguration(dataBytes: 1 << 20,
                                                                                 mapPageTablesIntoGuest: true),
                                               cpuid: context.cpuid)
                let target = try session.unusedEntryVirtualAddress(level: level.level)
                let before = try session.vmStatisticsSnapshot()
                _ = try session.run(.storeLoop, KernelArguments(rdi: target, rsi: Self.warmUpStores, rdx: 0))
                let count = stores[level] ?? 1000
                let result = try session.run(.storeLoop, KernelArguments(rdi: target, rsi: count, rdx: 0))
                guard result.checksum == count else { throw KVMError.kernelCheckFailed("the store loop stopped early") }
                cycles[level, default: []].append(Double(result.cycles) / Double(count))
                let vmDelta = try session.vmStatisticsSnapshot().delta(since: before)
                for name in Self.vmStatistics {
                    statistics[level, default: [:]][name, default: []].append(Double(vmDelta[name] ?? 0))
                }
                for name in Self.vcpuStatistics {
                    statistics[level, default: [:]][name, default: []].append(Double(result.vcpu(name)))
                }
            }
        }
        return TableLevel.allCases.map { level in
            Point(level: level, stores: stores[level] ?? 1000, cyclesPerStore: MeasuredSummary(cycles[level] ?? [0]),
                  statistics: (statistics[level] ?? [:]).mapValues { MeasuredSummary($0).median })
        }
    }

    public static let columns = ["table_level", "stores", "vm_stores_total", "cycles_per_store", "cycles_p25", "cycles_p75", "cycles_cov",
                                 "high_variation", "ns_per_store", "repetitions"]
        + vmStatistics.map { "kvm_\($0)" } + vcpuStatistics.map { "kvm_\($0)" } + KVMMeasurementContext.environmentColumns

    public func table(_ points: [Point], _ context: KVMMeasurementContext) -> CSVTable {
        var table = CSVTable(columns: Self.columns)
        for point in points {
            table.append([point.level.rawValue, "\(point.stores)", "\(point.stores + Self.warmUpStores)", csvNumber(point.cyclesPerStore.median),
                          csvNumber(point.cyclesPerStore.p25), csvNumber(point.cyclesPerStore.p75),
                          csvNumber(point.cyclesPerStore.coefficientOfVariation, decimals: 3),
                          point.cyclesPerStore.isNoisy ? "yes" : "no",
                          csvNumber(context.nanoseconds(cycles: point.cyclesPerStore.median)),
                          "\(point.cyclesPerStore.samples.count)"]
                         + (Self.vmStatistics + Self.vcpuStatistics).map { csvNumber(point.statistics[$0] ?? 0, decimals: 1) }
                         + context.environmentFields)
        }
        return table
    }
}
