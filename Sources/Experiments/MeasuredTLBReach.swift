import Foundation
import KVM
import TLB
import Translation

/// `measure tlb-reach`: cycles per dependent load of a pointer chase (one
/// random line per 4 KiB page, pages in random cyclic order) in a CPL3 guest,
/// for each guest page size × host backing × working set, beside the same
/// chase in the host process and the cost model's prediction.
public struct MeasuredTLBReach: Sendable {
    /// One curve: a guest page size over a host backing.
    public struct Configuration: Sendable, Hashable, CustomStringConvertible {
        public var guestPage: PageSize
        public var backing: HostBacking

        public init(guestPage: PageSize, backing: HostBacking) {
            self.guestPage = guestPage
            self.backing = backing
        }

        /// The page size of the shadow (or TDP) mapping: the smaller of the two.
        public var effectivePage: PageSize { min(guestPage, backing.pageSize) }
        public var description: String { "\(guestPage.name)/\(backing.rawValue)" }
    }

    public var guestPages: [PageSize]
    public var backings: [HostBacking]
    /// Working sets in bytes (multiples of 4 KiB).
    public var sizes: [Int]
    public var repetitions: Int
    /// The curve the model is calibrated on; the others validate it.
    public var calibration = Configuration(guestPage: .size4K, backing: .anonymous4K)
    /// Dependent loads per VM, at least, split into `subRuns` timed runs of
    /// whole laps. A VM's figure is its fastest sub-run: a sub-run during
    /// which the host preempted the vCPU (2 cores shared by many processes)
    /// counts the preemption too, so the minimum filters it; the spread across
    /// VMs is kept in the quartiles.
    public var minimumSteps = 400_000
    public var subRuns = 5

    public init(guestPages: [PageSize], backings: [HostBacking], sizes: [Int], repetitions: Int) {
        self.guestPages = guestPages
        self.backings = backings
        self.sizes = sizes
        self.repetitions = repetitions
    }

    /// The default sweep: quick for CI, or the full one.
    public static func standard(quick: Bool) -> MeasuredTLBReach {
        let mib = 1 << 20
        var experiment = MeasuredTLBReach(
            guestPages: [.size4K, .size2M], backings: [.anonymous4K, .transparentHuge],
            sizes: quick ? [1, 16, 64, 256, 512].map { $0 * mib } : [1, 4, 16, 32, 64, 128, 256, 512, 1024].map { $0 * mib },
            repetitions: quick ? 3 : 7)
        if quick { experiment.modelAccesses = 30_000 }
        return experiment
    }

    /// One measured point: all repetitions of one configuration and size.
    public struct Point: Sendable {
        public var configuration: Configuration
        public var workingSetBytes: Int
        public var cycles: MeasuredSummary
        public var native: MeasuredSummary
        /// KVM's shadow mappings by size after the last run (instant stats).
        public var pages4K: Int64, pages2M: Int64, pages1G: Int64
        /// Shadow page faults fixed during the timed runs (median).
        public var faultsInTimedRun: Double
        /// The TLB model's prediction (host preset, simulated chase, calibrated latencies).
        public var model: Double = .nan
        /// The runner's own CPUID-geometry model's prediction.
        public var geometryModel: Double = .nan
        /// The TLB model's walks per access.
        public var modelWalksPerAccess: Double = .nan
        public var isCalibration = false
        /// (model − measured) / measured.
        public var relativeError: Double { (model - cycles.median) / cycles.median }
        /// (geometry model − measured) / measured.
        public var geometryRelativeError: Double { (geometryModel - cycles.median) / cycles.median }
    }

    /// The result: points plus model skips.
    public struct Result: Sendable {
        public var points: [Point]
        /// Configurations that could not run here, with the reason.
        public var skipped: [(Configuration, String)]
        /// The TLB model's calibrated latencies, and the preset it ran with.
        public var model: KVMSimulatedChaseModel?
        public var modelPreset = ""
        /// Why the TLB model gave no predictions, if it did not.
        public var modelFailure: String?
        public var geometryModel: KVMTLBCostModel?
        /// Mean absolute percentage error per validation curve, of the TLB
        /// model and of the geometry model.
        public var validationMAPE: [Configuration: Double]
        public var geometryValidationMAPE: [Configuration: Double] = [:]

        /// The point of `configuration` at `size`, if measured.
        public func point(_ configuration: Configuration, _ size: Int) -> Point? {
            points.first { $0.configuration == configuration && $0.workingSetBytes == size }
        }
    }

    public var configurations: [Configuration] {
        guestPages.flatMap { page in backings.map { Configuration(guestPage: page, backing: $0) } }
    }

