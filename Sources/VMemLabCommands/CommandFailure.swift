/// A command's failure with a message for the user: the command prints
/// `Error: <message>` and exits with status 1, without the usage text that
/// argument errors get.
public struct CommandFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}
