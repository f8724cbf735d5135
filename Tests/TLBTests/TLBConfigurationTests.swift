import Testing
import TLB
import Translation

@Suite("TLB configuration files and presets")
struct TLBConfigurationTests {
    @Test("the issue's example parses, with levels in file order")
    func example() throws {
        let configuration = try TLBConfiguration(toml: """
            [[level]]
            name = "L1D"
            entries = 64
            ways = 4
            replacement = "lru"   # lru | plru | fifo | random
            page_sizes = ["4K"]

            [[level]]
            name = "L2"
            entries = 1536
            ways = 12
            replacement = "fifo"
            page_sizes = ["4K", "2M"]
            hit_latency_cycles = 9

            [[level.array]]
            entries = 16
            ways = 4
            page_sizes = ["1G"]

            [walk_cache]
            design = "translation"
            pd_entries = 32
            pdpt_entries = 4

            [nested_tlb]
            entries = 16

            [cost]
            dram_cycles = 300
            """)
        #expect(configuration.levels.map(\.name) == ["L1D", "L2"])
        #expect(configuration.levels[1].arrays.count == 2)
        #expect(configuration.levels[1].replacement == .fifo)
        #expect(configuration.levels[1].hitLatencyCycles == 9)
        #expect(configuration.walkCache.splitEntries == [2: 32, 3: 4])
        #expect(configuration.nestedTLB?.entries == 16)
        #expect(configuration.cost.dramCycles == 300)
    }

    @Test("bad files are rejected with a clear message", arguments: [
        ("[[level]\nname = 1", "invalid TOML"),
        ("[[level]]\nname = \"L1\"\nentries = 64\nways = 4\ncolour = \"red\"", "unknown key 'colour' in level 'L1'"),
        ("[[level]]\nname = \"L1\"\nentries = 10\nways = 4", "entries (10) is not divisible by ways (4)"),
        ("[[level]]\nname = \"L1\"\nentries = 64\nways = 4\npage_sizes = [\"8K\"]", "unknown page size \"8K\""),
        ("[[level]]\nname = \"L1\"\nentries = 64\nways = 4\nreplacement = \"mru\"", "unknown replacement 'mru'"),
        ("[walk_cache]\ndesign = \"pwc\"", "needs at least one [[level]]"),
        ("[[level]]\nentries = 4\nways = 4\n[walk_cache]\ndesign = \"magic\"", "unknown design 'magic'"),
        ("[[level]]\nentries = 4\nways = 4\n[cost]\nl1_bytes = 1000", "cost: l1"),
        ("bogus = 1\n[[level]]\nentries = 4\nways = 4", "unknown key 'bogus' in the top level"),
    ])
    func badFiles(text: String, message: String) {
        do {
            _ = try TLBConfiguration(toml: text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test("named presets validate", arguments: TLBPreset.names.filter { $0 != "host" })
    func presets(name: String) throws {
        let configuration = try TLBPreset.named(name)
        try configuration.validate()
        #expect(configuration.levels.contains { $0.kind == .data })
        _ = try TLBHierarchy(levels: configuration.levels)
    }

    @Test("an unknown preset names the known ones")
    func unknownPreset() {
        #expect(throws: TLBConfigurationError.unknownPreset("pentium")) { try TLBPreset.named("pentium") }
        #expect(TLBConfigurationError.unknownPreset("pentium").description.contains("zen4"))
    }

    #if arch(x86_64)
    @Test("the host preset reads a data TLB from CPUID")
    func host() throws {
        let configuration = try TLBPreset.named("host")
        #expect(configuration.levels.contains { $0.kind != .instruction && $0.pageSizes.contains(.size4K) })
    }
    #endif
}
