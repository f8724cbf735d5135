import Foundation

/// Measure mode: a measurement kernel run in a KVM guest. Until the KVM
/// runner lands on this build, every point is a skip with its reason; a
/// host without `/dev/kvm`, or whose KVM cannot run the strategy, says so
/// first.
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

    public init(probe: HostProbe = HostProbe()) { self.probe = probe }

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
        default:
            return .skipped(reason: "the KVM runner (issue 6) is not part of this build")
        }
    }
}
