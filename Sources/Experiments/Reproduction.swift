import Foundation

/// A named rerun of a published result. It computes its own numbers with
/// the project's models or runner, writes them as CSV, and sets them beside
/// the published values with a verdict.
public protocol Reproduction: Sendable {
    /// The short name used on the command line, such as `walk-refs`.
    var name: String { get }
    /// The paper or project whose result it reproduces.
    var source: String { get }
    /// One line on what it shows.
    var summary: String { get }
    /// Runs it and writes its CSV files into `context.outputDirectory`.
    func run(_ context: ReproductionContext) throws -> ReproductionOutcome
}

/// A reproduction measured in a KVM guest. Where the KVM device cannot be
/// opened it is a skip with the reason, not a pass.
public protocol KVMReproduction: Reproduction {
    /// The KVM device.
    var devicePath: String { get }
    /// Runs it in the measurement context of an available KVM.
    func run(_ context: ReproductionContext, kvm: KVMMeasurementContext) throws -> ReproductionOutcome
}

extension KVMReproduction {
    public func run(_ context: ReproductionContext) throws -> ReproductionOutcome {
        if let reason = KVMMeasurementContext.unavailableReason(devicePath: devicePath) {
            return ReproductionOutcome(status: .skip(reason: reason), obtained: "", published: "", files: [])
        }
        return try run(context, kvm: KVMMeasurementContext(devicePath: devicePath, quick: context.quick, seed: context.seed))
    }
}

/// What a reproduction is given.
public struct ReproductionContext: Sendable {
    /// Where CSV files go.
    public var outputDirectory: URL
    /// A shorter run, for CI.
    public var quick: Bool
    /// The seed of every random stream.
    public var seed: UInt64

    public init(outputDirectory: URL, quick: Bool = false, seed: UInt64 = 42) {
        self.outputDirectory = outputDirectory
        self.quick = quick
        self.seed = seed
    }

    /// The URL of `file` in the output directory.
    public func output(_ file: String) -> URL { outputDirectory.appendingPathComponent(file) }
}

/// The verdict of a reproduction.
public enum ReproductionStatus: Sendable, Equatable {
    /// The obtained values agree with the published ones.
    case pass
    /// They differ; the reproduction's CSV says where.
    case diff
    /// It could not run here; the reason says why.
    case skip(reason: String)

    /// `PASS`, `DIFF` or `SKIP`, as in `summary.csv`.
    public var label: String {
        switch self {
        case .pass: "PASS"
        case .diff: "DIFF"
        case .skip: "SKIP"
        }
    }
}

/// The key figure of a reproduction and its verdict.
public struct ReproductionOutcome: Sendable {
    public var status: ReproductionStatus
    /// The key figure the reproduction obtained, in words.
    public var obtained: String
    /// The published key figure, in words.
    public var published: String
    /// The files it wrote, relative to the output directory.
    public var files: [String]

    public init(status: ReproductionStatus, obtained: String, published: String, files: [String]) {
        self.status = status
        self.obtained = obtained
        self.published = published
        self.files = files
    }
}

/// Every registered reproduction, in the order `reproduce --all` runs them.
public enum Reproductions {
    public static let all: [any Reproduction] = [
        WalkReferencesReproduction(),
        PWCDesignsReproduction(),
        TLBReachModelReproduction(),
        MitosisReproduction(),
        MitosisVirtualizedReproduction(),
        PVMSwitchesReproduction(),
        ShadowVsNestedReproduction(),
        KVMTLBReachReproduction(),
        KVMShadowPageTableUpdateReproduction(),
        KVMLargePagesReproduction(),
    ]

    /// The reproduction called `name`, if any.
    public static func named(_ name: String) -> (any Reproduction)? { all.first { $0.name == name } }
}
