import Foundation
import GuestMemory
import Testing
import Translation
@testable import Experiments

struct NUMACostModelTests {
    @Test("latencies scale with the SLIT, interference multiplies, overrides replace")
    func latencies() throws {
        let topology = try NUMATopology.synthetic(nodeCount: 4)
        var model = NUMACostModel(topology: topology, localLatencyCycles: 100)
        #expect(try model.latency(cpuNode: 0, memoryNode: 0) == 100)
        #expect(try model.latency(cpuNode: 0, memoryNode: 1) == 210)
        #expect(try model.latency(cpuNode: 0, memoryNode: 2) == 310)
        model.interference[2] = 3
        #expect(try model.latency(cpuNode: 0, memoryNode: 2) == 930)
        #expect(try model.latency(cpuNode: 2, memoryNode: 2) == 300)
        model.latencyOverrides[[0, 1]] = 150
        #expect(try model.latency(cpuNode: 0, memoryNode: 1) == 150)
        #expect(throws: NUMATopologyError.self) { _ = try model.latency(cpuNode: 0, memoryNode: 9) }
        let table = try model.table()
        #expect(table.cycles(cpu: 0, memory: 2) == 930)
        #expect(table.position(ofPhysical: (64 << 30) * 2 + 7) == 2)
        #expect(table.position(ofPhysical: 0) == 0)
    }

    @Test("a walk's references are priced by the node of each table page, then hit the cache")
    func walkCost() throws {
        let topology = try NUMATopology.synthetic(nodeCount: 2, memoryPerNode: 1 << 30)
        var memory = SparsePhysicalMemory()
        // Tables on node 1, data on node 0.
        var builder = try PageTableBuilder(format: .x86, mode: .fourLevel,
                                           allocator: FrameAllocator(base: (1 << 30) + (1 << 20), size: 1 << 20), memory: &memory)
        try builder.map(virtual: 0x4000_0000, physical: 0x20_0000, size: .size4K,
                        leafBits: PageTableEntry.Flags([.present, .writable, .user]).rawValue, memory: &memory)
        let table = try NUMACostModel(topology: topology, localLatencyCycles: 100, cacheHitCycles: 5).table()
        var observer = NUMAWalkCostObserver(latencies: table, cpu: 0, lineCache: NUMALRUCache(entries: 64, ways: 4))
        let walker = PageWalker(controls: PagingControls(mode: .fourLevel))
        guard case .translated = walker.walk(0x4000_0123, access: .userRead, root: builder.root, memory: &memory, observer: &observer) else {
            Issue.record("the walk did not translate")
            return
        }
        #expect(observer.references == 4)
        #expect(observer.remoteMemoryReferences == 4)
        #expect(observer.cycles == 4 * 210)
        observer.resetCounts()
        _ = walker.walk(0x4000_0123, access: .userRead, root: builder.root, memory: &memory, observer: &observer)
        #expect(observer.cacheHits == 4)
        #expect(observer.cycles == 4 * 5)
    }

    @Test("the LRU cache evicts the least recently used key of a set")
    func lruEviction() {
        var cache = NUMALRUCache(entries: 2, ways: 2)
        let hits = [1, 2, 1, 3, 1, 2].map { cache.access($0) }  // 3 evicts 2
        #expect(hits == [false, false, true, false, true, false])
    }

    @Test("the LRU cache agrees with a list-per-set oracle on random keys", arguments: [(16, 4), (64, 8), (8, 1)])
    func lruDifferential(entries: Int, ways: Int) {
        var cache = NUMALRUCache(entries: entries, ways: ways)
        let sets = entries / ways
        var oracle = [[UInt64]](repeating: [], count: sets)  // most recent last
        var random = GUPSRandom(seed: 7)
        for _ in 0..<20_000 {
            let key = random.next() % UInt64(entries * 3)
            let set = Int(key % UInt64(sets))
            let expected: Bool
            if let index = oracle[set].firstIndex(of: key) {
                oracle[set].remove(at: index)
                expected = true
            } else {
                if oracle[set].count == ways { oracle[set].removeFirst() }
                expected = false
            }
            oracle[set].append(key)
            let hit = cache.access(key)
            #expect(hit == expected)
        }
    }
}

struct MitosisTests {
    static var small: MitosisGUPSModel.Parameters {
        var parameters = MitosisGUPSModel.Parameters()
        parameters.updates = 4000
        parameters.warmupUpdates = 1000
        parameters.tableBytes = 1 << 30  // few page-table pages, so that debug builds stay quick
        return parameters
    }

    @Test("placements put the walked tables where they say", arguments: MitosisGUPSModel.Placement.allCases)
    func placements(placement: MitosisGUPSModel.Placement) throws {
        let topology = try NUMATopology.synthetic(nodeCount: 4)
        let result = try MitosisGUPSModel.run(topology: topology, pageSize: .size4K, placement: placement, parameters: Self.small)
        #expect(result.tlbMisses > result.updates * 9 / 10)
        #expect(result.walkReferences == result.tlbMisses * 4)
        switch placement {
        case .local, .replicated:
            #expect(result.pageTableNode == 0)
            #expect(result.walkRemoteMemoryReferences == 0 && result.walkLocalMemoryReferences > 0)
        case .remote, .remoteWithInterference:
            #expect(result.pageTableNode == 2)
            #expect(result.walkLocalMemoryReferences == 0 && result.walkRemoteMemoryReferences > 0)
        }
        #expect(result.interferenceNodes == (placement == .remoteWithInterference || placement == .replicated ? [2] : []))
    }

    @Test("the shape of Mitosis Fig. 6 holds on small runs")
    func shape() throws {
        let points = try MitosisReproduction.points(parameters: Self.small)
        #expect(points.count == 16)
        for check in MitosisReproduction.shapeChecks(points) { #expect(check.holds, "\(check.check)") }
    }

    @Test("the shape checks fail when replication does not restore local")
    func shapeCanFail() throws {
        var points = try MitosisReproduction.points(parameters: Self.small)
        for index in points.indices where points[index].placement == .replicated { points[index].slowdown = 1.3 }
        #expect(MitosisReproduction.shapeChecks(points).contains { !$0.holds })
    }

    @Test("the reproduction writes its CSV beside the published slowdowns")
    func reproduction() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mitosis-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let outcome = try MitosisReproduction().run(ReproductionContext(outputDirectory: directory, quick: true))
        #expect(outcome.status == .pass)
        let text = try String(contentsOf: directory.appendingPathComponent("mitosis.csv"), encoding: .utf8)
        let lines = text.split(separator: "\r\n")
        #expect(lines.count == 17)
        #expect(lines[0].contains("published_slowdown") && lines[0].contains("runtime_cycles"))
        #expect(lines.contains { $0.hasPrefix("GUPS,RPI-LD,4,4K,") && $0.contains(",3.2247,") })
        #expect(Reproductions.named("mitosis") != nil)
    }

    @Test("the published GUPS rows equal the artifact's file in data/reference")
    func publishedData() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data/reference/mitosis_fig6_full.tsv")
        let rows = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("GUPS\t") }.map { $0.split(separator: "\t") }
        #expect(rows.count == MitosisPublished.gups.count)
        for row in rows {
            let published = MitosisPublished.gups.first { $0.configuration == row[1] }
            #expect(published?.runtimeCycles == Double(row[2]))
            #expect(published?.walkCycles == Double(row[3]))
        }
        #expect(abs((MitosisPublished.slowdown("RPI-LD") ?? 0) - 3.2247) < 0.0001)
    }
}
