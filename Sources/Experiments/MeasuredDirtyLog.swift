import Foundation
import KVM
import Translation

/// `measure dirty-log`: the phases of dirty logging that the Linux KVM
/// selftests `dirty_log_perf_test` and `kvm_page_table_test` time, for each
/// host backing, on a guest that maps its data with 2 MiB pages (so that a
/// THP backing gives KVM 2 MiB mappings to split):
/// - `populate`: a first write to every 4 KiB page (untimed baseline);
/// - `enable`: `KVM_MEM_LOG_DIRTY_PAGES` on the slot, which write-protects
///   and splits large mappings;
/// - `write`: a write to every page, each now a logged write fault;
/// - `get+clear`: `KVM_GET_DIRTY_LOG` and `KVM_CLEAR_DIRTY_LOG` (manual
///   protect), or with the dirty ring: harvesting the ring and
///   `KVM_RESET_DIRTY_RINGS`;
/// - `rewrite`: a write to every page after the clear;
/// - `disable`: logging off, after which mappings may be merged again;
/// - `write-after-disable`: a write to every page once more.
public struct MeasuredDirtyLog: Sendable {
    public var bytes: Int
    public var repetitions: Int
    public var backings: [HostBacking] = [.anonymous4K, .transparentHuge, .hugetlb2M]
    public var guestPage: PageSize = .size2M

    /// How dirty pages are collected.
    public enum Method: String, Sendable, CaseIterable {
        /// `KVM_GET_DIRTY_LOG` (+ `KVM_CLEAR_DIRTY_LOG` with manual protect).
        case bitmap
        /// The per-vCPU dirty ring (`KVM_CAP_DIRTY_LOG_RING`).
        case ring
    }

    public init(bytes: Int, repetitions: Int) {
        self.bytes = bytes
        self.repetitions = repetitions
    }

    public static func standard(quick: Bool) -> MeasuredDirtyLog {
        MeasuredDirtyLog(bytes: (quick ? 64 : 256) << 20, repetitions: quick ? 3 : 7)
    }

    public static let phases = ["populate", "enable", "write", "get+clear", "rewrite", "disable", "write-after-disable"]

    /// One phase of one backing over all repetitions.
    public struct Point: Sendable {
        public var method: Method
        public var backing: HostBacking
        public var phase: String
        public var nanoseconds: MeasuredSummary
        /// Medians of the mapping-count deltas and of the dirty pages seen.
        public var pages4KDelta: Double, pages2MDelta: Double
        public var dirtyPages: Double
        public var faults: Double
    }

    /// The dirty-ring size for this working set: 16 bytes an entry, twice the
    /// pages, a power of two; nil when KVM offers no ring that large.
    func ringBytes(_ context: KVMMeasurementContext) -> Int? {
        var bytes = 4096
        while bytes < 2 * (self.bytes >> 12) * 16 { bytes <<= 1 }
        let vm = try? context.device.makeVirtualMachine()
        let available = (try? vm?.capability(.dirtyLogRing)) ?? 0
        return Int(available) >= bytes ? bytes : nil
    }

