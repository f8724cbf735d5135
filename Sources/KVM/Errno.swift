import Glibc

/// An error number from a failed system call, with a readable description.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    /// The raw `errno` value.
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    @inline(never)
    public static var current: Errno { Errno(rawValue: errno) }

    /// `EINTR`: a signal interrupted the call.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `ENOENT`: no such file or directory.
    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    /// `EEXIST`: the object (for example an overlapping memslot) exists.
    public static let exists = Errno(rawValue: EEXIST)
    /// `E2BIG`: the buffer is too small.
    public static let argumentListTooLong = Errno(rawValue: E2BIG)
    /// `ENOMEM`: out of memory (also: no free huge pages).
    public static let noMemory = Errno(rawValue: ENOMEM)
    /// `EINVAL`: an invalid argument.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// `EACCES`: permission denied.
    public static let permissionDenied = Errno(rawValue: EACCES)

    /// The C library's message and the number, such as
    /// `No such file or directory (errno 2)`.
    public var description: String {
        String(cString: strerror(rawValue)) + " (errno \(rawValue))"
    }
}
