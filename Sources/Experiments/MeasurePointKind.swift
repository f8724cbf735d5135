import Foundation
import GuestMemory

/// Measure mode: a measurement kernel run in a KVM guest through the KVM
/// runner. `pointer-chase` points run `MeasuredTLBReach` for their one
/// configuration and size (fresh VMs, medians and quartiles of the
/// repetitions). Everything else is a skip with its reason: no `/dev/kvm`,
/// a KVM mode that cannot run the strategy, a kernel not wired into sweeps.
public struct MeasurePointKind: PointKind {
    public let name = "measure"
    public let mode = ExperimentMode.measure
    public let workloads = ["pointer-chase", "uniform", "strided", "gups"]
    public let strategies = ["native", "nested", "shadow"]
    public let resultColumns = [
        "cycles_per_access", "cycles_p25", "cycles_p75", "native_cycles_per_access",
        "kvm_pages_4k", "kvm_pages_2m", "kvm_pages_1g",
    ]
    /// Where the device and module facts are read.
    public var probe: HostProbe
    /// Fresh VMs per point; the point's cycles are their median.
    public var repetitions: Int

    public init(probe: HostProbe = HostProbe(), repetitions: Int = 3) {
        self.probe = probe
        self.repetitions = repetitions
    }

    public func axes(for strategy: String) -> SweepAxes {
        strategy == "native" ? [.workingSet, .guestPage, .placement] : [.workingSet, .guestPage, .backing, .placement]
    }

    public func run(_ point: SweepPoint, options: SweepOptions) throws -> PointOutcome {
        guard FileManager.default.fileExists(atPath: probe.root.appendingPathComponent("dev/kvm").path) else {
            return .skipped(reason: "no /dev/kvm on this host")
        }
        let kvmMode = probe.kvmMode()
        switch point.strategy {
        case "nested" where !["ept", "npt"].contains(kvmMode):
            return .skipped(reason: "nested paging needs KVM with EPT or NPT; this host's KVM mode is \(kvmMode)")
        case "shadow" where !["shadow", "pvm"].contains(kvmMode):
            return .skipped(reason: "shadow paging needs KVM with ept=0/npt=0 or PVM; this host's KVM mode is \(kvmMode)")
        case "native":
            return .skipped(reason: "native runs are measured as native_cycles_per_access on the nested and shadow rows")
        default:
            break
        }
        guard point.workload == "pointer-chase" else {
            return .skipped(reason: "the KVM runner's \(point.workload) kernel is not wired into sweeps yet")
        }
        guard point.placement == nil || point.placement == .local else {
            return .skipped(reason: "NUMA placement of measured points is not wired into sweeps yet")
        }
        guard let size = point.workingSetBytes, let guestPage = point.guestPage,
              let backing = MemoryBacking(rawValue: (point.backing ?? .anonymous4K).rawValue)
        else { return .skipped(reason: "the point lacks a size, guest page or backing") }
        let context = try KVMMeasurementContext(quick: true, seed: point.seed)
        var experiment = MeasuredTLBReach(guestPages: [guestPage], backings: [backing], sizes: [Int(size)],
                                          repetitions: repetitions)
        experiment.calibration = .init(guestPage: guestPage, backing: backing)
        experiment.modelAccesses = 20_000
        let result = try experiment.run(context)
        if let (_, reason) = result.skipped.first { return .skipped(reason: reason) }
        guard let measured = result.points.first else { return .skipped(reason: "the runner measured no point") }
        func number(_ value: Double) -> String { String(format: "%.3f", value) }
        return .done([
            "cycles_per_access": number(measured.cycles.median), "cycles_p25": number(measured.cycles.p25),
            "cycles_p75": number(measured.cycles.p75), "native_cycles_per_access": number(measured.native.median),
            "kvm_pages_4k": "\(measured.pages4K)", "kvm_pages_2m": "\(measured.pages2M)",
            "kvm_pages_1g": "\(measured.pages1G)",
        ])
    }
}
