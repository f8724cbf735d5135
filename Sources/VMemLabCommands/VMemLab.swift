import ArgumentParser

/// The `vmemlab` command: models and KVM measurements of address translation.
public struct VMemLab: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vmemlab",
        abstract: "Model and measure the cost of address translation in virtual machines.",
        discussion: """
            VMemLab answers what a translation strategy costs, with exact models of \
            page walks, TLBs and shadow paging, and with real measurements through /dev/kvm.
            """,
        subcommands: [
            WalkCommand.self, SimulateCommand.self, ReproduceCommand.self, NUMACommand.self, StrategyCommand.self,
            MeasureCommand.self, RunCommand.self, MergeCommand.self, CompareCommand.self,
        ]
    )

    public init() {}
}
