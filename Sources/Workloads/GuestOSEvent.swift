import Translation

/// A process identifier in a guest-OS workload.
public typealias GuestProcessID = UInt32

/// One event of a guest operating system, as a shadow or nested MMU sees its
/// consequences: user accesses, changes to a process's address space, and
/// scheduling. `GuestKernel` turns each event into page-table stores, CR3
/// loads, INVLPGs and accesses on a `GuestMachine`.
@frozen public enum GuestOSEvent: Hashable, Sendable, CustomStringConvertible {
    /// A new process with an empty address space and its own root table.
    case spawn(GuestProcessID)
    /// A user access by the process. A missing page is demand-faulted and a
    /// write to a copy-on-write page is copied, then the access is retried.
    case access(GuestProcessID, address: UInt64, AccessType)
    /// A new mapping (a VMA) of `length` bytes with pages of `pageSize`.
    /// Nothing is installed until a fault.
    case mmap(GuestProcessID, start: UInt64, length: UInt64, writable: Bool, pageSize: PageSize)
    /// Unmaps a range: every installed PTE is cleared and the TLB flushed.
    case munmap(GuestProcessID, start: UInt64, length: UInt64)
    /// A page fault taken ahead of use (as `MAP_POPULATE` does): the kernel
    /// installs the PTE for `address` without an access.
    case fault(GuestProcessID, address: UInt64)
    /// Changes a range's protection and rewrites its installed PTEs.
    case mprotect(GuestProcessID, start: UInt64, length: UInt64, writable: Bool)
    /// Copies a process: the child gets its own tables, and every writable
    /// PTE of both becomes read-only, copy-on-write.
    case fork(parent: GuestProcessID, child: GuestProcessID)
    /// A context switch to the process: a CR3 load.
    case contextSwitch(GuestProcessID)
    /// The process ends; its pages and tables are freed.
    case exit(GuestProcessID)

    /// The process the event names first.
    public var process: GuestProcessID {
        switch self {
        case let .spawn(pid), let .access(pid, _, _), let .mmap(pid, _, _, _, _), let .munmap(pid, _, _),
             let .fault(pid, _), let .mprotect(pid, _, _, _), let .contextSwitch(pid), let .exit(pid):
            pid
        case let .fork(parent, _): parent
        }
    }

    /// The event as one line of the trace format (see `GuestOSTrace`).
    public var description: String {
        func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
        switch self {
        case let .spawn(pid): return "spawn \(pid)"
        case let .access(pid, address, type): return "access \(pid) \(hex(address)) \(type == .write ? "w" : type == .fetch ? "x" : "r")"
        case let .mmap(pid, start, length, writable, size):
            return "mmap \(pid) \(hex(start)) \(hex(length)) \(writable ? "rw" : "r") \(size.name)"
        case let .munmap(pid, start, length): return "munmap \(pid) \(hex(start)) \(hex(length))"
        case let .fault(pid, address): return "fault \(pid) \(hex(address))"
        case let .mprotect(pid, start, length, writable): return "mprotect \(pid) \(hex(start)) \(hex(length)) \(writable ? "rw" : "r")"
        case let .fork(parent, child): return "fork \(parent) \(child)"
        case let .contextSwitch(pid): return "switch \(pid)"
        case let .exit(pid): return "exit \(pid)"
        }
    }
}
