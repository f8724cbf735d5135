import TOMLKit
import Translation

/// The TOML form of a `TLBConfiguration` (see docs/TLB.md):
///
///     [[level]]
///     name = "L1D"
///     entries = 64
///     ways = 4
///     replacement = "lru"   # lru | plru | fifo | random
///     page_sizes = ["4K"]
///
/// Levels are looked up in file order. A level may add `[[level.array]]`
/// tables (entries, ways, page_sizes) for per-page-size arrays. Optional
/// sections `[walk_cache]`, `[nested_tlb]` and `[cost]` set the rest.
/// Unknown keys are errors.
extension TLBConfiguration {
    /// Parses a configuration file's text.
    public init(toml text: String) throws(TLBConfigurationError) {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .syntax("\(error.description) at line \(error.source.begin.line), column \(error.source.begin.column)")
        } catch {
            throw .syntax("\(error)")
        }
        let reader = TableReader(root, section: "the top level")
        try reader.allow(["level", "walk_cache", "nested_tlb", "cost"])
        guard let levelArray = try reader.array("level") else { throw .invalid("a TLB configuration needs at least one [[level]]") }
        var levels: [TLBLevelConfiguration] = []
        for (index, item) in levelArray.enumerated() {
            guard let table = item.table else { throw .invalid("[[level]] number \(index + 1) is not a table") }
            levels.append(try Self.level(table, number: index + 1))
        }
        var walkCache = WalkCacheConfiguration.none
        if let table = try reader.table("walk_cache") { walkCache = try Self.walkCache(table) }
        var nestedTLB: NestedTLBConfiguration?
        if let table = try reader.table("nested_tlb") {
            let section = TableReader(table, section: "[nested_tlb]")
            try section.allow(["entries", "ways", "replacement", "seed", "hit_latency_cycles"])
            guard let entries = try section.int("entries") else { throw .invalid("[nested_tlb] needs entries") }
            nestedTLB = NestedTLBConfiguration(
                entries: entries, ways: try section.int("ways") ?? entries, replacement: try section.policy(),
                hitLatencyCycles: try section.double("hit_latency_cycles") ?? 1)
        }
        var cost = CostModel.default
        if let table = try reader.table("cost") { cost = try Self.cost(table, base: cost) }
        self.init(levels: levels, walkCache: walkCache, nestedTLB: nestedTLB, cost: cost)
        try validate()
    }

    static func level(_ table: TOMLTable, number: Int) throws(TLBConfigurationError) -> TLBLevelConfiguration {
        var reader = TableReader(table, section: "[[level]] number \(number)")
        let name = try reader.string("name") ?? "L\(number)"
        reader.section = "level '\(name)'"
        try reader.allow(["name", "kind", "entries", "ways", "replacement", "seed", "page_sizes", "hit_latency_cycles", "array"])
        var kind = TLBLevelKind.unified
        if let text = try reader.string("kind") {
            guard let parsed = TLBLevelKind(rawValue: text) else {
                throw .invalid("level '\(name)': unknown kind '\(text)'; known: data, instruction, unified")
            }
            kind = parsed
        }
        var arrays: [TLBArrayConfiguration] = []
        if let entries = try reader.int("entries") {
            guard let ways = try reader.int("ways") else { throw .invalid("level '\(name)' gives entries but not ways") }
            arrays.append(TLBArrayConfiguration(entries: entries, ways: ways, pageSizes: try reader.pageSizes() ?? [.size4K]))
        }
        if let list = try reader.array("array") {
            for (index, item) in list.enumerated() {
                guard let arrayTable = item.table else { throw .invalid("level '\(name)': array \(index + 1) is not a table") }
                let arrayReader = TableReader(arrayTable, section: "level '\(name)' array \(index + 1)")
                try arrayReader.allow(["entries", "ways", "page_sizes"])
                guard let entries = try arrayReader.int("entries"), let ways = try arrayReader.int("ways") else {
                    throw .invalid("level '\(name)' array \(index + 1) needs entries and ways")
                }
                arrays.append(TLBArrayConfiguration(entries: entries, ways: ways, pageSizes: try arrayReader.pageSizes() ?? [.size4K]))
            }
        }
        guard !arrays.isEmpty else { throw .invalid("level '\(name)' needs entries and ways (or [[level.array]] tables)") }
        let level = TLBLevelConfiguration(name: name, kind: kind, replacement: try reader.policy(), arrays: arrays,
                                          hitLatencyCycles: try reader.double("hit_latency_cycles") ?? 1)
        try level.validate()
        return level
    }

    static func walkCache(_ table: TOMLTable) throws(TLBConfigurationError) -> WalkCacheConfiguration {
        let reader = TableReader(table, section: "[walk_cache]")
        let splitKeys = ["pd_entries": 2, "pdpt_entries": 3, "pml4_entries": 4, "pml5_entries": 5]
        try reader.allow(["design", "entries", "ways", "replacement", "seed", "scope", "hit_latency_cycles"] + splitKeys.keys)
        let designName = try reader.string("design") ?? "pwc"
        guard let design = WalkCacheDesign(rawValue: designName) else {
            throw .invalid("[walk_cache]: unknown design '\(designName)'; known: none, pwc, translation")
        }
        var scope = WalkCacheScope.all
        if let text = try reader.string("scope") {
            guard let parsed = WalkCacheScope(rawValue: text) else {
                throw .invalid("[walk_cache]: unknown scope '\(text)'; known: guest (1D PWC), all (2D PWC)")
            }
            scope = parsed
        }
        var split: [Int: Int] = [:]
        for (key, level) in splitKeys { if let count = try reader.int(key) { split[level] = count } }
        let entries = try reader.int("entries") ?? 0
        return WalkCacheConfiguration(design: design, entries: entries, ways: try reader.int("ways") ?? entries,
                                      replacement: try reader.policy(), scope: scope, splitEntries: split,
                                      hitLatencyCycles: try reader.double("hit_latency_cycles") ?? 1)
    }

    static func cost(_ table: TOMLTable, base: CostModel) throws(TLBConfigurationError) -> CostModel {
        let reader = TableReader(table, section: "[cost]")
        try reader.allow(["line_bytes", "l1_bytes", "l1_ways", "l1_cycles", "l2_bytes", "l2_ways", "l2_cycles",
                          "llc_bytes", "llc_ways", "llc_cycles", "dram_cycles"])
        var cost = base
        func level(_ prefix: String, _ level: inout DataCacheLevel) throws(TLBConfigurationError) {
            if let value = try reader.int(prefix + "_bytes") { level.bytes = value }
            if let value = try reader.int(prefix + "_ways") { level.ways = value }
            if let value = try reader.double(prefix + "_cycles") { level.latencyCycles = value }
        }
        try level("l1", &cost.l1)
        try level("l2", &cost.l2)
        try level("llc", &cost.llc)
        if let value = try reader.double("dram_cycles") { cost.dramCycles = value }
        if let value = try reader.int("line_bytes") { cost.lineBytes = value }
        return cost
    }
}