    /// Runs the sweep. Repetitions of all configurations and sizes are
    /// interleaved (repetition-major), each in a fresh VM over freshly mapped
    /// memory; one discarded round at the smallest size warms up first.
    public func run(_ context: KVMMeasurementContext, progress: (String) -> Void = { _ in }) throws -> Result {
        var skipped: [(Configuration, String)] = []
        var runnable: [Configuration] = []
        for configuration in configurations {
            if let reason = Self.skipReason(configuration, bytes: sizes.max() ?? 4096, context) {
                skipped.append((configuration, reason))
            } else {
                runnable.append(configuration)
            }
        }
        struct Samples { var guest: [Double] = []; var native: [Double] = []; var faults: [Double] = []
                         var pages: (Int64, Int64, Int64) = (0, 0, 0) }
        var samples: [Configuration: [Int: Samples]] = [:]
        var nativeCache: [String: Double] = [:]
        if let smallest = sizes.min() {
            for configuration in runnable { _ = try measureGuest(configuration, smallest, seed: context.seed, context) }
        }
        for repetition in 0..<repetitions {
            progress("repetition \(repetition + 1)/\(repetitions)")
            for size in sizes {
                let seed = context.seed &+ UInt64(repetition) &* 1_000_003 &+ UInt64(size >> 12)
                for configuration in runnable {
                    let guest = try measureGuest(configuration, size, seed: seed, context)
                    let nativeKey = "\(configuration.backing)-\(size)-\(repetition)"
                    let native = try nativeCache[nativeKey] ?? measureNative(configuration.backing, size, seed: seed)
                    nativeCache[nativeKey] = native
                    var entry = samples[configuration, default: [:]][size, default: Samples()]
                    entry.guest.append(guest.cyclesPerAccess)
                    entry.native.append(native)
                    entry.faults.append(guest.faults)
                    entry.pages = guest.pages
                    samples[configuration, default: [:]][size] = entry
                }
            }
        }
        var points: [Point] = []
        for configuration in runnable {
            for size in sizes {
                guard let entry = samples[configuration]?[size] else { continue }
                points.append(Point(configuration: configuration, workingSetBytes: size,
                                    cycles: MeasuredSummary(entry.guest), native: MeasuredSummary(entry.native),
                                    pages4K: entry.pages.0, pages2M: entry.pages.1, pages1G: entry.pages.2,
                                    faultsInTimedRun: MeasuredSummary(entry.faults).median))
            }
        }
        var result = Result(points: points, skipped: skipped, model: nil, validationMAPE: [:])
        applyModel(to: &result, context)
        return result
    }

    /// Why a configuration cannot run on this host with `bytes` of data, or nil.
    static func skipReason(_ configuration: Configuration, bytes: Int, _ context: KVMMeasurementContext) -> String? {
        if configuration.guestPage == .size1G && !context.cpuid.supportsGigabytePages {
            return "KVM_GET_SUPPORTED_CPUID lacks Page1GB, so 1 GiB guest pages fault"
        }
        if configuration.backing == .hugetlb2M || configuration.backing == .hugetlb1G {
            do { _ = try HostMemory(size: bytes, backing: configuration.backing) } catch {
                return "\(error)"
            }
        }
        return nil
    }

    /// Cycles per access of the guest chase in a fresh VM, after one warm-up
    /// lap in the same VM, with the KVM mapping counts after the run.
    func measureGuest(_ configuration: Configuration, _ size: Int, seed: UInt64, _ context: KVMMeasurementContext)
        throws -> (cyclesPerAccess: Double, faults: Double, pages: (Int64, Int64, Int64))
    {
        let session = try GuestSession(device: context.device,
                                       configuration: GuestConfiguration(dataBytes: size, guestPage: configuration.guestPage,
                                                                         backing: configuration.backing),
                                       cpuid: context.cpuid)
        let permutation = ChasePermutation(pages: size >> 12, seed: seed)
        let start = permutation.write(into: session.data.base, addressBase: GuestLayout.dataVirtual)
        let pages = UInt64(permutation.pages)
        _ = try session.run(.pointerChase, KernelArguments(rdi: start, rsi: pages))
        let laps = lapsPerSubRun(pages: pages)
        var best = Double.infinity, faults: Int64 = 0
        for _ in 0..<subRuns {
            let result = try session.run(.pointerChase, KernelArguments(rdi: start, rsi: laps * pages))
            guard result.state == start,
                  result.checksum == laps &* permutation.lapChecksum(addressBase: GuestLayout.dataVirtual)
            else { throw KVMError.kernelCheckFailed("the chase of \(configuration) at \(size) bytes missed nodes") }
            best = min(best, Double(result.cycles) / Double(laps * pages))
            faults += result.vcpu("pf_fixed")
        }
        let stats = try session.vmStatisticsSnapshot()
        return (best, Double(faults), (Int64(stats["pages_4k"]), Int64(stats["pages_2m"]), Int64(stats["pages_1g"])))
    }

