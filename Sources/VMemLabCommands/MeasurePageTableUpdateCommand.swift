import ArgumentParser
import Experiments

/// `vmemlab measure pt-update`.
struct MeasurePageTableUpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pt-update",
        abstract: "Cycles per guest store into a leaf and a non-leaf page table.",
        discussion: "Writes pt-update.csv with KVM's mmu_pte_write and mmu_unsync deltas."
    )

    @OptionGroup var options: MeasureOptions

    func run() throws {
        let context = try options.context()
        var experiment = MeasuredPageTableUpdate.standard(quick: options.quick)
        if let reps = options.reps { experiment.repetitions = reps }
        let points = try experiment.run(context)
        try options.write(experiment.table(points, context), "pt-update.csv")
        for point in points {
            print("\(point.level.rawValue): \(csvText(point.cyclesPerStore.median)) cycles/store "
                  + "[\(csvText(point.cyclesPerStore.p25)), \(csvText(point.cyclesPerStore.p75))], "
                  + "mmu_pte_write \(csvText(point.statistics["mmu_pte_write"] ?? 0)), "
                  + "mmu_unsync \(csvText(point.statistics["mmu_unsync"] ?? 0))")
        }
        for line in KVMCalibratedCosts(kvmMode: context.environment.kvmMode, pageTableUpdate: points).lines {
            print("calibrated: " + line)
        }
        if points.count == 2, points[0].cyclesPerStore.median > 0 {
            print("non-leaf / leaf: \(csvText(points[1].cyclesPerStore.median / points[0].cyclesPerStore.median))x")
        }
    }
}
