import CCPUID
import Translation

/// The TLB geometry of the CPU this runs on, from CPUID: AMD leaves
/// 80000005h (L1 TLBs for 4K and 2M pages), 80000006h (L2 TLBs),
/// 80000019h (1G TLBs), and Intel leaf 18h (deterministic address
/// translation parameters). Data-cache sizes come from 80000005h/80000006h
/// on AMD and leaf 4 on Intel; latencies are the uncalibrated defaults.
public enum HostTLBPreset {
    /// One CPUID result.
    struct Registers {
        var eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32
    }

    static func cpuid(_ leaf: UInt32, _ subleaf: UInt32 = 0) -> Registers? {
        var registers = Registers(eax: 0, ebx: 0, ecx: 0, edx: 0)
        guard vmemlab_cpuid(leaf, subleaf, &registers.eax, &registers.ebx, &registers.ecx, &registers.edx) == 0 else {
            return nil
        }
        return registers
    }

    /// Reads the host's configuration, or explains why it cannot.
    public static func read() throws(TLBConfigurationError) -> TLBConfiguration {
        guard let vendor = cpuid(0) else { throw .invalid("the host preset needs an x86 CPU with CPUID") }
        let maximum = cpuid(0x8000_0000)?.eax ?? 0
        let isAMD = vendor.ebx == 0x6874_7541 && vendor.edx == 0x6974_6E65 && vendor.ecx == 0x444D_4163  // "AuthenticAMD"
        if isAMD || (maximum >= 0x8000_0006 && vendor.eax < 0x18) {
            return try amd(maximum: maximum)
        }
        return try intel(maximumLeaf: vendor.eax)
    }

    /// Decodes the 4-bit associativity of leaves 80000006h and 80000019h;
    /// nil for "disabled" and "see leaf 8000001Dh".
    static func ways(l2Code code: UInt32, entries: Int) -> Int? {
        switch code {
        case 0, 9: nil
        case 1: 1
        case 2: 2
        case 3: 3
        case 4: 4
        case 5: 6
        case 6: 8
        case 8: 16
        case 0xA: 32
        case 0xB: 48
        case 0xC: 64
        case 0xD: 96
        case 0xE: 128
        default: entries
        }
    }

    /// An array of `entries` with `ways` (adjusted down to a divisor).
    static func array(entries: Int, ways: Int, sizes: [PageSize]) -> TLBArrayConfiguration {
        var ways = min(max(ways, 1), entries)
        while entries % ways != 0 { ways -= 1 }
        return TLBArrayConfiguration(entries: entries, ways: ways, pageSizes: sizes)
    }

    /// Arrays for per-size counts: sizes with the same entries and ways
    /// share one array (AMD's L1 TLBs are one fully associative array that
    /// reports the same count for every size).
    static func arrays(_ counts: [(PageSize, Int, Int)]) -> [TLBArrayConfiguration] {
        var groups: [(entries: Int, ways: Int, sizes: [PageSize])] = []
        for (size, entries, ways) in counts where entries > 0 {
            if let index = groups.firstIndex(where: { $0.entries == entries && $0.ways == ways }) {
                groups[index].sizes.append(size)
            } else {
                groups.append((entries, ways, [size]))
            }
        }
        return groups.map { array(entries: $0.entries, ways: $0.ways, sizes: $0.sizes) }
    }

    static func amd(maximum: UInt32) throws(TLBConfigurationError) -> TLBConfiguration {
        guard maximum >= 0x8000_0006, let l1 = cpuid(0x8000_0005), let l2 = cpuid(0x8000_0006) else {
            throw .invalid("the host CPU does not report its TLBs in CPUID leaves 80000005h and 80000006h")
        }
        let gigantic = maximum >= 0x8000_0019 ? cpuid(0x8000_0019) : nil
        func l1Field(_ value: UInt32, data: Bool) -> (Int, Int) {
            let entries = Int(data ? (value >> 16) & 0xFF : value & 0xFF)
            let code = Int(data ? value >> 24 : (value >> 8) & 0xFF)
            return (entries, code == 0xFF ? entries : code)
        }
        func l2Field(_ value: UInt32, data: Bool) -> (Int, Int) {
            let entries = Int(data ? (value >> 16) & 0xFFF : value & 0xFFF)
            let code = data ? value >> 28 : (value >> 12) & 0xF
            return (entries, ways(l2Code: code, entries: entries) ?? 0)
        }
        var levels: [TLBLevelConfiguration] = []
        for (name, kind, data) in [("L1I", TLBLevelKind.instruction, false), ("L1D", .data, true)] {
            let small = l1Field(l1.ebx, data: data), large = l1Field(l1.eax, data: data)
            let huge = gigantic.map { l2Field($0.eax, data: data) } ?? (0, 0)
            let arrays = arrays([(.size4K, small.0, small.1), (.size2M, large.0, large.1), (.size1G, huge.0, huge.1)])
            if !arrays.isEmpty { levels.append(TLBLevelConfiguration(name: name, kind: kind, arrays: arrays, hitLatencyCycles: 1)) }
        }
        for (name, kind, data) in [("L2I", TLBLevelKind.instruction, false), ("L2D", .data, true)] {
            let small = l2Field(l2.ebx, data: data), large = l2Field(l2.eax, data: data)
            let huge = gigantic.map { l2Field($0.ebx, data: data) } ?? (0, 0)
            let arrays = arrays([(.size4K, small.0, small.1), (.size2M, large.0, large.1), (.size1G, huge.0, huge.1)]
                .filter { $0.2 > 0 })
            if !arrays.isEmpty { levels.append(TLBLevelConfiguration(name: name, kind: kind, arrays: arrays, hitLatencyCycles: 7)) }
        }
        guard levels.contains(where: { $0.kind != .instruction }) else {
            throw .invalid("the host CPU reports no data TLB in CPUID leaves 80000005h and 80000006h")
        }
        var cost = CostModel.default
        let l1Bytes = Int(l1.ecx >> 24) << 10, l1Ways = Int((l1.ecx >> 16) & 0xFF)
        if l1Bytes > 0 && l1Ways > 0 && l1Ways != 0xFF { cost.l1.bytes = l1Bytes; cost.l1.ways = l1Ways }
        let l2Bytes = Int(l2.ecx >> 16) << 10
        if l2Bytes > 0, let ways = ways(l2Code: (l2.ecx >> 12) & 0xF, entries: l2Bytes / 64) {
            cost.l2.bytes = l2Bytes
            cost.l2.ways = ways
        }
        let llcBytes = Int(l2.edx >> 18) * (512 << 10)
        if llcBytes > 0, let ways = ways(l2Code: (l2.edx >> 12) & 0xF, entries: llcBytes / 64) {
            cost.llc.bytes = llcBytes
            cost.llc.ways = ways
        }
        let configuration = TLBConfiguration(levels: levels, walkCache: WalkCacheConfiguration(design: .pwc, entries: 64, ways: 64),
                                             cost: sanitized(cost))
        try configuration.validate()
        return configuration
    }