    /// Cycles per access of the same chase in this process over fresh memory
    /// of the same backing.
    func measureNative(_ backing: HostBacking, _ size: Int, seed: UInt64) throws -> Double {
        let memory = try HostMemory(size: size, backing: backing)
        let permutation = ChasePermutation(pages: size >> 12, seed: seed)
        let start = permutation.write(into: memory.base, addressBase: UInt64(UInt(bitPattern: memory.base)))
        let pages = UInt64(permutation.pages)
        let pointer = UnsafeRawPointer(bitPattern: UInt(start))!
        _ = NativeChase.run(start: pointer, steps: pages)
        let laps = lapsPerSubRun(pages: pages)
        var best = Double.infinity
        for _ in 0..<subRuns {
            let result = NativeChase.run(start: pointer, steps: laps * pages)
            guard result.last == start else { throw KVMError.kernelCheckFailed("the native chase missed nodes") }
            best = min(best, Double(result.cycles) / Double(laps * pages))
        }
        return best
    }

    /// Whole laps per sub-run so that all sub-runs together make at least `minimumSteps`.
    func lapsPerSubRun(pages: UInt64) -> UInt64 {
        let perSubRun = (UInt64(minimumSteps) + UInt64(subRuns) - 1) / UInt64(max(subRuns, 1))
        return max(1, (perSubRun + pages - 1) / pages)
    }

    /// How the hardware translates a guest access of `configuration` here.
    static func translation(_ configuration: Configuration, _ environment: HostEnvironment) -> KVMSimulatedChase.Translation {
        if environment.kvmMode.hasSuffix("shadow") {
            // The shadow table maps at the effective page; a nested host adds
            // the outer hypervisor's table, assumed to map with 4 KiB pages.
            return environment.nested ? .twoDimensional(configuration.effectivePage, .size4K)
                : .oneDimensional(configuration.effectivePage)
        }
        return .twoDimensional(configuration.guestPage, configuration.backing.pageSize)
    }

    /// Calibrates both models on the calibration curve and predicts every point.
    func applyModel(to result: inout Result, _ context: KVMMeasurementContext) {
        let calibrationPoints = result.points.filter { $0.configuration == calibration }
        guard !calibrationPoints.isEmpty else { return }
        for index in result.points.indices {
            result.points[index].isCalibration = result.points[index].configuration == calibration
        }
        applyTLBModel(to: &result, context)
        if let geometry = TLBGeometry(cpuid: context.cpuid) {
            let model = KVMTLBCostModel.calibrate(
                geometry: geometry, outerPage: context.environment.nested ? .size4K : nil,
                points: calibrationPoints.map { ($0.workingSetBytes, $0.configuration.effectivePage, $0.cycles.median) })
            result.geometryModel = model
            for index in result.points.indices {
                let point = result.points[index]
                result.points[index].geometryModel = model.predict(workingSetBytes: point.workingSetBytes,
                                                                   effectivePage: point.configuration.effectivePage)
            }
            result.geometryValidationMAPE = Self.mape(result.points) { $0.geometryRelativeError }
        }
    }

    /// The TLB issue's model: the host preset's TLBs and walk caches simulate
    /// the chase; the line latencies are fitted on the calibration curve.
    func applyTLBModel(to result: inout Result, _ context: KVMMeasurementContext) {
        let configuration: TLBConfiguration
        do {
            configuration = try HostTLBPreset.read()
            result.modelPreset = "host"
        } catch {
            configuration = TLBPreset.zen5
            result.modelPreset = "zen5 (host preset unavailable: \(error))"
        }
        var simulated: [Int: KVMSimulatedChase] = [:]
        // Configurations with the same hardware translation share one simulation.
        var byTranslation: [String: KVMSimulatedChase] = [:]
        do {
            for (index, point) in result.points.enumerated() {
                let translation = Self.translation(point.configuration, context.environment)
                let key = "\(translation)-\(point.workingSetBytes)"
                if byTranslation[key] == nil {
                    byTranslation[key] = try KVMSimulatedChase.simulate(
                        configuration: configuration, translation: translation,
                        workingSetBytes: point.workingSetBytes, accesses: modelAccesses, seed: context.seed)
                }
                simulated[index] = byTranslation[key]
            }
        } catch {
            result.modelFailure = "the TLB model could not simulate the chase: \(error)"
            return
        }
        let model = KVMSimulatedChaseModel.calibrate(result.points.indices.compactMap { index in
            result.points[index].isCalibration ? simulated[index].map { ($0, result.points[index].cycles.median) } : nil
        })
        result.model = model
        for index in result.points.indices {
            guard let chase = simulated[index] else { continue }
            result.points[index].model = model.predict(chase)
            result.points[index].modelWalksPerAccess = chase.walks
        }
        result.validationMAPE = Self.mape(result.points) { $0.relativeError }
    }

