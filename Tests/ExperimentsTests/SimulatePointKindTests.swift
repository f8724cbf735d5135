import Experiments
import Testing

@Suite struct SimulatePointKindTests {
    static func sweep(_ body: String, options: String = "tlb_preset = \"zen5\"\naccesses = 20000") throws -> Sweep {
        try Sweep(try ExperimentSpec(toml: "name = \"sim\"\n[options]\n\(options)\n[sweep]\n\(body)"))
    }

    static func results(_ sweep: Sweep) throws -> [String: [String: String]] {
        var results: [String: [String: String]] = [:]
        for point in sweep.points {
            guard case let .done(values) = try SimulatePointKind().run(point, options: sweep.spec.options) else {
                Issue.record("a model point was skipped")
                continue
            }
            results[point.label] = values
        }
        return results
    }

    @Test func largePagesExtendTheReachAndNestedWalksReadMore() throws {
        let sweep = try Self.sweep("""
            strategies = ["native", "nested"]
            workloads = ["uniform"]
            sizes = ["1G"]
            guest_pages = ["4K", "1G"]
            backings = ["1G"]
            """)
        let results = try Self.results(sweep)
        let native4K = try #require(results.first { $0.key.contains("native") && $0.key.contains("g4K") }?.value)
        let native1G = try #require(results.first { $0.key.contains("native") && $0.key.contains("g1G") }?.value)
        let nested4K = try #require(results.first { $0.key.contains("nested") && $0.key.contains("g4K") }?.value)
        #expect(try #require(Double(native4K["misses_per_access"] ?? "")) > 0.5)
        #expect(try #require(Double(native1G["misses_per_access"] ?? "")) < 0.01)
        #expect(try #require(Double(nested4K["walk_memory_refs"] ?? "")) > (try #require(Double(native4K["walk_memory_refs"] ?? ""))))
        #expect(native4K["accesses"] == "20000")
        #expect(native4K["tlb_preset"] == "zen5")
    }

    @Test(arguments: [
        ("tlb_preset = \"pentium\"", "options.tlb_preset"),
        ("accesses = 0", "options.accesses"),
        ("stride = \"wide\"", "options.stride"),
        ("zipf_s = \"-1\"", "options.zipf_s"),
    ])
    func aBadOptionIsASpecErrorNamingIt(option: String, key: String) {
        #expect {
            _ = try Self.sweep("strategies = [\"native\"]\nworkloads = [\"gups\"]\nsizes = [\"4M\"]", options: option)
        } throws: { ($0 as? SpecError)?.key == key }
    }

    @Test func bothModesRunTheSameWorkloadSideBySide() throws {
        let spec = try ExperimentSpec(toml: """
            name = "both"
            mode = "both"
            [sweep]
            strategies = ["nested"]
            workloads = ["pointer-chase"]
            sizes = ["4M"]
            """)
        let sweep = try Sweep(spec)
        #expect(sweep.points.map(\.kind) == ["simulate", "measure"])
    }
}
