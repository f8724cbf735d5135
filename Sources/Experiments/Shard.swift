/// One of `count` disjoint parts of a sweep, numbered from 1, written
/// `I/N` on the command line. A point belongs to the shard chosen by its
/// id's hash, so the split does not depend on the order of the spec.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    /// The whole sweep.
    public static let all = Shard(uncheckedIndex: 1, count: 1)

    private init(uncheckedIndex: Int, count: Int) {
        self.index = uncheckedIndex
        self.count = count
    }

    /// Parses `I/N` with 1 ≤ I ≤ N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1,
              (1...count).contains(index)
        else { return nil }
        self.init(uncheckedIndex: index, count: count)
    }

    /// Whether the point with `id` (16 hex digits) is in this shard.
    public func contains(pointID id: String) -> Bool {
        guard count > 1 else { return true }
        return Int((UInt64(id, radix: 16) ?? 0) % UInt64(count)) == index - 1
    }

    /// The CSV name of this shard of sweep `name`.
    public func fileName(for name: String) -> String {
        count == 1 ? "\(name).csv" : "\(name).shard-\(index)-of-\(count).csv"
    }

    public var description: String { "\(index)/\(count)" }
}
