/// A set of NUMA node numbers, kept sorted.
public struct NodeSet: Hashable, Sendable, Sequence, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The nodes in increasing order, each once.
    public private(set) var nodes: [Int]

    public init(_ nodes: some Sequence<Int>) { self.nodes = Array(Set(nodes)).sorted() }
    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// Parses a node list as numactl and sysfs write it: `0`, `0,2`, `0-3,6`.
    public init(parsing text: String) throws(NodeListError) {
        var nodes: [Int] = []
        let trimmed = text.trimmingWhitespace
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) where !trimmed.isEmpty {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                  let low = Int(bounds[0].trimmingWhitespace), low >= 0,
                  let high = Int(bounds[bounds.count - 1].trimmingWhitespace), high >= low
            else { throw NodeListError(text: text, part: String(part)) }
            nodes.append(contentsOf: low...high)
        }
        self.init(nodes)
    }

    /// The nodes of either set.
    public func union(_ other: NodeSet) -> NodeSet { NodeSet(nodes + other.nodes) }

    public var isEmpty: Bool { nodes.isEmpty }
    public var count: Int { nodes.count }
    public var first: Int? { nodes.first }
    public func contains(_ node: Int) -> Bool { nodes.contains(node) }
    public func makeIterator() -> IndexingIterator<[Int]> { nodes.makeIterator() }

    /// The list in the compact form `0-3,6`.
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < nodes.count {
            var end = index
            while end + 1 < nodes.count && nodes[end + 1] == nodes[end] + 1 { end += 1 }
            parts.append(end == index ? "\(nodes[index])" : "\(nodes[index])-\(nodes[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// The set as a bit mask of `words` machine words, node n at bit n, as
    /// `mbind` and `set_mempolicy` take it. Nodes beyond the mask are dropped.
    public func mask(words: Int) -> [UInt] {
        var mask = [UInt](repeating: 0, count: words)
        for node in nodes where node / UInt.bitWidth < words {
            mask[node / UInt.bitWidth] |= 1 << UInt(node % UInt.bitWidth)
        }
        return mask
    }
}

/// A node list that does not parse.
public struct NodeListError: Error, Equatable, Sendable, CustomStringConvertible {
    public var text: String
    public var part: String
    public var description: String {
        "'\(text)' is not a node list: '\(part)' is neither a node number nor a range like 0-3"
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
