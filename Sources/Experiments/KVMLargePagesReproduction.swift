import Foundation
import KVM
import Translation

/// The matrix of guest page size against host backing at a working set far
/// beyond TLB reach: only large pages in both dimensions give KVM large
/// mappings (the shadow page is the smaller of the two) and recover the gap.
public struct KVMLargePagesReproduction: KVMReproduction {
    public let name = "large-pages"
    public let source = "VMware, Performance Evaluation of Intel EPT Hardware Assist (2009) and AMD RVI (2008)"
    public let summary = "Measured chase cycles/access for guest 4K/2M x host 4K/THP at a large working set (KVM)"

    /// The KVM device (a missing one makes the reproduction a skip).
    public var devicePath: String

    public init(devicePath: String = KVMDevice.defaultPath) { self.devicePath = devicePath }

    public func run(_ context: ReproductionContext, kvm: KVMMeasurementContext) throws -> ReproductionOutcome {
        let size = (context.quick ? 256 : 512) << 20
        var experiment = MeasuredTLBReach(guestPages: [.size4K, .size2M], backings: [.anonymous4K, .transparentHuge],
                                          sizes: [size], repetitions: context.quick ? 3 : 7)
        if context.quick {
            experiment.minimumSteps = 200_000
            experiment.modelAccesses = 30_000
        }
        let result = try experiment.run(kvm)
        let published = "large pages in both dimensions recover most of the TLB-miss cost; one dimension alone does not"
        let cells = experiment.configurations.compactMap { configuration in
            result.point(configuration, size).map { (configuration, $0) }
        }
        guard cells.count == 4, let base = result.point(.init(guestPage: .size4K, backing: .anonymous4K), size),
              let both = result.point(.init(guestPage: .size2M, backing: .transparentHuge), size)
        else { return ReproductionOutcome(status: .diff, obtained: "missing cells", published: published, files: []) }
        let mixed = cells.filter { $0.0.effectivePage == .size4K && $0.0 != base.configuration }.map(\.1.cycles.median)
        let ok = both.pages2M > 0 && both.cycles.median < base.cycles.median
            && mixed.allSatisfy { both.cycles.median < $0 }
        let table = KVMTLBReachReproduction.appendingStatus(experiment.table(result, kvm), ok ? "PASS" : "DIFF")
        try table.write(to: context.output("large-pages.csv"))
        let obtained = cells.map { "\($0.0) \(csvNumber($0.1.cycles.median))" }.joined(separator: ", ")
            + " cycles at \(size >> 20) MiB; 2M/THP pages_2m \(both.pages2M)"
        return ReproductionOutcome(status: ok ? .pass : .diff, obtained: obtained, published: published,
                                   files: ["large-pages.csv"])
    }
}
