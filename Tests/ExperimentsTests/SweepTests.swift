import Experiments
import Foundation
import Testing

@Suite struct SweepTests {
    static let spec = """
        name = "s"
        [sweep]
        strategies = ["native", "nested", "shadow"]
        workloads = ["walk"]
        guest_pages = ["4K", "2M", "1G"]
        backings = ["4K", "2M", "1G"]
        guest_levels = [4, 5]
        host_levels = [4, 5]
        """

    @Test func unusedAxesAreBlankAndDoNotMultiplyPoints() throws {
        let sweep = try Sweep(try ExperimentSpec(toml: Self.spec))
        let byStrategy = Dictionary(grouping: sweep.points, by: \.strategy).mapValues(\.count)
        #expect(byStrategy == ["native": 3 * 2, "nested": 3 * 3 * 2 * 2, "shadow": 3 * 3 * 2])
        #expect(sweep.points.filter { $0.strategy == "native" }.allSatisfy { $0.backing == nil && $0.hostLevels == nil })
        #expect(Set(sweep.points.map(\.id)).count == sweep.points.count)
        #expect(sweep.points.map(\.index) == Array(0..<sweep.points.count))
    }

    @Test func pointIDsDependOnParametersNotOnOrder() throws {
        let a = try Sweep(try ExperimentSpec(toml: Self.spec))
        let reordered = Self.spec.replacingOccurrences(of: "[\"4K\", \"2M\", \"1G\"]", with: "[\"1G\", \"4K\", \"2M\"]")
            .replacingOccurrences(of: "[\"native\", \"nested\", \"shadow\"]", with: "[\"shadow\", \"native\", \"nested\"]")
        let b = try Sweep(try ExperimentSpec(toml: reordered))
        #expect(Set(a.points.map(\.id)) == Set(b.points.map(\.id)))
        #expect(a.points.map(\.id) != b.points.map(\.id))
        let seeds = Dictionary(uniqueKeysWithValues: a.points.map { ($0.id, $0.seed) })
        #expect(b.points.allSatisfy { seeds[$0.id] == $0.seed })
    }

    @Test func walkPointsCountTheWalkersReferences() throws {
        let sweep = try Sweep(try ExperimentSpec(toml: Self.spec))
        let kind = WalkPointKind()
        func refs(_ strategy: String, _ guest: String, _ backing: String?, _ levels: Int) throws -> String? {
            let point = try #require(sweep.points.first {
                $0.strategy == strategy && $0.guestPage?.name == guest && $0.backing?.rawValue == backing
                    && $0.guestLevels == levels && ($0.hostLevels ?? levels) == levels
            })
            guard case let .done(values) = try kind.run(point, options: SweepOptions()) else { return nil }
            return values["walk_refs"]
        }
        #expect(try refs("nested", "4K", "4K", 4) == "24")
        #expect(try refs("nested", "2M", "1G", 4) == "11")
        #expect(try refs("nested", "4K", "4K", 5) == "35")
        #expect(try refs("native", "4K", nil, 4) == "4")
        #expect(try refs("shadow", "2M", "4K", 4) == "4")
        #expect(try refs("shadow", "1G", "2M", 5) == "4")
    }

    @Test func measurePointsAreSkipsWithAReason() throws {
        let spec = try ExperimentSpec(toml: """
            name = "m"
            mode = "measure"
            [sweep]
            strategies = ["nested"]
            workloads = ["pointer-chase"]
            sizes = ["4M"]
            """)
        let point = try #require(try Sweep(spec).points.first)
        guard case let .skipped(reason) = try MeasurePointKind().run(point, options: spec.options) else {
            Issue.record("a measure point ran without the KVM runner")
            return
        }
        #expect(!reason.isEmpty)
        let noKVM = MeasurePointKind(probe: HostProbe(root: try temporaryDirectory()))
        #expect(try noKVM.run(point, options: spec.options) == .skipped(reason: "no /dev/kvm on this host"))
    }

    static let kvmRunsShadowPaging = KVMMeasurementContext.unavailableReason() == nil
        && ["pvm", "shadow"].contains(HostProbe().kvmMode())

    @Test(.enabled(if: kvmRunsShadowPaging, "needs /dev/kvm with shadow paging (PVM or ept=0/npt=0)"))
    func aShadowPointerChasePointIsMeasuredThroughKVM() throws {
        let spec = try ExperimentSpec(toml: """
            name = "m"
            mode = "measure"
            [sweep]
            strategies = ["shadow"]
            workloads = ["pointer-chase"]
            sizes = ["2M"]
            guest_pages = ["4K"]
            """)
        let point = try #require(try Sweep(spec).points.first)
        guard case let .done(values) = try MeasurePointKind(repetitions: 1).run(point, options: spec.options) else {
            Issue.record("the measure point was skipped on a host that runs shadow paging")
            return
        }
        let cycles = try #require(Double(values["cycles_per_access"] ?? ""))
        let p25 = try #require(Double(values["cycles_p25"] ?? "")), p75 = try #require(Double(values["cycles_p75"] ?? ""))
        #expect(cycles > 0 && p25 <= cycles && cycles <= p75)
        #expect(Double(values["native_cycles_per_access"] ?? "") != nil)
    }

    @Test(arguments: ["0/4", "5/4", "1/0", "x/2", "2", "1/2/3"])
    func aBadShardIsRejected(text: String) { #expect(Shard(text) == nil) }

    @Test func shardsPartitionThePoints() throws {
        let sweep = try Sweep(try ExperimentSpec(toml: Self.spec))
        let shards = (1...3).map { Shard("\($0)/3")! }
        for point in sweep.points {
            #expect(shards.filter { $0.contains(pointID: point.id) }.count == 1)
        }
        #expect(shards.allSatisfy { shard in sweep.points.contains { shard.contains(pointID: $0.id) } })
    }

    @Test func progressLinesShowDoneTotalAndETA() {
        #expect(SweepProgress.line(done: 3, total: 40, label: "walk", eta: 65) == "[ 3/40] 7%  walk  ETA 1:05")
        #expect(SweepProgress.line(done: 0, total: 9, label: "x", eta: nil) == "[0/9] 0%  x  ETA --:--")
        #expect(SweepProgress.format(3725) == "1:02:05")
    }
}
