import TLB
import Translation
import Workloads

/// The synthetic workloads `simulate` offers, each run through a simulator
/// specialized for its stream type.
struct SimulationWorkload {
    static let names = ["sequential", "strided", "uniform", "zipf", "pointer-chase", "gups"]

    var name: String
    var region: WorkloadRegion
    var stride: UInt64
    var zipfExponent: Double
    var seed: UInt64

    func simulate(_ configuration: TLBConfiguration, _ choice: PagingChoice, _ guest: PageSize, _ host: PageSize,
                  dataLines: DataLineModel? = nil) throws -> SimulationStatistics
    {
        switch name {
        case "sequential":
            var stream = StridedStream.sequential(region: region)
            return try SimulateCommand.simulate(configuration, choice, guest, host, &stream, dataLines: dataLines)
        case "strided":
            var stream = StridedStream(region: region, stride: stride)
            return try SimulateCommand.simulate(configuration, choice, guest, host, &stream, dataLines: dataLines)
        case "uniform":
            var stream = UniformStream(region: region, seed: seed)
            return try SimulateCommand.simulate(configuration, choice, guest, host, &stream, dataLines: dataLines)
        case "zipf":
            var stream = ZipfStream(region: region, exponent: zipfExponent, seed: seed)
            return try SimulateCommand.simulate(configuration, choice, guest, host, &stream, dataLines: dataLines)
        case "pointer-chase":
            var stream = PointerChaseStream(region: region, seed: seed)
            return try SimulateCommand.simulate(configuration, choice, guest, host, &stream, dataLines: dataLines)
        default:
            var stream = GUPSStream(region: region, seed: seed)
            return try SimulateCommand.simulate(configuration, choice, guest, host, &stream, dataLines: dataLines)
        }
    }
}
