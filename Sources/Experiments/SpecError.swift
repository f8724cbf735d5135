/// Why an experiment spec was rejected. Every case names the spec key at fault.
public struct SpecError: Error, Equatable, CustomStringConvertible {
    /// The key, dotted for nested tables: `sweep.guest_pages`.
    public var key: String
    public var message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "spec error at '\(key)': \(message)" }
}