    /// Simulated chase steps per point, after a warm-up lap.
    public var modelAccesses = 200_000

    /// The mean absolute relative error of each validation curve.
    static func mape(_ points: [Point], _ error: (Point) -> Double) -> [Configuration: Double] {
        var errors: [Configuration: [Double]] = [:]
        for point in points where !point.isCalibration && error(point).isFinite {
            errors[point.configuration, default: []].append(abs(error(point)))
        }
        return errors.mapValues { $0.reduce(0, +) / Double($0.count) }
    }

    /// The CSV columns.
    public static let columns = [
        "guest_page", "backing", "effective_page", "working_set_bytes", "cycles_per_access", "cycles_p25", "cycles_p75",
        "cycles_cov", "high_variation", "ns_per_access", "native_cycles_per_access", "native_cycles_p25",
        "native_cycles_p75", "virtualization_ratio", "model_cycles_per_access", "model_error", "model_role",
        "curve_mape", "model_walks_per_access", "geometry_model_cycles_per_access", "geometry_model_error",
        "geometry_curve_mape", "kvm_pages_4k", "kvm_pages_2m", "kvm_pages_1g", "timed_run_pf_fixed", "repetitions",
        "model_source", "geometry_model_source",
    ] + KVMMeasurementContext.environmentColumns

    /// Where `model_cycles_per_access` comes from.
    func modelSource(_ result: Result, _ context: KVMMeasurementContext) -> String {
        if let failure = result.modelFailure { return failure }
        let walk = context.environment.kvmMode.hasSuffix("shadow")
            ? (context.environment.nested ? "2D shadow x outer-4K walk" : "1D shadow walk") : "2D guest x EPT/NPT walk"
        return "TLB model (TranslationSimulator, \(result.modelPreset) preset, \(walk)) with latencies calibrated on "
            + "\(calibration): " + (result.model?.summary ?? "")
    }

    /// The table of a result.
    public func table(_ result: Result, _ context: KVMMeasurementContext) -> CSVTable {
        var table = CSVTable(columns: Self.columns)
        let source = modelSource(result, context)
        let geometrySource = "KVMTLBCostModel (runner's own: CPUID TLB geometry, walk references, fitted capacities) "
            + "calibrated on \(calibration)" + (result.geometryModel.map { ": " + $0.summary } ?? "")
        for point in result.points {
            let configuration = point.configuration
            var row = [configuration.guestPage.name, configuration.backing.rawValue, configuration.effectivePage.name,
                       "\(point.workingSetBytes)"]
            row += [csvNumber(point.cycles.median), csvNumber(point.cycles.p25), csvNumber(point.cycles.p75),
                    csvNumber(point.cycles.coefficientOfVariation, decimals: 3), point.cycles.isNoisy ? "yes" : "no",
                    csvNumber(context.nanoseconds(cycles: point.cycles.median))]
            row += [csvNumber(point.native.median), csvNumber(point.native.p25), csvNumber(point.native.p75),
                    csvNumber(point.cycles.median / point.native.median, decimals: 3)]
            let role = point.model.isNaN ? "" : (point.isCalibration ? "calibration" : "validation")
            row += [csvNumber(point.model), csvNumber(point.relativeError, decimals: 3), role,
                    result.validationMAPE[configuration].map { csvNumber($0, decimals: 3) } ?? "",
                    csvNumber(point.modelWalksPerAccess, decimals: 4)]
            row += [csvNumber(point.geometryModel), csvNumber(point.geometryRelativeError, decimals: 3),
                    result.geometryValidationMAPE[configuration].map { csvNumber($0, decimals: 3) } ?? ""]
            row += ["\(point.pages4K)", "\(point.pages2M)", "\(point.pages1G)", csvNumber(point.faultsInTimedRun, decimals: 0),
                    "\(point.cycles.samples.count)", source, geometrySource]
            table.append(row + context.environmentFields)
        }
        for (configuration, reason) in result.skipped {
            var row = [String: String]()
            row["guest_page"] = configuration.guestPage.name
            row["backing"] = configuration.backing.rawValue
            row["model_role"] = "skipped: \(reason)"
            table.append(row)
        }
        return table
    }
}
