import Foundation
import GuestMemory
import TOMLKit
import Translation

/// An experiment spec: a sweep over strategies, workloads, sizes, page
/// sizes, backings, paging depths and NUMA placements, with repetitions,
/// in model mode, measure mode or both. It is read from TOML; the format is
/// in docs/EXPERIMENTS.md and annotated examples are in experiments/.
public struct ExperimentSpec: Sendable, Equatable {
    /// The sweep's name; its CSV is `<name>.csv`.
    public var name: String
    public var description: String
    public var modes: [ExperimentMode]
    public var seed: UInt64
    public var repetitions: Int
    public var strategies: [String]
    public var workloads: [String]
    /// Working-set sizes in bytes; nil when the spec gives none.
    public var workingSets: [UInt64]?
    public var guestPages: [PageSize]
    public var backings: [Backing]
    public var guestLevels: [Int]
    public var hostLevels: [Int]
    public var placements: [MemoryPlacement]
    public var options: SweepOptions

    /// The top-level keys a spec may have.
    public static let topLevelKeys = ["name", "description", "mode", "seed", "repetitions", "sweep", "options"]
    /// The keys of the `[sweep]` table.
    public static let sweepKeys = [
        "strategies", "workloads", "sizes", "guest_pages", "backings", "guest_levels", "host_levels", "placements",
    ]

    /// Parses and checks a spec. `kinds` are the point kinds that may run
    /// it; every value must be one some kind accepts.
    public init(toml text: String, kinds: [any PointKind] = PointKinds.all) throws {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw SpecError(key: "(file)", "invalid TOML at line \(error.source.begin.line), column "
                + "\(error.source.begin.column): \(error.description)")
        }
        try Self.rejectUnknownKeys(in: root, allowed: Self.topLevelKeys, prefix: "")

