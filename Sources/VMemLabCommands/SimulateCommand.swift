import ArgumentParser
import Experiments
import Foundation
import GuestMemory
import TLB
import Translation
import Workloads

/// `vmemlab simulate`: feeds a trace or a synthetic stream through a TLB
/// model and prints hits, walks, walk references and predicted cycles.
public struct SimulateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a TLB hierarchy and page-walk caches on a trace or a synthetic workload.",
        discussion: """
            Give a trace (--trace FILE --trace-format raw64|lackey) or a workload (--workload NAME), \
            and a TLB (--tlb CONFIG.toml or --tlb-preset NAME|host). See docs/SIMULATOR.md.
            Workloads: \(SimulationWorkload.names.joined(separator: ", ")). \
            Presets: \(TLBPreset.names.joined(separator: ", ")).
            """
    )

    @Option(help: "A trace file.") var trace: String?
    @Option(help: "The trace format: raw64 or lackey.") var traceFormat: String?
    @Option(help: "A synthetic workload instead of a trace.") var workload: String?
    @Option(help: "The workload's footprint in bytes (K, M, G suffixes).") var footprint: String = "64M"
    @Option(help: "The number of accesses the workload makes.") var accesses: UInt64 = 1_000_000
    @Option(help: "The stride of the strided workload in bytes (K, M, G suffixes).") var stride: String = "4K"
    @Option(help: "The exponent s of the zipf workload.") var zipfS: Double = 1.0
    @Option(help: "The seed of the workload's random choices.") var seed: UInt64 = 42
    @Option(help: "A TLB configuration file (TOML).") var tlb: String?
    @Option(help: "A named TLB configuration, or host (from CPUID).") var tlbPreset: String?
    @Option(help: "The paging mode: native, nested or shadow.") var paging: String = "native"
    @Option(help: "The guest's page size: 4K, 2M or 1G (native: the page size).") var guestPage: String = "4K"
    @Option(help: "The host's page size: 4K, 2M or 1G (nested and shadow).") var hostPage: String = "4K"
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Also write the results as CSV to this file.") var csv: String?
    @OptionGroup(title: "Guest-OS event workloads under native, nested, shadow or agile paging (docs/SHADOW.md)")
    var guestOS: StrategyOptions
    @OptionGroup(title: "NUMA placement of data and page tables (docs/SIMULATOR.md, docs/NUMA.md)")
    var numa: SimulateNUMAOptions

    public init() {}

    public func validate() throws {
        if guestOS.isActive {
            guard !numa.isActive else { throw ValidationError("the NUMA options go with --trace or --workload, not --guest-workload or --events") }
            return try validateGuestOS()
        }
        switch (trace, workload) {
        case (nil, nil): throw ValidationError("give --trace FILE --trace-format raw64|lackey, or --workload NAME")
        case (.some, .some): throw ValidationError("give --trace or --workload, not both")
        case (.some, nil):
            guard let format = traceFormat else { throw ValidationError("--trace needs --trace-format raw64|lackey") }
            guard ["raw64", "lackey"].contains(format) else { throw ValidationError(TraceError.unknownFormat(format).description) }
        case (nil, .some(let name)):
            guard SimulationWorkload.names.contains(name) else {
                throw ValidationError("unknown workload '\(name)'; known: " + SimulationWorkload.names.joined(separator: ", "))
            }
            guard traceFormat == nil else { throw ValidationError("--trace-format goes with --trace") }
        }
        switch (tlb, tlbPreset) {
        case (nil, nil): throw ValidationError("give --tlb CONFIG.toml or --tlb-preset NAME|host")
        case (.some, .some): throw ValidationError("give --tlb or --tlb-preset, not both")
        default: break
        }
        guard PagingChoice(rawValue: paging) != nil else {
            throw ValidationError("unknown paging mode '\(paging)'; known: native, nested, shadow")
        }
        for (flag, value) in [("--guest-page", guestPage), ("--host-page", hostPage)] where PageSize(name: value) == nil {
            throw ValidationError("unknown page size '\(value)' for \(flag); known: 4K, 2M, 1G")
        }
        for (flag, value) in [("--footprint", footprint), ("--stride", stride)] {
            guard ByteCount.positive(parsing: value) != nil else {
                throw ValidationError("\(flag) '\(value)' is not a positive byte count such as 4096, 64K, 512M or 2G")
            }
        }
        if let bytes = ByteCount.positive(parsing: footprint), bytes < 64 { throw ValidationError("--footprint is at least 64 bytes") }
        guard zipfS >= 0, zipfS.isFinite else { throw ValidationError("--zipf-s must be a number >= 0") }
    }

    public func run() throws {
        if guestOS.isActive { return try runGuestOS() }
        let report = try simulationReport()
        if json {
            print(try report.json())
        } else {
            print(report.text)
        }
        if let csv {
            try report.csv.write(to: URL(fileURLWithPath: csv))
        }
    }

    /// Runs the trace or workload through the model and reports it.
    func simulationReport() throws -> SimulationReport {
        var configuration: TLBConfiguration
        do {
            if let path = tlb {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw CommandFailure("cannot read TLB configuration '\(path)'")
                }
                configuration = try TLBConfiguration(toml: text)
            } else {
                configuration = try TLBPreset.named(tlbPreset ?? "")
            }
        } catch let error as TLBConfigurationError {
            throw CommandFailure("\(tlb.map { "\($0): " } ?? "")\(error)")
        }
        let plan = numa.isActive ? try numa.plan(dramCycles: configuration.cost.dramCycles) : nil
        if let plan { configuration = plan.applied(to: configuration) }
        let dataLines = plan.map { _ in DataLineModel(cost: configuration.cost) }
        let guest = PageSize(name: guestPage)!, host = PageSize(name: hostPage)!  // checked in validate()
        let choice = PagingChoice(rawValue: paging)!
        let start = ContinuousClock.now
        let statistics: SimulationStatistics
        do {
            if let path = trace {
                if traceFormat == "raw64" {
                    var stream = try Raw64TraceReader(path: path)
                    statistics = try Self.simulate(configuration, choice, guest, host, &stream, dataLines: dataLines)
                } else {
                    var stream = try LackeyTraceReader(path: path)
                    statistics = try Self.simulate(configuration, choice, guest, host, &stream, dataLines: dataLines)
                }
            } else {
                let region = WorkloadRegion(bytes: ByteCount.positive(parsing: footprint)!, accesses: accesses)
                statistics = try SimulationWorkload(name: workload!, region: region, stride: ByteCount.positive(parsing: stride)!,
                                                    zipfExponent: zipfS, seed: seed)
                    .simulate(configuration, choice, guest, host, dataLines: dataLines)
            }
        } catch let error as TraceError {
            throw CommandFailure(error.description)
        } catch let error as SimulationError {
            throw CommandFailure(error.description)
        }
        let elapsed = start.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let rate = seconds > 0 ? Double(statistics.accesses) / seconds / 1e6 : 0
        FileHandle.standardError.write(Data(String(format: "simulate: %llu translations in %.3f s (%.1f M translations/s)\n",
                                                   statistics.accesses, seconds, rate).utf8))
        return SimulationReport(statistics: statistics, paging: choice.rawValue,
                                guestPage: guest, hostPage: choice == .native ? guest : host,
                                numa: plan, dataMemoryAccesses: dataLines?.memoryAccesses ?? 0)
    }

    /// Runs `stream` through the engine for `choice`, and through
    /// `dataLines` if given.
    static func simulate<Stream: AccessStream>(
        _ configuration: TLBConfiguration, _ choice: PagingChoice, _ guest: PageSize, _ host: PageSize, _ stream: inout Stream,
        dataLines: DataLineModel? = nil
    ) throws -> SimulationStatistics {
        guard let dataLines else { return try translate(configuration, choice, guest, host, &stream) }
        var counted = DataLineStream(base: stream, lines: dataLines.lines, lineShift: dataLines.lineShift)
        let statistics = try translate(configuration, choice, guest, host, &counted)
        dataLines.memoryAccesses = counted.memoryAccesses
        return statistics
    }

    /// Runs `stream` through the engine for `choice`.
    static func translate<Stream: AccessStream>(
        _ configuration: TLBConfiguration, _ choice: PagingChoice, _ guest: PageSize, _ host: PageSize, _ stream: inout Stream
    ) throws -> SimulationStatistics {
        switch choice {
        case .native:
            var simulator = try TranslationSimulator(configuration: configuration, engine: try NativeEngine(pageSize: guest))
            try simulator.run(&stream)
            return simulator.statistics
        case .shadow:
            var simulator = try TranslationSimulator(configuration: configuration,
                                                     engine: try NativeEngine(pageSize: min(guest, host)))
            try simulator.run(&stream)
            return simulator.statistics
        case .nested:
            var simulator = try TranslationSimulator(configuration: configuration,
                                                     engine: try NestedEngine(guestPageSize: guest, hostPageSize: host))
            try simulator.run(&stream)
            return simulator.statistics
        }
    }
}

/// The paging modes of `simulate`.
enum PagingChoice: String {
    case native, nested, shadow
}
