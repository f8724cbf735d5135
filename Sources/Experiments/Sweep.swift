import GuestMemory
import Translation

/// The points of a spec: the product of its axes, run by the point kind of
/// each (mode, workload) pair, with the axes a kind does not use blanked
/// and the resulting duplicates removed. Order follows the spec's lists.
public struct Sweep: Sendable {
    public var spec: ExperimentSpec
    public var points: [SweepPoint]
    /// The result columns of the kinds involved, in registry order.
    public var resultColumns: [String]
    private var kindsByName: [String: any PointKind]

    /// Expands `spec`. Throws a `SpecError` naming the key for a workload
    /// or strategy no kind runs in the spec's mode, a missing axis a kind
    /// needs, or an impossible combination of values.
    public init(_ spec: ExperimentSpec, kinds: [any PointKind] = PointKinds.all) throws {
        self.spec = spec
        var points: [SweepPoint] = []
        var seen = Set<String>()
        var used: [String: any PointKind] = [:]
        for mode in spec.modes {
            for workload in spec.workloads {
                guard let kind = kinds.first(where: { $0.mode == mode && $0.workloads.contains(workload) }) else {
                    let other = kinds.filter { $0.workloads.contains(workload) }.map(\.mode.rawValue)
                    let hint = other.isEmpty ? "" : " (it runs in \(Set(other).sorted().joined(separator: ", ")) mode)"
                    throw SpecError(key: "sweep.workloads", "workload '\(workload)' has no \(mode.rawValue)-mode point kind\(hint)")
                }
                used[kind.name] = kind
                for strategy in spec.strategies {
                    guard kind.strategies.contains(strategy) else {
                        throw SpecError(key: "sweep.strategies", "the \(kind.name) point kind (workload '\(workload)', "
                            + "\(mode.rawValue) mode) does not run strategy '\(strategy)'; it runs "
                            + kind.strategies.joined(separator: ", "))
                    }
                    let axes = kind.axes(for: strategy)
                    if axes.contains(.workingSet) && spec.workingSets == nil {
                        throw SpecError(key: "sweep.sizes", "missing; workload '\(workload)' needs working-set sizes")
                    }
                    for var point in Self.expand(spec, mode: mode, kind: kind.name, strategy: strategy,
                                                 workload: workload, axes: axes) {
                        try Self.check(point, kind: kind)
                        let id = point.id
                        guard seen.insert(id).inserted else { continue }
                        var hash = StableHash()
                        hash.combine(String(spec.seed))
                        hash.combine(id)
                        point.seed = hash.value
                        point.index = points.count
                        points.append(point)
                    }
                }
            }
        }
        for kind in kinds where used[kind.name] != nil { try kind.check(spec.options) }
        self.points = points
        self.kindsByName = used
        var columns: [String] = []
        for kind in kinds where used[kind.name] != nil {
            for column in kind.resultColumns where !columns.contains(column) { columns.append(column) }
        }
        self.resultColumns = columns
    }

    /// The kind that runs `point`.
    public func kind(of point: SweepPoint) -> (any PointKind)? { kindsByName[point.kind] }

    /// The product of the axes in `axes`, in the spec's order, the first
    /// axis varying slowest; the others stay nil.
    private static func expand(_ spec: ExperimentSpec, mode: ExperimentMode, kind: String, strategy: String,
                               workload: String, axes: SweepAxes) -> [SweepPoint] {
        var points = [SweepPoint(mode: mode, kind: kind, strategy: strategy, workload: workload, workingSetBytes: nil,
                                 guestPage: nil, backing: nil, guestLevels: nil, hostLevels: nil, placement: nil,
                                 repetition: 0)]
        func along<T>(_ axis: SweepAxes, _ values: [T], _ set: (inout SweepPoint, T) -> Void) {
            guard axes.contains(axis) else { return }
            points = points.flatMap { point in
                values.map { value in
                    var next = point
                    set(&next, value)
                    return next
                }
            }
        }
        along(.workingSet, spec.workingSets ?? []) { $0.workingSetBytes = $1 }
        along(.guestPage, spec.guestPages) { $0.guestPage = $1 }
        along(.backing, spec.backings) { $0.backing = $1 }
        along(.guestLevels, spec.guestLevels) { $0.guestLevels = $1 }
        along(.hostLevels, spec.hostLevels) { $0.hostLevels = $1 }
        along(.placement, spec.placements) { $0.placement = $1 }
        points = points.flatMap { point in
            (0..<spec.repetitions).map { repetition in
                var next = point
                next.repetition = repetition
                return next
            }
        }
        return points
    }

    /// Combinations no kind can run, whatever the host.
    private static func check(_ point: SweepPoint, kind: any PointKind) throws {
        if let size = point.workingSetBytes {
            var pages: [(String, PageSize)] = []
            if let guestPage = point.guestPage { pages.append(("guest page", guestPage)) }
            if let backing = point.backing { pages.append(("\(backing.rawValue) backing page", backing.hostPage)) }
            for (what, page) in pages where size & page.offsetMask != 0 {
                throw SpecError(key: "sweep.sizes", "\(ByteCount(Int(clamping: size))) is not a whole number of \(page.name) "
                    + "pages (the \(what)); use a multiple of \(page.name)")
            }
        }
        if let (key, reason) = kind.impossibility(point) { throw SpecError(key: key, reason) }
    }
}
