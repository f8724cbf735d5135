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
                    func values<T>(_ axis: SweepAxes, _ list: [T]) -> [T?] { axes.contains(axis) ? list.map { $0 } : [nil] }
                    for size in values(.workingSet, spec.workingSets ?? []) {
                        for guestPage in values(.guestPage, spec.guestPages) {
                            for backing in values(.backing, spec.backings) {
                                for guestLevels in values(.guestLevels, spec.guestLevels) {
                                    for hostLevels in values(.hostLevels, spec.hostLevels) {
                                        for placement in values(.placement, spec.placements) {
                                            for repetition in 0..<spec.repetitions {
                                                var point = SweepPoint(
                                                    mode: mode, kind: kind.name, strategy: strategy, workload: workload,
                                                    workingSetBytes: size, guestPage: guestPage, backing: backing,
                                                    guestLevels: guestLevels, hostLevels: hostLevels,
                                                    placement: placement, repetition: repetition)
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
                            }
                        }
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

    /// Combinations no kind can run, whatever the host.
    private static func check(_ point: SweepPoint, kind: any PointKind) throws {
        if let size = point.workingSetBytes {
            var pages: [(String, PageSize)] = []
            if let guestPage = point.guestPage { pages.append(("guest page", guestPage)) }
            if let backing = point.backing { pages.append(("\(backing.rawValue) backing page", backing.hostPage)) }
            for (what, page) in pages where size & page.offsetMask != 0 {
                throw SpecError(key: "sweep.sizes", "\(ByteSize.format(size)) is not a whole number of \(page.name) "
                    + "pages (the \(what)); use a multiple of \(page.name)")
            }
        }
        if let (key, reason) = kind.impossibility(point) { throw SpecError(key: key, reason) }
    }
}
