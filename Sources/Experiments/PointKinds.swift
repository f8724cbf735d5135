/// Every registered point kind. A spec's (mode, workload) pair picks one.
public enum PointKinds {
    public static let all: [any PointKind] = [
        WalkPointKind(),
        SimulatePointKind(),
        MeasurePointKind(),
    ]
}