    public func run(_ context: KVMMeasurementContext) throws -> (points: [Point], skipped: [(HostBacking, String)]) {
        let manualProtect = (try? context.device.capability(.manualDirtyLogProtect)) ?? 0
        let ring = ringBytes(context)
        let methods: [Method] = ring == nil ? [.bitmap] : [.bitmap, .ring]
        var runnable: [HostBacking] = [], skipped: [(HostBacking, String)] = []
        for backing in backings {
            if let reason = MeasuredTLBReach.skipReason(.init(guestPage: guestPage, backing: backing), bytes: bytes, context) {
                skipped.append((backing, reason))
            } else {
                runnable.append(backing)
            }
        }
        struct Sample { var ns: [Double] = []; var p4: [Double] = []; var p2: [Double] = []; var dirty: [Double] = []
                        var faults: [Double] = [] }
        var samples: [Method: [HostBacking: [String: Sample]]] = [:]
        let pages = bytes >> 12
        for repetition in 0..<repetitions {
            for method in methods {
            for backing in runnable {
                let session = try GuestSession(device: context.device,
                                               configuration: GuestConfiguration(dataBytes: bytes, guestPage: guestPage,
                                                                                 backing: backing,
                                                                                 dirtyRingBytes: method == .ring ? ring : nil),
                                               cpuid: context.cpuid)
                if method == .bitmap && manualProtect & 1 != 0 {
                    try session.vm.enableManualDirtyLogProtect()
                }
                func record(_ phase: String, ns: Double, before: StatisticsSnapshot, dirty: Int = 0, faults: Int64 = 0) throws {
                    let after = try session.vmStatisticsSnapshot()
                    var sample = samples[method, default: [:]][backing, default: [:]][phase, default: Sample()]
                    sample.ns.append(ns)
                    sample.p4.append(Double(Int64(bitPattern: after["pages_4k"] &- before["pages_4k"])))
                    sample.p2.append(Double(Int64(bitPattern: after["pages_2m"] &- before["pages_2m"])))
                    sample.dirty.append(Double(dirty))
                    sample.faults.append(Double(faults))
                    samples[method, default: [:]][backing, default: [:]][phase] = sample
                }
                func sweep(_ phase: String, tag: UInt64) throws {
                    let before = try session.vmStatisticsSnapshot()
                    let result = try session.run(.writeSweep, KernelArguments(rdi: GuestLayout.dataVirtual, rsi: UInt64(pages),
                                                                              rdx: 4096, rcx: tag))
                    guard result.checksum == UInt64(pages),
                          session.data.base.load(fromByteOffset: bytes - 4096, as: UInt64.self) == tag
                    else { throw KVMError.kernelCheckFailed("the write sweep did not reach the last page") }
                    try record(phase, ns: context.nanoseconds(cycles: Double(result.cycles)), before: before,
                               faults: result.vcpu("pf_fixed"))
                }
                func timed(_ phase: String, _ body: () throws -> Int) throws {
                    let before = try session.vmStatisticsSnapshot()
                    let start = DispatchTime.now().uptimeNanoseconds
                    let dirty = try body()
                    try record(phase, ns: Double(DispatchTime.now().uptimeNanoseconds - start), before: before, dirty: dirty)
                }
                try sweep("populate", tag: UInt64(repetition) << 8 | 1)
                try timed("enable") { try session.vm.setFlags(.logDirtyPages, ofSlot: GuestLayout.dataSlot); return 0 }
                try sweep("write", tag: UInt64(repetition) << 8 | 2)
                try timed("get+clear") {
                    let dirty: Int
                    if method == .ring {
                        dirty = Set(try session.harvestDirtyData()).count
                    } else {
                        let bitmap = try session.vm.dirtyLog(slot: GuestLayout.dataSlot)
                        if manualProtect & 1 != 0 { try session.vm.clearDirtyLog(slot: GuestLayout.dataSlot, bitmap) }
                        dirty = bitmap.dirtyCount
                    }
                    guard dirty == pages else {
                        throw KVMError.kernelCheckFailed("the \(method) dirty log has \(dirty) of \(pages) pages")
                    }
                    return dirty
                }
                try sweep("rewrite", tag: UInt64(repetition) << 8 | 3)
                try timed("disable") { try session.vm.setFlags([], ofSlot: GuestLayout.dataSlot); return 0 }
                try sweep("write-after-disable", tag: UInt64(repetition) << 8 | 4)
            }
            }
        }
        var points: [Point] = []
        for method in methods {
        for backing in runnable {
            for phase in Self.phases {
                guard let sample = samples[method]?[backing]?[phase] else { continue }
                points.append(Point(method: method, backing: backing, phase: phase, nanoseconds: MeasuredSummary(sample.ns),
                                    pages4KDelta: MeasuredSummary(sample.p4).median,
                                    pages2MDelta: MeasuredSummary(sample.p2).median,
                                    dirtyPages: MeasuredSummary(sample.dirty).median,
                                    faults: MeasuredSummary(sample.faults).median))
            }
        }
        }
        return (points, skipped)
    }

    public static let columns = ["backing", "guest_page", "phase", "pages", "ns", "ns_p25", "ns_p75", "ns_per_page",
                                 "cov", "high_variation", "dirty_pages", "kvm_pages_4k_delta", "kvm_pages_2m_delta",
                                 "kvm_pf_fixed", "repetitions", "dirty_log_method", "status"]
        + KVMMeasurementContext.environmentColumns

    public func table(_ result: (points: [Point], skipped: [(HostBacking, String)]), _ context: KVMMeasurementContext)
        -> CSVTable
    {
        let manualProtect = ((try? context.device.capability(.manualDirtyLogProtect)) ?? 0) & 1 != 0
        func methodName(_ method: Method) -> String {
            switch method {
            case .bitmap: manualProtect ? "bitmap+manual-protect" : "bitmap"
            case .ring: "ring (\(ringBytes(context) ?? 0) bytes)"
            }
        }
        var table = CSVTable(columns: Self.columns)
        let pages = bytes >> 12
        for point in result.points {
            table.append([point.backing.rawValue, guestPage.name, point.phase, "\(pages)", csvNumber(point.nanoseconds.median, decimals: 0),
                          csvNumber(point.nanoseconds.p25, decimals: 0), csvNumber(point.nanoseconds.p75, decimals: 0),
                          csvNumber(point.nanoseconds.median / Double(pages)),
                          csvNumber(point.nanoseconds.coefficientOfVariation, decimals: 3),
                          point.nanoseconds.isNoisy ? "yes" : "no", csvNumber(point.dirtyPages, decimals: 0),
                          csvNumber(point.pages4KDelta, decimals: 0), csvNumber(point.pages2MDelta, decimals: 0),
                          csvNumber(point.faults, decimals: 0), "\(point.nanoseconds.samples.count)", methodName(point.method),
                          "measured"]
                         + context.environmentFields)
        }
        for (backing, reason) in result.skipped {
            table.append(["backing": backing.rawValue, "guest_page": guestPage.name, "status": "skipped: \(reason)"])
        }
        return table
    }
}
