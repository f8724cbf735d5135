import Translation

/// Model mode, workload `walk`: one uncached page walk of a mapped address
/// through the Translation walkers, counting the references the walker's
/// own log holds. Native walks the guest table alone; nested makes the 2D
/// walk through EPT; shadow walks a one-dimensional table whose leaf is the
/// smaller of the guest page and the backing's page.
public struct WalkPointKind: PointKind {
    public let name = "walk"
    public let mode = ExperimentMode.model
    public let workloads = ["walk"]
    public let strategies = ["native", "nested", "shadow"]
    public let resultColumns = ["walk_refs", "guest_dim_refs", "nested_dim_refs", "tlb_entry_page"]

    public init() {}

    public func axes(for strategy: String) -> SweepAxes {
        switch strategy {
        case "nested": [.guestPage, .backing, .guestLevels, .hostLevels]
        case "shadow": [.guestPage, .backing, .guestLevels]
        default: [.guestPage, .guestLevels]
        }
    }

    public func run(_ point: SweepPoint, options: SweepOptions) throws -> PointOutcome {
        let guestPage = point.guestPage ?? .size4K
        let hostPage = point.backing?.hostPage ?? guestPage
        let guestMode = PagingMode(rawValue: point.guestLevels ?? 4) ?? .fourLevel
        let hostMode = PagingMode(rawValue: point.hostLevels ?? guestMode.levels) ?? guestMode
        let counts = try WalkReferencesReproduction.count(
            .init(guestMode: guestMode, hostMode: hostMode, guestPage: guestPage, hostPage: hostPage))
        switch point.strategy {
        case "nested":
            let guestReferences = guestMode.levels - guestPage.leafLevel + 1
            return .done(["walk_refs": "\(counts.nested)", "guest_dim_refs": "\(guestReferences)",
                          "nested_dim_refs": "\(counts.nested - guestReferences)",
                          "tlb_entry_page": min(guestPage, hostPage).name])
        case "shadow":
            return .done(["walk_refs": "\(counts.shadow)", "tlb_entry_page": min(guestPage, hostPage).name])
        default:
            return .done(["walk_refs": "\(counts.native)", "guest_dim_refs": "\(counts.native)",
                          "nested_dim_refs": "0", "tlb_entry_page": guestPage.name])
        }
    }
}
