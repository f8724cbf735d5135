import Translation

/// Named TLB configurations of real CPUs. Sources are cited in docs/TLB.md;
/// walk-cache geometries that vendors do not publish are estimates and
/// marked so there. Cost parameters are uncalibrated published latencies:
/// the KVM runner calibrates them.
public enum TLBPreset {
    /// The names `--tlb-preset` accepts.
    public static let names = ["host", "skylake", "golden-cove", "zen3", "zen4", "zen5"]

    /// The configuration called `name` (case-insensitive; `host` reads CPUID).
    public static func named(_ name: String) throws(TLBConfigurationError) -> TLBConfiguration {
        switch name.lowercased() {
        case "host": return try HostTLBPreset.read()
        case "skylake": return skylake
        case "golden-cove", "goldencove", "alder-lake": return goldenCove
        case "zen3", "zen-3": return zen3
        case "zen4", "zen-4": return zen4
        case "zen5", "zen-5": return zen5
        default: throw .unknownPreset(name)
        }
    }

    static func cost(l1KiB: Int, l1Ways: Int, l1: Double, l2KiB: Int, l2Ways: Int, l2: Double, llcMiB: Int, llcWays: Int,
                     llc: Double, dram: Double = 250) -> CostModel {
        CostModel(l1: DataCacheLevel(bytes: l1KiB << 10, ways: l1Ways, latencyCycles: l1),
                  l2: DataCacheLevel(bytes: l2KiB << 10, ways: l2Ways, latencyCycles: l2),
                  llc: DataCacheLevel(bytes: llcMiB << 20, ways: llcWays, latencyCycles: llc), dramCycles: dram)
    }

    /// Intel Skylake client core.
    public static let skylake = TLBConfiguration(
        levels: [
            TLBLevelConfiguration(name: "L1I", kind: .instruction, arrays: [
                TLBArrayConfiguration(entries: 128, ways: 8, pageSizes: [.size4K]),
                TLBArrayConfiguration(entries: 8, ways: 8, pageSizes: [.size2M]),
            ], hitLatencyCycles: 1),
            TLBLevelConfiguration(name: "L1D", kind: .data, arrays: [
                TLBArrayConfiguration(entries: 64, ways: 4, pageSizes: [.size4K]),
                TLBArrayConfiguration(entries: 32, ways: 4, pageSizes: [.size2M]),
                TLBArrayConfiguration(entries: 4, ways: 4, pageSizes: [.size1G]),
            ], hitLatencyCycles: 1),
            TLBLevelConfiguration(name: "L2", kind: .unified, arrays: [
                TLBArrayConfiguration(entries: 1536, ways: 12, pageSizes: [.size4K, .size2M]),
                TLBArrayConfiguration(entries: 16, ways: 4, pageSizes: [.size1G]),
            ], hitLatencyCycles: 9),
        ],
        walkCache: WalkCacheConfiguration(design: .translation, splitEntries: [4: 2, 3: 4, 2: 32]),
        cost: cost(l1KiB: 32, l1Ways: 8, l1: 5, l2KiB: 256, l2Ways: 4, l2: 12, llcMiB: 8, llcWays: 16, llc: 42))

    /// Intel Golden Cove (Alder Lake P-core, Sapphire Rapids).
    public static let goldenCove = TLBConfiguration(
        levels: [
            TLBLevelConfiguration(name: "L1I", kind: .instruction, arrays: [
                TLBArrayConfiguration(entries: 256, ways: 8, pageSizes: [.size4K]),
                TLBArrayConfiguration(entries: 32, ways: 32, pageSizes: [.size2M]),
            ], hitLatencyCycles: 1),
            TLBLevelConfiguration(name: "L1D", kind: .data, arrays: [
                TLBArrayConfiguration(entries: 96, ways: 6, pageSizes: [.size4K]),
                TLBArrayConfiguration(entries: 32, ways: 4, pageSizes: [.size2M]),
                TLBArrayConfiguration(entries: 8, ways: 8, pageSizes: [.size1G]),
            ], hitLatencyCycles: 1),
            TLBLevelConfiguration(name: "L2", kind: .unified, arrays: [
                TLBArrayConfiguration(entries: 2048, ways: 16, pageSizes: [.size4K, .size2M]),
                TLBArrayConfiguration(entries: 1024, ways: 8, pageSizes: [.size1G]),
            ], hitLatencyCycles: 7),
        ],
        walkCache: WalkCacheConfiguration(design: .translation, splitEntries: [4: 2, 3: 4, 2: 32]),
        cost: cost(l1KiB: 48, l1Ways: 12, l1: 5, l2KiB: 1280, l2Ways: 10, l2: 15, llcMiB: 30, llcWays: 15, llc: 55))

    static func amd(l1Data: Int, l2Data: Int, l2Ways: Int, l2Instruction: Int, l2InstructionWays: Int,
                    cost: CostModel) -> TLBConfiguration {
        TLBConfiguration(
            levels: [
                TLBLevelConfiguration(name: "L1I", entries: 64, ways: 64, pageSizes: [.size4K, .size2M, .size1G],
                                      kind: .instruction, hitLatencyCycles: 1),
                TLBLevelConfiguration(name: "L2I", entries: l2Instruction, ways: l2InstructionWays,
                                      pageSizes: [.size4K, .size2M], kind: .instruction, hitLatencyCycles: 7),
                TLBLevelConfiguration(name: "L1D", entries: l1Data, ways: l1Data, pageSizes: [.size4K, .size2M, .size1G],
                                      kind: .data, hitLatencyCycles: 1),
                TLBLevelConfiguration(name: "L2D", entries: l2Data, ways: l2Ways, pageSizes: [.size4K, .size2M, .size1G],
                                      kind: .data, hitLatencyCycles: 7),
            ],
            walkCache: WalkCacheConfiguration(design: .pwc, entries: 64, ways: 64),
            cost: cost)
    }

    /// AMD Zen 3 (family 19h, models 00h-0Fh).
    public static let zen3 = amd(l1Data: 64, l2Data: 2048, l2Ways: 16, l2Instruction: 512, l2InstructionWays: 8,
                                 cost: cost(l1KiB: 32, l1Ways: 8, l1: 4, l2KiB: 512, l2Ways: 8, l2: 12, llcMiB: 32, llcWays: 16, llc: 46))
    /// AMD Zen 4 (family 19h, models 10h-1Fh and 60h-7Fh).
    public static let zen4 = amd(l1Data: 72, l2Data: 3072, l2Ways: 24, l2Instruction: 512, l2InstructionWays: 8,
                                 cost: cost(l1KiB: 32, l1Ways: 8, l1: 4, l2KiB: 1024, l2Ways: 8, l2: 14, llcMiB: 32, llcWays: 16, llc: 50))
    /// AMD Zen 5 (family 1Ah).
    public static let zen5 = amd(l1Data: 96, l2Data: 4096, l2Ways: 16, l2Instruction: 2048, l2InstructionWays: 8,
                                 cost: cost(l1KiB: 48, l1Ways: 12, l1: 4, l2KiB: 1024, l2Ways: 16, l2: 14, llcMiB: 32, llcWays: 16, llc: 50))
}
