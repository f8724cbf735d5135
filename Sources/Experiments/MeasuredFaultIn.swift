import Foundation
import KVM
import Translation

/// `measure fault-in`: the cost per page of a guest's first write to each
/// page of fresh memory, by guest page size and host backing. Either the
/// host memory is fresh too (host fault + KVM fault), or the host wrote it
/// beforehand (KVM's fault alone).
public struct MeasuredFaultIn: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var guestPage: PageSize
        public var backing: HostBacking
        public var hostPrefaulted: Bool
    }

    public var bytes: Int
    public var repetitions: Int
    public var guestPages: [PageSize] = [.size4K, .size2M]
    public var backings: [HostBacking] = [.anonymous4K, .transparentHuge, .hugetlb2M]

    public init(bytes: Int, repetitions: Int) {
        self.bytes = bytes
        self.repetitions = repetitions
    }

    public static func standard(quick: Bool) -> MeasuredFaultIn {
        MeasuredFaultIn(bytes: (quick ? 32 : 256) << 20, repetitions: quick ? 3 : 7)
    }

    public struct Point: Sendable {
        public var configuration: Configuration
        public var pages: Int
        public var nanosecondsPerPage: MeasuredSummary
        public var cyclesPerPage: MeasuredSummary
        public var statistics: [String: Double]
    }

    public static let vmStatistics = ["pages_4k", "pages_2m", "pages_1g", "mmu_cache_miss"]
    public static let vcpuStatistics = ["pf_fixed", "pf_taken", "exits"]

    /// The configurations this host can run and the skipped ones with reasons.
    func configurations(_ context: KVMMeasurementContext) -> ([Configuration], [(Configuration, String)]) {
        var runnable: [Configuration] = [], skipped: [(Configuration, String)] = []
        for backing in backings {
            for page in guestPages {
                for prefaulted in [false, true] {
                    let configuration = Configuration(guestPage: page, backing: backing, hostPrefaulted: prefaulted)
                    let probe = MeasuredTLBReach.Configuration(guestPage: page, backing: backing)
                    if let reason = MeasuredTLBReach.skipReason(probe, bytes: bytes, context) {
                        skipped.append((configuration, reason))
                    } else {
                        runnable.append(configuration)
                    }
                }
            }
        }
        return (runnable, skipped)
    }

    public func run(_ context: KVMMeasurementContext) throws -> (points: [Point], skipped: [(Configuration, String)]) {
        let (runnable, skipped) = configurations(context)
        var ns: [Configuration: [Double]] = [:], cycles: [Configuration: [Double]] = [:]
        var statistics: [Configuration: [String: [Double]]] = [:]
        let pages = bytes >> 12
        for _ in 0..<repetitions {
            for configuration in runnable {
                let session = try GuestSession(device: context.device,
                                               configuration: GuestConfiguration(dataBytes: bytes,
                                                                                 guestPage: configuration.guestPage,
                                                                                 backing: configuration.backing),
                                               cpuid: context.cpuid)
                if configuration.hostPrefaulted { session.data.prefault() }
                let result = try session.run(.firstTouch, KernelArguments(rdi: GuestLayout.dataVirtual,
                                                                          rsi: UInt64(pages), rdx: 4096))
                guard result.checksum == UInt64(pages) else { throw KVMError.kernelCheckFailed("first touch stopped early") }
                let perPage = Double(result.cycles) / Double(pages)
                cycles[configuration, default: []].append(perPage)
                ns[configuration, default: []].append(context.nanoseconds(cycles: perPage))
                for name in Self.vmStatistics { statistics[configuration, default: [:]][name, default: []].append(Double(result.vm(name))) }
                for name in Self.vcpuStatistics {
                    statistics[configuration, default: [:]][name, default: []].append(Double(result.vcpu(name)))
                }
            }
        }
        let points = runnable.map { configuration in
            Point(configuration: configuration, pages: pages, nanosecondsPerPage: MeasuredSummary(ns[configuration] ?? [0]),
                  cyclesPerPage: MeasuredSummary(cycles[configuration] ?? [0]),
                  statistics: (statistics[configuration] ?? [:]).mapValues { MeasuredSummary($0).median })
        }
        return (points, skipped)
    }

    public static let columns = ["backing", "guest_page", "host_prefaulted", "pages", "ns_per_page", "ns_p25", "ns_p75",
                                 "cycles_per_page", "cycles_cov", "high_variation", "repetitions"]
        + vmStatistics.map { "kvm_\($0)_delta" } + vcpuStatistics.map { "kvm_\($0)" } + ["status"]
        + KVMMeasurementContext.environmentColumns

    public func table(_ points: [Point], skipped: [(Configuration, String)], _ context: KVMMeasurementContext) -> CSVTable {
        var table = CSVTable(columns: Self.columns)
        for point in points {
            let configuration = point.configuration
            table.append([configuration.backing.rawValue, configuration.guestPage.name,
                          configuration.hostPrefaulted ? "yes" : "no", "\(point.pages)",
                          csvNumber(point.nanosecondsPerPage.median), csvNumber(point.nanosecondsPerPage.p25),
                          csvNumber(point.nanosecondsPerPage.p75), csvNumber(point.cyclesPerPage.median),
                          csvNumber(point.cyclesPerPage.coefficientOfVariation, decimals: 3),
                          point.cyclesPerPage.isNoisy ? "yes" : "no", "\(point.cyclesPerPage.samples.count)"]
                         + (Self.vmStatistics + Self.vcpuStatistics).map { csvNumber(point.statistics[$0] ?? 0, decimals: 0) }
                         + ["measured"] + context.environmentFields)
        }
        for (configuration, reason) in skipped {
            table.append(["backing": configuration.backing.rawValue, "guest_page": configuration.guestPage.name,
                          "host_prefaulted": configuration.hostPrefaulted ? "yes" : "no", "status": "skipped: \(reason)"])
        }
        return table
    }
}
