import GuestMemory
import Translation

/// One point of a sweep: the parameters of one run of one point kind. An
/// axis the kind does not use is nil and is left out of the point id.
public struct SweepPoint: Sendable, Hashable {
    public var mode: ExperimentMode
    /// The point kind that runs it (`walk`, `kvm`, …).
    public var kind: String
    public var strategy: String
    public var workload: String
    public var workingSetBytes: UInt64?
    public var guestPage: PageSize?
    public var backing: Backing?
    public var guestLevels: Int?
    public var hostLevels: Int?
    public var placement: MemoryPlacement?
    public var repetition: Int
    /// The seed of this point's random streams, derived from the spec's
    /// seed and the point's parameters.
    public var seed: UInt64 = 0
    /// Its position in the whole sweep's expansion; informational, used to
    /// order merged shards. The id, not the index, identifies a point.
    public var index: Int = 0

    public init(mode: ExperimentMode, kind: String, strategy: String, workload: String, workingSetBytes: UInt64?,
                guestPage: PageSize?, backing: Backing?, guestLevels: Int?, hostLevels: Int?,
                placement: MemoryPlacement?, repetition: Int) {
        self.mode = mode
        self.kind = kind
        self.strategy = strategy
        self.workload = workload
        self.workingSetBytes = workingSetBytes
        self.guestPage = guestPage
        self.backing = backing
        self.guestLevels = guestLevels
        self.hostLevels = hostLevels
        self.placement = placement
        self.repetition = repetition
    }

    /// The parameter columns of a sweep CSV, in order.
    public static let parameterColumns = [
        "mode", "kind", "strategy", "workload", "working_set_bytes", "guest_page", "backing",
        "guest_levels", "host_levels", "placement", "repetition",
    ]

    /// The values of `parameterColumns`; an unused axis is empty.
    public var parameterValues: [String] {
        [mode.rawValue, kind, strategy, workload, workingSetBytes.map { String($0) } ?? "", guestPage?.name ?? "",
         backing?.rawValue ?? "", guestLevels.map { String($0) } ?? "", hostLevels.map { String($0) } ?? "",
         placement?.rawValue ?? "", String(repetition)]
    }

    /// The stable id: a hash of the parameters (never of the index), so
    /// it survives reordering and extending the spec.
    public var id: String {
        StableHash.hex(of: zip(Self.parameterColumns, parameterValues).map { "\($0)=\($1)" })
    }

    /// A short label for progress lines.
    public var label: String {
        var parts = [kind, strategy, workload]
        if let size = workingSetBytes { parts.append(ByteCount(Int(clamping: size)).description) }
        if let guestPage { parts.append("g\(guestPage.name)") }
        if let backing { parts.append("h\(backing.rawValue)") }
        if let guestLevels { parts.append("L\(guestLevels)" + (hostLevels.map { "/\($0)" } ?? "")) }
        if let placement, placement != .local { parts.append(placement.rawValue) }
        parts.append("rep\(repetition)")
        return parts.joined(separator: " ")
    }
}
