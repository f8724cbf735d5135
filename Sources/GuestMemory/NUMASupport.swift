import CNUMA
import Glibc

/// Whether this process may use the NUMA system calls, found by making one.
///
/// libnuma 2.0.16's `numa_available()` can report success where a seccomp
/// filter denies the calls, so the probe makes a real `get_mempolicy` call
/// and treats `EPERM` (or `ENOSYS`) as "no NUMA".
public struct NUMASupport: Hashable, Sendable {
    /// Whether `get_mempolicy`, `mbind`, `set_mempolicy` and `move_pages` may be used.
    public var syscallsAllowed: Bool
    /// Why they may not, if they may not.
    public var reason: String?
    /// What `numa_available()` said (0 is success), for comparison.
    public var libnumaAvailable: Int32
    /// Whether the kernel has `MPOL_WEIGHTED_INTERLEAVE` (Linux 6.9 and later,
    /// which also added `/sys/kernel/mm/mempolicy/weighted_interleave`).
    public var weightedInterleave: Bool

    public init(syscallsAllowed: Bool, reason: String? = nil, libnumaAvailable: Int32 = 0, weightedInterleave: Bool = false) {
        self.syscallsAllowed = syscallsAllowed
        self.reason = reason
        self.libnumaAvailable = libnumaAvailable
        self.weightedInterleave = weightedInterleave
    }

    /// Probes this process.
    public static func probe() -> NUMASupport {
        var mode: Int32 = 0
        var failure: SystemCallError?
        do {
            _ = try systemCall("get_mempolicy") { get_mempolicy(&mode, nil, 0, nil, 0) }
        } catch {
            failure = error
        }
        var support = NUMASupport(probeFailure: failure)
        support.libnumaAvailable = numa_available()
        support.weightedInterleave = access("/sys/kernel/mm/mempolicy/weighted_interleave", F_OK) == 0
        return support
    }

    /// The verdict from the probe call's outcome: nil is success; `EPERM`
    /// means a filter (seccomp, or a container's policy) denies the calls,
    /// `ENOSYS` a kernel built without NUMA.
    public init(probeFailure: SystemCallError?) {
        guard let failure = probeFailure else {
            self.init(syscallsAllowed: true)
            return
        }
        let why: String
        switch failure.errno {
        case EPERM: why = "denied by a seccomp or container filter; treating this host as having no NUMA"
        case ENOSYS: why = "the kernel was built without NUMA support"
        default: why = "the probe call failed"
        }
        self.init(syscallsAllowed: false, reason: "\(failure) — \(why)")
    }

    /// Throws `numaUnavailable` if the calls are not allowed.
    public func requireSyscalls() throws(GuestMemoryError) {
        guard syscallsAllowed else { throw .numaUnavailable(reason: reason ?? "unknown reason") }
    }
}
