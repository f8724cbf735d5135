import Foundation
import GuestMemory
import TLB
import Translation
import Workloads

/// Model mode, synthetic workloads: the trace-driven TLB simulator. The
/// workload's address stream goes through the TLB hierarchy of a preset; a
/// miss in every level walks real page tables (native, nested 2D through
/// EPT, or a shadow table whose leaf is the smaller of the guest page and
/// the backing's page), and the cost model predicts cycles.
public struct SimulatePointKind: PointKind {
    public let name = "simulate"
    public let mode = ExperimentMode.model
    public let workloads = ["sequential", "strided", "uniform", "zipf", "pointer-chase", "gups"]
    public let strategies = ["native", "nested", "shadow"]
    public let resultColumns = [
        "accesses", "l1_tlb_misses", "walks", "misses_per_access", "walk_memory_refs", "refs_per_walk",
        "walk_cycles", "predicted_cycles", "predicted_cycles_per_access", "tlb_preset",
    ]
    public let optionDefaults = ["tlb_preset": "host", "accesses": "1000000", "stride": "4K", "zipf_s": "1.0"]

    public init() {}

    public func axes(for strategy: String) -> SweepAxes {
        switch strategy {
        case "nested": [.workingSet, .guestPage, .backing, .guestLevels, .hostLevels]
        case "shadow": [.workingSet, .guestPage, .backing, .guestLevels]
        default: [.workingSet, .guestPage, .guestLevels]
        }
    }

    public func impossibility(_ point: SweepPoint) -> (key: String, reason: String)? {
        if let size = point.workingSetBytes, size < 64 {
            return ("sweep.sizes", "the simulator needs a working set of at least 64 bytes")
        }
        return nil
    }

    /// The simulator's settings from `[options]`, or an error naming the key.
    struct Settings {
        var configuration: TLBConfiguration
        var preset: String
        var accesses: UInt64
        var stride: UInt64
        var zipfExponent: Double

        init(_ options: SweepOptions) throws {
            preset = options["tlb_preset"] ?? "host"
            do { configuration = try TLBPreset.named(preset) } catch {
                throw SpecError(key: "options.tlb_preset", "'\(preset)': \(error); known: "
                    + TLBPreset.names.joined(separator: ", "))
            }
            guard let accesses = options["accesses"].flatMap({ UInt64($0) }), accesses > 0 else {
                throw SpecError(key: "options.accesses", "must be a positive integer")
            }
            self.accesses = accesses
            guard let stride = options["stride"].flatMap(ByteCount.positive(parsing:)) else {
                throw SpecError(key: "options.stride", "must be a size such as 64 or 4K")
            }
            self.stride = stride
            guard let exponent = options["zipf_s"].flatMap({ Double($0) }), exponent >= 0, exponent.isFinite else {
                throw SpecError(key: "options.zipf_s", "must be a number >= 0")
            }
            zipfExponent = exponent
        }
    }

    public func check(_ options: SweepOptions) throws { _ = try Settings(options) }

    public func run(_ point: SweepPoint, options: SweepOptions) throws -> PointOutcome {
        let settings = try Settings(options)
        let region = WorkloadRegion(bytes: point.workingSetBytes ?? (64 << 20), accesses: settings.accesses)
        let statistics: SimulationStatistics
        switch point.workload {
        case "sequential":
            var stream = StridedStream.sequential(region: region)
            statistics = try simulate(point, settings.configuration, &stream)
        case "strided":
            var stream = StridedStream(region: region, stride: settings.stride)
            statistics = try simulate(point, settings.configuration, &stream)
        case "uniform":
            var stream = UniformStream(region: region, seed: point.seed)
            statistics = try simulate(point, settings.configuration, &stream)
        case "zipf":
            var stream = ZipfStream(region: region, exponent: settings.zipfExponent, seed: point.seed)
            statistics = try simulate(point, settings.configuration, &stream)
        case "pointer-chase":
            var stream = PointerChaseStream(region: region, seed: point.seed)
            statistics = try simulate(point, settings.configuration, &stream)
        default:
            var stream = GUPSStream(region: region, seed: point.seed)
            statistics = try simulate(point, settings.configuration, &stream)
        }
        let accesses = Double(max(statistics.accesses, 1))
        return .done([
            "accesses": "\(statistics.accesses)",
            "l1_tlb_misses": statistics.levels.first.map { "\($0.misses)" } ?? "",
            "walks": "\(statistics.walks)",
            "misses_per_access": Self.format(Double(statistics.walks) / accesses),
            "walk_memory_refs": "\(statistics.walkReferences)",
            "refs_per_walk": Self.format(statistics.referencesPerWalk),
            "walk_cycles": Self.format(statistics.walkCycles),
            "predicted_cycles": Self.format(statistics.predictedCycles),
            "predicted_cycles_per_access": Self.format(statistics.cyclesPerAccess),
            "tlb_preset": settings.preset,
        ])
    }

    private func simulate<Stream: AccessStream>(_ point: SweepPoint, _ configuration: TLBConfiguration,
                                                _ stream: inout Stream) throws -> SimulationStatistics {
        let guestPage = point.guestPage ?? .size4K
        let hostPage = point.backing?.hostPage ?? guestPage
        let guestMode = PagingMode(rawValue: point.guestLevels ?? 4) ?? .fourLevel
        let hostMode = PagingMode(rawValue: point.hostLevels ?? 4) ?? .fourLevel
        switch point.strategy {
        case "nested":
            var simulator = try TranslationSimulator(
                configuration: configuration,
                engine: try NestedEngine(guestPageSize: guestPage, hostPageSize: hostPage, guestMode: guestMode,
                                         hostMode: hostMode))
            try simulator.run(&stream)
            return simulator.statistics
        case "shadow":
            var simulator = try TranslationSimulator(
                configuration: configuration, engine: try NativeEngine(pageSize: min(guestPage, hostPage), mode: guestMode))
            try simulator.run(&stream)
            return simulator.statistics
        default:
            var simulator = try TranslationSimulator(
                configuration: configuration, engine: try NativeEngine(pageSize: guestPage, mode: guestMode))
            try simulator.run(&stream)
            return simulator.statistics
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.6g", value)
    }
}
