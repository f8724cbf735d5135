import Glibc

/// A failed system call: which call, and the errno it set. The message
/// names both, as in `mbind: EPERM (Operation not permitted)`.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call that failed, such as `mmap` or `move_pages`.
    public var call: String
    /// The errno value the call left.
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// The symbolic name of the errno value, such as `ENOMEM`.
    public var errnoName: String { SystemCallError.name(ofErrno: errno) }

    public var description: String {
        "\(call): \(errnoName) (\(String(cString: strerror(errno))))"
    }

    /// The symbolic name of `code`, or `errno N` for one this table lacks.
    public static func name(ofErrno code: Int32) -> String {
        switch code {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case ESRCH: "ESRCH"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case E2BIG: "E2BIG"
        case EBADF: "EBADF"
        case EAGAIN: "EAGAIN"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EFAULT: "EFAULT"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case EXDEV: "EXDEV"
        case ENODEV: "ENODEV"
        case EINVAL: "EINVAL"
        case ENFILE: "ENFILE"
        case EMFILE: "EMFILE"
        case EFBIG: "EFBIG"
        case ENOSPC: "ENOSPC"
        case ERANGE: "ERANGE"
        case ENOSYS: "ENOSYS"
        case EOVERFLOW: "EOVERFLOW"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case EHWPOISON: "EHWPOISON"
        default: "errno \(code)"
        }
    }
}

/// Runs `body`, a system call that returns -1 and sets errno on failure,
/// retrying on `EINTR`. Every GuestMemory system call goes through here or
/// through `mapMemory`, so errno is read right after the call, before
/// anything else can overwrite it.
@inline(never)
func systemCall<Result: FixedWidthInteger>(
    _ call: String, _ body: () -> Result
) throws(SystemCallError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code != EINTR { throw SystemCallError(call: call, errno: code) }
    }
}

/// Maps memory, turning `MAP_FAILED` into a thrown error.
/// The corresponding C function is `mmap`.
@inline(never)
func mapMemory(
    length: Int, protection: Int32, flags: Int32, descriptor: Int32 = -1, offset: Int = 0
) throws(SystemCallError) -> UnsafeMutableRawPointer {
    let pointer = mmap(nil, length, protection, flags, descriptor, off_t(offset))
    guard let pointer, pointer != MAP_FAILED else { throw SystemCallError(call: "mmap", errno: Glibc.errno) }
    return pointer
}
