import Testing
import TLB
import Translation
import Workloads

@Suite("Translation engines and the simulator")
struct TranslationEngineTests {
    static let sizes: [(PageSize, PageSize)] = PageSize.allCases.flatMap { guest in PageSize.allCases.map { (guest, $0) } }

    @Test("a 2D walk fills the TLB with the smaller page size and makes (g+1)(h+1)-1 references",
          arguments: sizes.map { "\($0.0)/\($0.1)" })
    func nested(pair: String) throws {
        let parts = pair.split(separator: "/").map { PageSize(name: String($0))! }
        let (guest, host) = (parts[0], parts[1])
        var recorder = try TranslationSimulator(configuration: tinyTLB(walkCache: .none),
                                                engine: try NestedEngine(guestPageSize: guest, hostPageSize: host))
        let address: UInt64 = 0x1000_0000_0000 + 0x5A8
        try recorder.access(AccessRecord(address: address))
        let g = 5 - guest.leafLevel, h = 5 - host.leafLevel
        #expect(recorder.statistics.walkReferences == UInt64((g + 1) * (h + 1) - 1))
        let effective = min(guest, host)
        #expect(recorder.tlb.contains(address, size: effective, level: 0))
        try recorder.access(AccessRecord(address: address + effective.bytes - 0x5A8 - 8))
        #expect(recorder.statistics.walks == 1, "the rest of the page hits")
        try recorder.access(AccessRecord(address: address + effective.bytes))
        #expect(recorder.statistics.walks == 2, "the next page walks")
    }

    @Test("shadow paging walks one dimension at the smaller page size", arguments: sizes.map { "\($0.0)/\($0.1)" })
    func shadow(pair: String) throws {
        let parts = pair.split(separator: "/").map { PageSize(name: String($0))! }
        let size = min(parts[0], parts[1])
        var simulator = try TranslationSimulator(configuration: tinyTLB(walkCache: .none), engine: try NativeEngine(pageSize: size))
        try simulator.access(AccessRecord(address: 0x1000_0000_0000))
        #expect(simulator.statistics.walkReferences == UInt64(5 - size.leafLevel))
        #expect(simulator.tlb.contains(0x1000_0000_0000, size: size, level: 0))
    }

    @Test("a non-canonical address is an error, not a crash")
    func nonCanonical() throws {
        var simulator = try TranslationSimulator(configuration: tinyTLB(walkCache: .none), engine: try NativeEngine(pageSize: .size4K))
        #expect(throws: SimulationError.nonCanonical(address: 0x8000_0000_0000)) {
            try simulator.access(AccessRecord(address: 0x8000_0000_0000))
        }
    }

    @Test("hits plus misses of the first level equal the accesses; walks equal last-level misses")
    func accounting() throws {
        let configuration = try TLBPreset.named("skylake")
        var simulator = try TranslationSimulator(configuration: configuration, engine: try NativeEngine(pageSize: .size4K))
        var stream = ZipfStream(region: WorkloadRegion(bytes: 64 << 20, accesses: 50_000), exponent: 0.9, seed: 3)
        try simulator.run(&stream)
        let statistics = simulator.statistics
        let l1d = statistics.levels.first { $0.name == "L1D" }!
        let l2 = statistics.levels.first { $0.name == "L2" }!
        #expect(l1d.hits + l1d.misses == 50_000)
        #expect(l2.hits + l2.misses == l1d.misses)
        #expect(statistics.walks == l2.misses)
        #expect(statistics.predictedCycles > 0)
    }
}
