import Testing
import TLB
import VMemLabTestSupport
import Workloads

/// Drives a fast array the way a TLB level does: find, then touch or fill.
func access(_ array: SetAssociativeArray, _ key: UInt64) -> Bool {
    let set = array.set(of: key)
    let slot = array.find(tag: key, set: set, context: 0, alternative: 0)
    if slot >= 0 {
        array.touch(slot, set: set)
        return true
    }
    array.fill(tag: key, set: set, context: 0, payload: key)
    return false
}

@Suite("Set-associative arrays against the reference")
struct SetAssociativeArrayTests {
    static let geometries: [(entries: Int, ways: Int)] = [(64, 4), (48, 12), (16, 16), (32, 2), (8, 1), (96, 96)]
    static let policies: [ReplacementPolicy] = [.lru, .treePLRU, .fifo]

    /// The entries and ways of `text` ("64x4"), or nil where `policy`
    /// cannot have that many ways (tree-PLRU needs a power of two).
    static func geometry(_ text: String, for policy: ReplacementPolicy) -> (entries: Int, ways: Int)? {
        let parts = text.split(separator: "x").map { Int($0)! }
        return policy == .treePLRU && parts[1] & (parts[1] - 1) != 0 ? nil : (parts[0], parts[1])
    }

    @Test("hits, misses and final contents match on random streams",
          arguments: policies, geometries.map { "\($0.entries)x\($0.ways)" })
    func differential(policy: ReplacementPolicy, geometry: String) {
        guard let (entries, ways) = Self.geometry(geometry, for: policy) else { return }
        for seed: UInt64 in 1...4 {
            let arena = StorageArena()
            let array = SetAssociativeArray(entries: entries, ways: ways, policy: policy, arena: arena)
            let onePass = SetAssociativeArray(entries: entries, ways: ways, policy: policy, arena: arena)
            var reference = TLBReferenceSet(sets: entries / ways, ways: ways, policy: policy)
            var random = SplitMix64(seed: seed)
            let span = UInt64(entries) * (seed % 2 == 0 ? 2 : 4)
            var fastHits = 0
            for step in 0..<20_000 {
                let key = random.below(span)
                let hit = access(array, key)
                let expected = reference.access(key)
                #expect(hit == expected, "step \(step) key \(key)")
                #expect(onePass.access(tag: key, set: onePass.set(of: key), context: 0) == expected, "one-pass access, step \(step)")
                if hit != expected { return }
                if hit { fastHits += 1 }
            }
            #expect(fastHits == reference.hits)
            #expect(fastHits > 0 && reference.misses > 0)
            for set in 0..<(entries / ways) {
                #expect(array.tags(inSet: set).sorted() == reference.contents(ofSet: set))
                #expect(onePass.tags(inSet: set).sorted() == reference.contents(ofSet: set))
            }
        }
    }

    @Test("invalidations in the stream: freed ways fill before any entry is evicted, and hits and contents match",
          arguments: policies, geometries.map { "\($0.entries)x\($0.ways)" })
    func differentialWithInvalidations(policy: ReplacementPolicy, geometry: String) {
        guard let (entries, ways) = Self.geometry(geometry, for: policy) else { return }
        for seed: UInt64 in 1...4 {
            let arena = StorageArena()
            let array = SetAssociativeArray(entries: entries, ways: ways, policy: policy, arena: arena)
            var reference = TLBReferenceSet(sets: entries / ways, ways: ways, policy: policy)
            var random = SplitMix64(seed: seed)
            let span = UInt64(entries) * 3
            var invalidated = 0
            for step in 0..<20_000 {
                let key = random.below(span)
                if random.below(8) == 0 {
                    let set = array.set(of: key)
                    let slot = array.find(tag: key, set: set, context: 0, alternative: 0)
                    if slot >= 0 { array.invalidate(slot: slot) }
                    #expect((slot >= 0) == reference.invalidate(key), "invalidation, step \(step)")
                    invalidated += slot >= 0 ? 1 : 0
                    continue
                }
                let hit = access(array, key)
                let expected = reference.access(key)
                #expect(hit == expected, "step \(step) key \(key)")
                if hit != expected { return }
            }
            #expect(array.validCount == (0..<(entries / ways)).reduce(0) { $0 + reference.contents(ofSet: $1).count })
            #expect(invalidated > 100)
            for set in 0..<(entries / ways) {
                #expect(array.tags(inSet: set).sorted() == reference.contents(ofSet: set))
            }
        }
    }

    @Test("cycling through ways + 1 keys of one set under LRU never hits", arguments: [1, 2, 4, 8, 12])
    func lruThrashes(ways: Int) {
        let arena = StorageArena()
        let array = SetAssociativeArray(entries: ways * 16, ways: ways, policy: .lru, arena: arena)
        var hits = 0
        for round in 0..<50 {
            for index in 0...ways where access(array, UInt64(index * 16 + 3)) { hits += round >= 0 ? 1 : 0 }
        }
        #expect(hits == 0)
    }

    @Test("a fully associative array behaves as one set", arguments: ReplacementPolicy.allDeterministic)
    func fullyAssociative(policy: ReplacementPolicy) {
        let arena = StorageArena()
        let array = SetAssociativeArray(entries: 16, ways: 16, policy: policy, arena: arena)
        var reference = TLBReferenceSet(sets: 1, ways: 16, policy: policy)
        var random = SplitMix64(seed: 7)
        for _ in 0..<5_000 {
            let key = random.below(40) * 4096
            #expect(access(array, key) == reference.access(key))
        }
        let fresh = SetAssociativeArray(entries: 16, ways: 16, policy: policy, arena: arena)
        for key in (0..<16).map({ UInt64($0) * 1_000_003 }) { _ = access(fresh, key) }
        #expect((0..<16).allSatisfy { access(fresh, UInt64($0) * 1_000_003) }, "any 16 keys fit at once")
    }

    @Test("random replacement is reproducible from its seed")
    func randomIsSeeded() {
        func run(_ seed: UInt64) -> [Bool] {
            let arena = StorageArena()
            let array = SetAssociativeArray(entries: 32, ways: 8, policy: .random(seed: seed), arena: arena)
            var random = SplitMix64(seed: 3)
            return (0..<2000).map { _ in access(array, random.below(100)) }
        }
        #expect(run(5) == run(5))
        #expect(run(5) != run(6))
    }
}

extension ReplacementPolicy {
    static let allDeterministic: [ReplacementPolicy] = [.lru, .treePLRU, .fifo]
}
