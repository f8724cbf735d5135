import ArgumentParser
import GuestMemory

extension GuestMemory.ByteCount: ExpressibleByArgument {
    /// Parses `4096`, `64K`, `64M`, `2G` or `1T`.
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

extension MemoryBacking: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

extension MemoryPolicy.Kind: ExpressibleByArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension NodeSet: ExpressibleByArgument {
    public init?(argument: String) {
        guard let nodes = try? NodeSet(parsing: argument), !nodes.isEmpty else { return nil }
        self = nodes
    }
}