        name = try Self.string(root, "name")
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }),
              !name.hasPrefix(".")
        else { throw SpecError(key: "name", "'\(name)' must be letters, digits, '-', '_' or '.' (it names the CSV file)") }
        description = try root.contains(key: "description") ? Self.string(root, "description") : ""

        let mode = try root.contains(key: "mode") ? Self.string(root, "mode") : "model"
        switch mode {
        case "model": modes = [.model]
        case "measure": modes = [.measure]
        case "both": modes = [.model, .measure]
        default: throw SpecError(key: "mode", "'\(mode)' is not a mode (model, measure, both)")
        }
        seed = try root.contains(key: "seed") ? UInt64(Self.integer(root, "seed", minimum: 0)) : 42
        repetitions = try root.contains(key: "repetitions") ? Self.integer(root, "repetitions", minimum: 1) : 1

        guard let sweepValue = root["sweep"] else { throw SpecError(key: "sweep", "the spec needs a [sweep] table") }
        guard let sweep = sweepValue.table else { throw SpecError(key: "sweep", "must be a table, [sweep]") }
        try Self.rejectUnknownKeys(in: sweep, allowed: Self.sweepKeys, prefix: "sweep.")

        let knownStrategies = Self.union(kinds.map(\.strategies))
        strategies = try Self.list(sweep, "strategies", expected: "one of " + knownStrategies.joined(separator: ", ")) {
            knownStrategies.contains($0) ? $0 : nil
        } ?? []
        let knownWorkloads = Self.union(kinds.map(\.workloads))
        workloads = try Self.list(sweep, "workloads", expected: "one of " + knownWorkloads.joined(separator: ", ")) {
            knownWorkloads.contains($0) ? $0 : nil
        } ?? []
        workingSets = try Self.list(sweep, "sizes", required: false, expected: "a size such as 4096, 64M or 1G") {
            ByteCount.positive(parsing: $0)
        }
        guestPages = try Self.list(sweep, "guest_pages", required: false, expected: "4K, 2M or 1G") {
            PageSize(name: $0)
        } ?? [.size4K]
        backings = try Self.list(sweep, "backings", required: false, expected: "4K, THP, 2M or 1G") {
            Backing(name: $0)
        } ?? [.anonymous4K]
        guestLevels = try Self.list(sweep, "guest_levels", required: false, expected: "4 or 5") {
            Int($0).flatMap { $0 == 4 || $0 == 5 ? $0 : nil }
        } ?? [4]
        hostLevels = try Self.list(sweep, "host_levels", required: false, expected: "4 or 5") {
            Int($0).flatMap { $0 == 4 || $0 == 5 ? $0 : nil }
        } ?? [4]
        placements = try Self.list(sweep, "placements", required: false,
                                   expected: MemoryPlacement.allCases.map(\.rawValue).joined(separator: ", ")) {
            MemoryPlacement(rawValue: $0)
        } ?? [.local]

        var options: [String: String] = [:]
        for kind in kinds { options.merge(kind.optionDefaults) { first, _ in first } }
        if let value = root["options"] {
            guard let table = value.table else { throw SpecError(key: "options", "must be a table, [options]") }
            try Self.rejectUnknownKeys(in: table, allowed: options.keys.sorted(), prefix: "options.")
            for key in table.keys {
                guard let value = table[key], let text = value.string ?? value.int.map({ String($0) }) else {
                    throw SpecError(key: "options.\(key)", "must be a string or an integer")
                }
                options[key] = text
            }
        }
        self.options = SweepOptions(options)
    }

    /// A canonical text of every setting; its hash is the spec hash, so
    /// comments and formatting do not change it.
    public var canonicalText: String {
        [
            "name=\(name)", "modes=\(modes.map(\.rawValue).joined(separator: ","))", "seed=\(seed)",
            "repetitions=\(repetitions)", "strategies=\(strategies.joined(separator: ","))",
            "workloads=\(workloads.joined(separator: ","))",
            "sizes=\(workingSets.map { $0.map { String($0) }.joined(separator: ",") } ?? "-")",
            "guest_pages=\(guestPages.map(\.name).joined(separator: ","))",
            "backings=\(backings.map(\.rawValue).joined(separator: ","))",
            "guest_levels=\(guestLevels.map { String($0) }.joined(separator: ","))",
            "host_levels=\(hostLevels.map { String($0) }.joined(separator: ","))",
            "placements=\(placements.map(\.rawValue).joined(separator: ","))",
            "options=\(options.values.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))",
        ].joined(separator: "\n")
    }

    /// The spec hash written on every row.
    public var hash: String { StableHash.hex(of: [canonicalText]) }

    // MARK: Reading values

    private static func rejectUnknownKeys(in table: TOMLTable, allowed: [String], prefix: String) throws {
        for key in table.keys where !allowed.contains(key) {
            let known = allowed.isEmpty ? "none are accepted here" : "known keys: " + allowed.joined(separator: ", ")
            throw SpecError(key: prefix + key, "unknown key; \(known)")
        }
    }

    private static func string(_ table: TOMLTable, _ key: String) throws -> String {
        guard let value = table[key] else { throw SpecError(key: key, "missing; the spec needs it") }
        guard let text = value.string else { throw SpecError(key: key, "must be a string") }
        return text
    }

    private static func integer(_ table: TOMLTable, _ key: String, minimum: Int) throws -> Int {
        guard let number = table[key]?.int else { throw SpecError(key: key, "must be an integer") }
        guard number >= minimum else { throw SpecError(key: key, "must be at least \(minimum), not \(number)") }
        return number
    }

    /// The values (or single value) under `sweep.key`, each parsed by
    /// `parse`; nil when the key is absent and not required.
    private static func list<T>(_ table: TOMLTable, _ key: String, required: Bool = true, expected: String,
                                parse: (String) -> T?) throws -> [T]? {
        let full = "sweep." + key
        guard let value = table[key] else {
            if required { throw SpecError(key: full, "missing; the sweep needs at least one value") }
            return nil
        }
        let items: [TOMLValueConvertible]
        if let array = value.array { items = Array(array) } else { items = [value] }
        guard !items.isEmpty else { throw SpecError(key: full, "is empty, so the sweep has no points") }
        var values: [T] = []
        var seen: [String] = []
        for item in items {
            guard let text = item.string ?? item.int.map({ String($0) }) else {
                throw SpecError(key: full, "must hold strings or integers, not \(item.debugDescription)")
            }
            guard !seen.contains(text) else { throw SpecError(key: full, "lists '\(text)' twice") }
            seen.append(text)
            guard let parsed = parse(text) else { throw SpecError(key: full, "'\(text)' is not valid; expected \(expected)") }
            values.append(parsed)
        }
        return values
    }

    private static func union(_ lists: [[String]]) -> [String] {
        var seen: [String] = []
        for list in lists { for item in list where !seen.contains(item) { seen.append(item) } }
        return seen
    }
}