/// Reads typed values from one TOML table, naming the section in errors.
struct TableReader {
    let table: TOMLTable
    var section: String

    init(_ table: TOMLTable, section: String) {
        self.table = table
        self.section = section
    }

    /// Rejects any key not in `known`.
    func allow(_ known: [String]) throws(TLBConfigurationError) {
        for key in table.keys where !known.contains(key) { throw .unknownKey(key: key, section: section) }
    }

    func int(_ key: String) throws(TLBConfigurationError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else { throw .invalid("\(section): \(key) must be an integer") }
        return number
    }

    func double(_ key: String) throws(TLBConfigurationError) -> Double? {
        guard let value = table[key] else { return nil }
        if let number = value.double { return number }
        if let number = value.int { return Double(number) }
        throw .invalid("\(section): \(key) must be a number")
    }

    func string(_ key: String) throws(TLBConfigurationError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw .invalid("\(section): \(key) must be a string") }
        return text
    }

    func array(_ key: String) throws(TLBConfigurationError) -> TOMLArray? {
        guard let value = table[key] else { return nil }
        guard let list = value.array else { throw .invalid("\(section): \(key) must be an array of tables") }
        return list
    }

    func table(_ key: String) throws(TLBConfigurationError) -> TOMLTable? {
        guard let value = table[key] else { return nil }
        guard let nested = value.table else { throw .invalid("\(section): \(key) must be a table") }
        return nested
    }

    func pageSizes() throws(TLBConfigurationError) -> [PageSize]? {
        guard let value = table["page_sizes"] else { return nil }
        guard let list = value.array else { throw .invalid("\(section): page_sizes must be an array such as [\"4K\", \"2M\"]") }
        var sizes: [PageSize] = []
        for item in list {
            guard let name = item.string, let size = PageSize(name: name) else {
                throw .invalid("\(section): unknown page size \(item.debugDescription); known: 4K, 2M, 1G")
            }
            sizes.append(size)
        }
        guard !sizes.isEmpty else { throw .invalid("\(section): page_sizes is empty") }
        return sizes
    }

    func policy() throws(TLBConfigurationError) -> ReplacementPolicy {
        let seed = UInt64(truncatingIfNeeded: try int("seed") ?? 1)
        guard let name = try string("replacement") else { return .lru }
        guard let policy = ReplacementPolicy(name: name, seed: seed) else {
            throw .invalid("\(section): unknown replacement '\(name)'; known: lru, plru, fifo, random")
        }
        return policy
    }
}
