import ArgumentParser
import Experiments
import Foundation
import KVM
import Translation

/// `vmemlab measure tlb-reach`.
struct MeasureTLBReachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tlb-reach",
        abstract: "Pointer-chase cycles per access by guest page, host backing and working set.",
        discussion: "Writes tlb-reach.csv, with the native chase and the cost model beside each point."
    )

    @OptionGroup var options: MeasureOptions

    @Option(name: .customLong("guest-page"), help: "Guest page sizes (4K,2M,1G).")
    var guestPage: String = "4K,2M"

    @Option(help: "Host backings (4K,THP,2M,1G).")
    var backing: String = "4K,THP"

    @Option(help: "Working sets, such as 4M,64M,256M.")
    var sizes: String?

    func validate() throws {
        _ = try MeasureListParser.pageSizes(guestPage)
        _ = try MeasureListParser.backings(backing)
        if let sizes { _ = try MeasureListParser.byteSizes(sizes) }
    }

    func run() throws {
        let context = try options.context()
        var experiment = MeasuredTLBReach.standard(quick: options.quick)
        experiment.guestPages = try MeasureListParser.pageSizes(guestPage)
        experiment.backings = try MeasureListParser.backings(backing)
        if let sizes { experiment.sizes = try MeasureListParser.byteSizes(sizes) }
        if let reps = options.reps { experiment.repetitions = reps }
        let result = try experiment.run(context) { print($0) }
        try options.write(experiment.table(result, context), "tlb-reach.csv")
        for (configuration, reason) in result.skipped { print("skipped \(configuration): \(reason)") }
        for point in result.points {
            print("\(point.configuration) \(point.workingSetBytes >> 20) MiB: \(csvText(point.cycles.median)) cycles "
                  + "[\(csvText(point.cycles.p25)), \(csvText(point.cycles.p75))], native \(csvText(point.native.median)), "
                  + "model \(csvText(point.model)) (geometry \(csvText(point.geometryModel))), pages_2m \(point.pages2M)")
        }
        if let failure = result.modelFailure { print(failure) }
        if let model = result.model {
            print("TLB model (\(result.modelPreset) preset) calibrated on \(experiment.calibration): \(model.summary)")
        }
        for (configuration, mape) in result.validationMAPE.sorted(by: { $0.key.description < $1.key.description }) {
            print("validation MAPE \(configuration): \(csvText(mape * 100))%")
        }
        if let model = result.geometryModel { print("geometry model: \(model.summary)") }
        for (configuration, mape) in result.geometryValidationMAPE.sorted(by: { $0.key.description < $1.key.description }) {
            print("geometry model validation MAPE \(configuration): \(csvText(mape * 100))%")
        }
    }
}

/// A number with two decimals, for the terminal.
func csvText(_ value: Double) -> String { value.isFinite ? String(format: "%.2f", value) : "-" }