    static func intel(maximumLeaf: UInt32) throws(TLBConfigurationError) -> TLBConfiguration {
        guard maximumLeaf >= 0x18, let first = cpuid(0x18, 0) else {
            throw .invalid("the host CPU does not report its TLBs in CPUID leaf 18h; use a named preset")
        }
        var levels: [(level: Int, kind: TLBLevelKind, arrays: [TLBArrayConfiguration])] = []
        for subleaf in 0...first.eax {
            guard let leaf = cpuid(0x18, subleaf) else { continue }
            let type = leaf.edx & 0x1F
            guard type != 0 else { continue }
            let kind: TLBLevelKind = type == 2 ? .instruction : type == 3 ? .unified : .data
            let level = Int((leaf.edx >> 5) & 7)
            let sets = Int(leaf.ecx)
            let ways = leaf.edx & (1 << 8) != 0 ? 0 : Int(leaf.ebx >> 16)
            var sizes: [PageSize] = []
            if leaf.ebx & 1 != 0 { sizes.append(.size4K) }
            if leaf.ebx & 6 != 0 { sizes.append(.size2M) }
            if leaf.ebx & 8 != 0 { sizes.append(.size1G) }
            guard !sizes.isEmpty, sets > 0 || ways == 0 else { continue }
            let entries = ways == 0 ? max(sets, 1) : ways * sets
            let array = array(entries: entries, ways: ways == 0 ? entries : ways, sizes: sizes)
            if let index = levels.firstIndex(where: { $0.level == level && $0.kind == kind }) {
                if !levels[index].arrays.contains(where: { !Set($0.pageSizes).isDisjoint(with: sizes) }) {
                    levels[index].arrays.append(array)
                }
            } else {
                levels.append((level, kind, [array]))
            }
        }
        guard !levels.isEmpty else { throw .invalid("CPUID leaf 18h lists no TLB") }
        levels.sort { ($0.level, $0.kind == .instruction ? 0 : 1) < ($1.level, $1.kind == .instruction ? 0 : 1) }
        let configured = levels.map { item in
            TLBLevelConfiguration(name: "L\(item.level)" + (item.kind == .instruction ? "I" : item.kind == .data ? "D" : ""),
                                  kind: item.kind, arrays: item.arrays, hitLatencyCycles: item.level == 1 ? 1 : 7)
        }
        var cost = CostModel.default
        for subleaf in UInt32(0)..<8 {
            guard let leaf = cpuid(4, subleaf), leaf.eax & 0x1F != 0 else { break }
            guard leaf.eax & 0x1F != 2 else { continue }
            let ways = Int(leaf.ebx >> 22) + 1, partitions = Int((leaf.ebx >> 12) & 0x3FF) + 1
            let line = Int(leaf.ebx & 0xFFF) + 1, sets = Int(leaf.ecx) + 1
            let bytes = ways * partitions * line * sets
            switch (leaf.eax >> 5) & 7 {
            case 1: cost.l1.bytes = bytes; cost.l1.ways = ways
            case 2: cost.l2.bytes = bytes; cost.l2.ways = ways
            case 3: cost.llc.bytes = bytes; cost.llc.ways = ways
            default: break
            }
        }
        let configuration = TLBConfiguration(levels: configured,
                                             walkCache: WalkCacheConfiguration(design: .translation, splitEntries: [4: 2, 3: 4, 2: 32]),
                                             cost: sanitized(cost))
        try configuration.validate()
        return configuration
    }

    /// Falls back to the defaults for any cache level whose reported
    /// geometry is not a whole number of sets.
    static func sanitized(_ cost: CostModel) -> CostModel {
        var result = cost
        let defaults = CostModel.default
        func fix(_ level: inout DataCacheLevel, _ fallback: DataCacheLevel) {
            let lines = level.bytes / cost.lineBytes
            if level.ways <= 0 || lines < level.ways || lines % level.ways != 0 { level = fallback }
        }
        fix(&result.l1, defaults.l1)
        fix(&result.l2, defaults.l2)
        fix(&result.llc, defaults.llc)
        return result
    }
}
