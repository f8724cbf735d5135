import Experiments
import Testing

@Suite struct ExperimentSpecTests {
    static let good = """
        name = "demo"
        mode = "both"
        seed = 7
        repetitions = 2
        [sweep]
        strategies = ["native", "nested"]
        workloads = ["walk", "pointer-chase"]
        sizes = ["64M", 1073741824]
        guest_pages = ["4K", "2M"]
        backings = ["4K", "THP"]
        guest_levels = [4]
        host_levels = [4, 5]
        placements = ["local", "remote-pt"]
        """

    @Test func aGoodSpecParsesEveryAxis() throws {
        let spec = try ExperimentSpec(toml: Self.good)
        #expect(spec.name == "demo")
        #expect(spec.modes == [.model, .measure])
        #expect(spec.seed == 7)
        #expect(spec.repetitions == 2)
        #expect(spec.strategies == ["native", "nested"])
        #expect(spec.workingSets == [64 << 20, 1 << 30])
        #expect(spec.guestPages == [.size4K, .size2M])
        #expect(spec.backings == [.anonymous4K, .thp])
        #expect(spec.hostLevels == [4, 5])
        #expect(spec.placements == [.local, .remotePageTables])
    }

    @Test func defaultsFillTheAxesASpecLeavesOut() throws {
        let spec = try ExperimentSpec(toml: "name = \"d\"\n[sweep]\nstrategies = \"nested\"\nworkloads = [\"walk\"]\n")
        #expect(spec.modes == [.model])
        #expect(spec.seed == 42)
        #expect(spec.repetitions == 1)
        #expect(spec.guestPages == [.size4K])
        #expect(spec.backings == [.anonymous4K])
        #expect(spec.guestLevels == [4])
        #expect(spec.workingSets == nil)
    }

    @Test func theHashIgnoresCommentsAndLayoutButNotValues() throws {
        let a = try ExperimentSpec(toml: Self.good)
        let b = try ExperimentSpec(toml: "# a comment\n" + Self.good.replacingOccurrences(of: " = ", with: "="))
        let c = try ExperimentSpec(toml: Self.good.replacingOccurrences(of: "seed = 7", with: "seed = 8"))
        #expect(a.hash == b.hash)
        #expect(a.hash != c.hash)
    }

    /// Bad specs, with the key their error must name.
    @Test(arguments: [
        ("name = \"x\"\ncolour = 1\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]", "colour"),
        ("name = \"x\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]\npage_sizes=[\"4K\"]", "sweep.page_sizes"),
        ("name = \"x\"\n[sweep]\nstrategies=[]\nworkloads=[\"walk\"]", "sweep.strategies"),
        ("name = \"x\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]\nguest_pages=[]", "sweep.guest_pages"),
        ("name = \"x\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]\nguest_pages=[\"3M\"]", "sweep.guest_pages"),
        ("name = \"x\"\n[sweep]\nstrategies=[\"warp\"]\nworkloads=[\"walk\"]", "sweep.strategies"),
        ("name = \"x\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]\nbackings=[\"5M\"]", "sweep.backings"),
        ("name = \"x\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]\nguest_levels=[3]", "sweep.guest_levels"),
        ("name = \"x\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]\nsizes=[\"lots\"]", "sweep.sizes"),
        ("name = \"x\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]\nsizes=[\"0M\"]", "sweep.sizes"),
        ("name = \"x\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\",\"walk\"]", "sweep.workloads"),
        ("name = \"x\"\nrepetitions = 0\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]", "repetitions"),
        ("name = \"x\"\nmode = \"guess\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]", "mode"),
        ("name = \"x\"\n[sweep]\nworkloads=[\"walk\"]", "sweep.strategies"),
        ("name = \"x\"", "sweep"),
        ("[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]", "name"),
        ("name = \"../x\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]", "name"),
        ("name = \"x\"\n[options]\nfoo = 1\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]", "options.foo"),
        ("name = \"x\"\n[sweep\n", "(file)"),
    ])
    func aBadSpecIsAnErrorNamingTheKey(toml: String, key: String) {
        #expect {
            _ = try Sweep(try ExperimentSpec(toml: toml))
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            return error.key == key && error.description.contains("'\(key)'")
        }
    }

    /// Specs that parse, but whose combinations no point kind can run.
    @Test(arguments: [
        // the walk kind runs in model mode only
        ("name = \"x\"\nmode = \"measure\"\n[sweep]\nstrategies=[\"native\"]\nworkloads=[\"walk\"]", "sweep.workloads"),
        // a 1M working set is no whole number of 2M pages
        ("name = \"x\"\nmode = \"measure\"\n[sweep]\nstrategies=[\"nested\"]\nworkloads=[\"pointer-chase\"]\nsizes=[\"1M\"]\nguest_pages=[\"2M\"]",
         "sweep.sizes"),
        // nor of a 1G backing's pages
        ("name = \"x\"\nmode = \"measure\"\n[sweep]\nstrategies=[\"nested\"]\nworkloads=[\"pointer-chase\"]\nsizes=[\"64M\"]\nbackings=[\"1G\"]",
         "sweep.sizes"),
        // the measure kind needs sizes
        ("name = \"x\"\nmode = \"measure\"\n[sweep]\nstrategies=[\"nested\"]\nworkloads=[\"pointer-chase\"]", "sweep.sizes"),
    ])
    func anImpossibleCombinationIsAnErrorNamingTheKey(toml: String, key: String) throws {
        let spec = try ExperimentSpec(toml: toml)
        #expect {
            _ = try Sweep(spec)
        } throws: { error in
            (error as? SpecError)?.key == key
        }
    }
}
