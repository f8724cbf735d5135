import ArgumentParser
import Experiments

/// `vmemlab measure fault-in`.
struct MeasureFaultInCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fault-in",
        abstract: "Nanoseconds per page of a guest's first touch, by backing and guest page.",
        discussion: "Writes fault-in.csv with the kvm_pages_* deltas."
    )

    @OptionGroup var options: MeasureOptions

    @Option(help: "Host backings (4K,THP,2M,1G).")
    var backing: String = "4K,THP,2M"

    func validate() throws { _ = try MeasureListParser.backings(backing) }

    func run() throws {
        let context = try options.context()
        var experiment = MeasuredFaultIn.standard(quick: options.quick)
        experiment.backings = try MeasureListParser.backings(backing)
        if let reps = options.reps { experiment.repetitions = reps }
        let result = try experiment.run(context)
        try options.write(experiment.table(result.points, skipped: result.skipped, context), "fault-in.csv")
        for point in result.points {
            let c = point.configuration
            print("\(c.guestPage.name)/\(c.backing.rawValue) host prefaulted \(c.hostPrefaulted): "
                  + "\(csvText(point.nanosecondsPerPage.median)) ns/page, pages_2m +\(csvText(point.statistics["pages_2m"] ?? 0))")
        }
        for line in KVMCalibratedCosts(kvmMode: context.environment.kvmMode, faultIn: result.points).lines {
            print("calibrated: " + line)
        }
        for (c, reason) in result.skipped { print("skipped \(c.guestPage.name)/\(c.backing.rawValue): \(reason)") }
    }
}
