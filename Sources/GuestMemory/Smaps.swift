/// One mapping's entry in `/proc/<pid>/smaps`: its range and its counters.
public struct SmapsEntry: Hashable, Sendable {
    /// The first address of the mapping.
    public var start: UInt
    /// The address just past it.
    public var end: UInt
    /// The counters in bytes, by field name (`Rss`, `AnonHugePages`,
    /// `KernelPageSize`, `Private_Hugetlb`, ...), converted from kB.
    public var fields: [String: Int]

    public init(start: UInt, end: UInt, fields: [String: Int]) {
        self.start = start
        self.end = end
        self.fields = fields
    }

    /// The counter `name` in bytes, or 0 if absent.
    public subscript(name: String) -> Int { fields[name] ?? 0 }

    /// Parses smaps text: a header line `start-end perms offset dev inode [path]`
    /// per mapping, then `Name: value kB` lines.
    public static func parse(_ text: String) -> [SmapsEntry] {
        var entries: [SmapsEntry] = []
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first else { continue }
            if first.hasSuffix(":") {
                guard !entries.isEmpty, words.count >= 2, let value = Int(words[1]) else { continue }
                let scale = words.count >= 3 && words[2] == "kB" ? 1024 : 1
                entries[entries.count - 1].fields[String(first.dropLast())] = value * scale
            } else {
                let bounds = first.split(separator: "-")
                guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16) else {
                    continue
                }
                entries.append(SmapsEntry(start: start, end: end, fields: [:]))
            }
        }
        return entries
    }

    /// The entries that overlap `[start, end)`.
    public static func overlapping(_ entries: [SmapsEntry], start: UInt, end: UInt) -> [SmapsEntry] {
        entries.filter { $0.start < end && start < $0.end }
    }
}
