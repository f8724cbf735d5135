/// What a point kind reports for one point.
public enum PointOutcome: Sendable, Equatable {
    /// Result column → value; columns not given stay empty.
    case done([String: String])
    /// It could not run here; the reason says why (no `/dev/kvm`, …).
    case skipped(reason: String)
}

/// Which sweep axes a point kind uses. An unused axis is blank in its rows
/// and does not multiply its points.
public struct SweepAxes: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let workingSet = SweepAxes(rawValue: 1 << 0)
    public static let guestPage = SweepAxes(rawValue: 1 << 1)
    public static let backing = SweepAxes(rawValue: 1 << 2)
    public static let guestLevels = SweepAxes(rawValue: 1 << 3)
    public static let hostLevels = SweepAxes(rawValue: 1 << 4)
    public static let placement = SweepAxes(rawValue: 1 << 5)
}

/// Something a sweep point can run: a model or a measurement. The sweep
/// framework is generic over it; `PointKinds.all` lists the kinds.
public protocol PointKind: Sendable {
    /// The name in the `kind` column.
    var name: String { get }
    /// Model or measure.
    var mode: ExperimentMode { get }
    /// The workloads it runs.
    var workloads: [String] { get }
    /// The strategies it runs.
    var strategies: [String] { get }
    /// The axes `strategy` uses; the others are blanked.
    func axes(for strategy: String) -> SweepAxes
    /// The result columns it fills, in order.
    var resultColumns: [String] { get }
    /// The `[options]` keys it reads, with their defaults.
    var optionDefaults: [String: String] { get }
    /// Checks the `[options]` values this kind reads; throws a `SpecError`
    /// naming the key of a bad one. The sweep calls it once per kind used.
    func check(_ options: SweepOptions) throws
    /// Why `point` cannot run at all, as (spec key, reason), or nil when it can.
    func impossibility(_ point: SweepPoint) -> (key: String, reason: String)?
    /// Runs one point.
    func run(_ point: SweepPoint, options: SweepOptions) throws -> PointOutcome
}

extension PointKind {
    public var optionDefaults: [String: String] { [:] }
    public func check(_ options: SweepOptions) throws {}
    public func impossibility(_ point: SweepPoint) -> (key: String, reason: String)? { nil }
}

/// The `[options]` table of a spec: settings some point kinds read, such as
/// a TLB preset. Each kind lists the keys it accepts in `optionKeys`.
public struct SweepOptions: Sendable, Hashable {
    public var values: [String: String]
    public init(_ values: [String: String] = [:]) { self.values = values }
    public subscript(key: String) -> String? { values[key] }
}
