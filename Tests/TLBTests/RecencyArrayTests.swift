import Testing
@testable import TLB
import VMemLabTestSupport
import Workloads

@Suite("Recency-ordered key arrays against the LRU reference")
struct RecencyArrayTests {
    static let geometries = ["64x4", "16x16", "32x2", "8x1", "96x96", "96x4", "36x12", "48x16"]

    @Test("hits and misses match LRU on random streams, for any number of sets", arguments: geometries)
    func differential(geometry: String) {
        let parts = geometry.split(separator: "x").map { Int($0)! }
        let (entries, ways) = (parts[0], parts[1])
        for seed: UInt64 in 1...4 {
            let arena = StorageArena()
            let array = RecencyArray(entries: entries, ways: ways, arena: arena)
            var reference = TLBReferenceSet(sets: entries / ways, ways: ways, policy: .lru)
            var random = SplitMix64(seed: seed)
            let span = UInt64(entries) * (seed % 2 == 0 ? 2 : 4)
            var mismatches = 0
            for _ in 0..<20_000 {
                let key = random.below(span)
                if array.access(key) != reference.access(key) { mismatches += 1 }
            }
            #expect(mismatches == 0, "seed \(seed)")
            #expect(reference.hits > 0 && reference.misses > 0)
        }
    }

    @Test("removeAll empties every set", arguments: [8, 32])
    func removeAll(ways: Int) {
        let arena = StorageArena()
        let array = RecencyArray(entries: 32, ways: ways, arena: arena)
        for key: UInt64 in 0..<32 { _ = array.access(key) }
        #expect((0..<32).allSatisfy { array.access(UInt64($0)) })
        array.removeAll()
        #expect((0..<32).allSatisfy { !array.access(UInt64($0)) }, "every key was removed")
        #expect((0..<32).allSatisfy { array.access(UInt64($0)) }, "and every key was filled again")
    }
}
