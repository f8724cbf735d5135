import ArgumentParser
import Experiments

/// `vmemlab measure dirty-log`.
struct MeasureDirtyLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dirty-log",
        abstract: "Time the phases of dirty logging (enable, write, get+clear, disable) by backing.",
        discussion: "Writes dirty-log.csv."
    )

    @OptionGroup var options: MeasureOptions

    @Option(help: "Host backings (4K,THP,2M,1G).")
    var backing: String = "4K,THP,2M"

    func validate() throws { _ = try MeasureListParser.backings(backing) }

    func run() throws {
        let context = try options.context()
        var experiment = MeasuredDirtyLog.standard(quick: options.quick)
        experiment.backings = try MeasureListParser.backings(backing)
        if let reps = options.reps { experiment.repetitions = reps }
        let result = try experiment.run(context)
        try options.write(experiment.table(result, context), "dirty-log.csv")
        for point in result.points {
            print("\(point.method.rawValue) \(point.backing.rawValue) \(point.phase): \(csvText(point.nanoseconds.median / 1000)) us, "
                  + "pages_2m \(csvText(point.pages2MDelta)), pages_4k \(csvText(point.pages4KDelta))")
        }
        for (backing, reason) in result.skipped { print("skipped \(backing.rawValue): \(reason)") }
    }
}
