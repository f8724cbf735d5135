import Foundation
import GuestMemory
import Testing
import Translation
@testable import Experiments

struct MitosisVirtualizedTests {
    static var small: MitosisGUPSModel.Parameters {
        var parameters = MitosisGUPSModel.Parameters()
        parameters.updates = 3000
        parameters.warmupUpdates = 1000
        parameters.tableBytes = 1 << 30  // few page-table pages, so that debug builds stay quick
        return parameters
    }

    @Test("each configuration walks the guest and EPT copies it names, 24 references a 4K miss",
          arguments: MitosisVirtualizedModel.Configuration.allCases)
    func configurations(configuration: MitosisVirtualizedModel.Configuration) throws {
        let topology = try NUMATopology.synthetic(nodeCount: 2)
        let result = try MitosisVirtualizedModel.run(topology: topology, pageSize: .size4K, configuration: configuration,
                                                     parameters: Self.small)
        #expect(result.walkReferences == result.tlbMisses * 24)
        #expect(result.guestTableNode == (configuration.guestTables == .remote ? 1 : 0))
        #expect(result.extendedTableNode == (configuration.extendedTables == .remote ? 1 : 0))
        let remoteDimensions = [configuration.guestTables, configuration.extendedTables].filter { $0 == .remote }.count
        if remoteDimensions == 0 { #expect(result.walkRemoteMemoryReferences == 0) }
        if remoteDimensions == 2 { #expect(result.walkLocalMemoryReferences == 0 && result.walkRemoteMemoryReferences > 0) }
        if remoteDimensions == 1 { #expect(result.walkLocalMemoryReferences > 0 && result.walkRemoteMemoryReferences > 0) }
    }

    @Test("2M pages in both dimensions make 15-reference walks")
    func largePages() throws {
        let result = try MitosisVirtualizedModel.run(topology: try .synthetic(nodeCount: 2), pageSize: .size2M,
                                                     configuration: .localLocal, parameters: Self.small)
        #expect(result.tlbMisses > 0)
        #expect(result.walkReferences == result.tlbMisses * 15)
    }

    @Test("the shape of vMitosis's thin-VM result holds on small runs, and can fail")
    func shape() throws {
        var points = try MitosisVirtualizedReproduction.points(parameters: Self.small)
        #expect(points.count == 24)
        for check in MitosisVirtualizedReproduction.shapeChecks(points) { #expect(check.holds, "\(check.check)") }
        for index in points.indices where points[index].configuration == .replicatedEPT { points[index].slowdown = 1 }
        #expect(MitosisVirtualizedReproduction.shapeChecks(points).contains { !$0.holds })
    }

    @Test("the published GUPS rows equal data/reference/vmitosis_avg.tsv")
    func publishedData() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data/reference/vmitosis_avg.tsv")
        let rows = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
            .map { $0.split(whereSeparator: \.isWhitespace) }.filter { $0.first == "GUPS" }
        #expect(rows.count == MitosisVirtualizedReproduction.published.count)
        for row in rows { #expect(MitosisVirtualizedReproduction.published[String(row[1])] == Double(row[2])) }
        #expect(abs((MitosisVirtualizedReproduction.publishedSlowdown("RRI") ?? 0) - 3.046) < 0.001)
    }
}
