import ArgumentParser

/// `vmemlab numa`: the host's NUMA topology and guest-memory placement.
public struct NUMACommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "numa",
        abstract: "Show the host's NUMA topology, or allocate guest memory and verify where it lands.",
        subcommands: [NUMAShowCommand.self, NUMACheckCommand.self, NUMAModelCommand.self]
    )

    public init() {}
}
