import Testing
@testable import TLB
import Workloads

@Suite("Recency orders packed in a word")
struct RecencyOrderTests {
    /// The ways of `order`, most recent first.
    static func ways(_ order: UInt64, _ ways: Int) -> [Int] { (0..<ways).map { RecencyOrder.way(order, at: $0) } }

    @Test("an empty set gives its ways lowest first", arguments: 1...16)
    func initial(ways: Int) {
        let order = RecencyOrder.initial(ways: ways)
        #expect(Self.ways(order, ways) == Array((0..<ways).reversed()))
        #expect(RecencyOrder.leastRecent(order, ways: ways) == 0)
    }

    @Test("promoting any way matches a list model, at every position", arguments: 1...16)
    func promoting(ways: Int) {
        var order = RecencyOrder.initial(ways: ways)
        var model = Array((0..<ways).reversed())
        var random = SplitMix64(seed: UInt64(ways))
        for step in 0..<2_000 {
            let way = Int(random.below(UInt64(ways)))
            #expect(RecencyOrder.position(of: way, in: order) == model.firstIndex(of: way), "step \(step)")
            order = RecencyOrder.promoting(way, in: order)
            model.removeAll { $0 == way }
            model.insert(way, at: 0)
            #expect(Self.ways(order, ways) == model, "step \(step)")
            #expect(RecencyOrder.leastRecent(order, ways: ways) == model.last)
        }
        if ways < 16 { #expect(order >> UInt64(4 * ways) == UInt64.max >> UInt64(4 * ways), "unused nibbles stay 0xF") }
    }

    @Test("invalidating keeps valid ways in order and puts invalid ones last, lowest last")
    func invalidating() {
        var order = RecencyOrder.initial(ways: 12)
        for way in [3, 7, 0, 11, 5] { order = RecencyOrder.promoting(way, in: order) }
        let invalid: Set = [7, 2, 11]
        let result = RecencyOrder.invalidating(order, ways: 12) { !invalid.contains($0) }
        #expect(Self.ways(result, 12) == [5, 0, 3, 10, 9, 8, 6, 4, 1, 11, 7, 2])
        #expect(RecencyOrder.leastRecent(result, ways: 12) == 2)
    }
}
