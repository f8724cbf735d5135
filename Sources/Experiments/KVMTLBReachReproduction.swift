import Foundation
import KVM
import Translation

/// The measured half of TLB reach: pointer-chase cycles per access in a real
/// KVM guest rise once the working set outgrows the TLB's reach, and guest
/// 2 MiB pages on THP-backed memory (2 MiB shadow mappings) push the rise out.
public struct KVMTLBReachReproduction: KVMReproduction {
    public let name = "tlb-reach-measured"
    public let source = "test-tlb (L. Torvalds) and lmbench tlb working-set sweeps; TLB reach = entries x page size"
    public let summary = "Measured chase cycles/access by working set, guest 4K/host 4K against guest 2M/host THP (KVM)"

    /// The KVM device (a missing one makes the reproduction a skip).
    public var devicePath: String

    public init(devicePath: String = KVMDevice.defaultPath) { self.devicePath = devicePath }

    public func run(_ context: ReproductionContext, kvm: KVMMeasurementContext) throws -> ReproductionOutcome {
        let mib = 1 << 20
        var experiment = MeasuredTLBReach(
            guestPages: [.size4K, .size2M], backings: [.anonymous4K, .transparentHuge],
            sizes: context.quick ? [1, 16, 64, 256].map { $0 * mib } : [1, 4, 16, 32, 64, 128, 256, 512].map { $0 * mib },
            repetitions: context.quick ? 3 : 7)
        if context.quick {
            experiment.minimumSteps = 200_000
            experiment.modelAccesses = 30_000
        }
        let result = try experiment.run(kvm)
        let small = Configuration4K4K.point(result, experiment.sizes.min()!)
        let large = Configuration4K4K.point(result, experiment.sizes.max()!)
        let huge = result.point(.init(guestPage: .size2M, backing: .transparentHuge), experiment.sizes.max()!)
        let geometry = TLBGeometry(cpuid: kvm.cpuid)
        let reach4K = (geometry?.entries4K ?? 0) * 4096, reach2M = (geometry?.entries2M ?? 0) << 21
        let published = "cycles/access rise beyond TLB reach (here CPUID: \(reach4K >> 10) KiB with 4K, "
            + "\(reach2M >> 20) MiB with 2M entries); 2M pages in both dimensions move the rise out"
        guard let small, let large, let huge else {
            return ReproductionOutcome(status: .diff, obtained: "missing points", published: published, files: [])
        }
        let rises = large.cycles.median > 2 * small.cycles.median
        let hugeHelps = huge.pages2M > 0 && huge.cycles.median < large.cycles.median
        let table = Self.appendingStatus(experiment.table(result, kvm), rises && hugeHelps ? "PASS" : "DIFF")
        try table.write(to: context.output("tlb-reach-measured.csv"))
        let mape = result.validationMAPE.map { "\($0.key) \(csvNumber($0.value * 100, decimals: 0))%" }
            .sorted().joined(separator: ", ")
        return ReproductionOutcome(
            status: rises && hugeHelps ? .pass : .diff,
            obtained: "4K/4K \(csvNumber(small.cycles.median)) -> \(csvNumber(large.cycles.median)) cycles "
                + "(\(small.workingSetBytes >> 20) -> \(large.workingSetBytes >> 20) MiB); 2M/THP "
                + "\(csvNumber(huge.cycles.median)) with pages_2m \(huge.pages2M); model MAPE \(mape)",
            published: published, files: ["tlb-reach-measured.csv"])
    }

    /// The same table with a `reproduction_status` column holding `status` on every row.
    static func appendingStatus(_ table: CSVTable, _ status: String) -> CSVTable {
        var copy = CSVTable(columns: table.columns + ["reproduction_status"])
        for row in table.rows { copy.append(row + [status]) }
        return copy
    }

    enum Configuration4K4K {
        static func point(_ result: MeasuredTLBReach.Result, _ size: Int) -> MeasuredTLBReach.Point? {
            result.point(.init(guestPage: .size4K, backing: .anonymous4K), size)
        }
    }
}
