import CGuestMemoryTestSupport
import Foundation
import Glibc
import Testing
@testable import GuestMemory

/// The NUMA calls denied for real, by a seccomp filter on a thread made for
/// the purpose (the filter cannot be lifted, so it never touches a thread
/// the test runner reuses).
@Suite(.serialized)
struct SeccompDenialTests {
    /// Whether the kernel has seccomp (its status line appears in /proc).
    static var seccompAvailable: Bool { (try? SystemFiles.read("/proc/self/status"))?.contains("Seccomp_filters:") ?? false }

    /// What the denied thread saw.
    final class Observations: @unchecked Sendable {
        var filterInstalled: Int32 = -1
        var filterErrno: Int32 = 0
        var support: NUMASupport?
        var bindError: GuestMemoryError?
        var localRegionWorked = false
        var verifyError: GuestMemoryError?
    }

    /// Runs `body` on a new thread with the NUMA calls denied, and waits.
    static func withDeniedNUMA(_ body: @escaping @Sendable (Observations) -> Void) -> Observations {
        let observations = Observations()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            observations.filterInstalled = vmemlab_test_deny_numa_syscalls_on_this_thread()
            observations.filterErrno = errno
            if observations.filterInstalled == 0 { body(observations) }
            done.signal()
        }
        thread.start()
        done.wait()
        return observations
    }

    @Test("under a seccomp denial the probe reports no NUMA; policies fail, local regions work, verification names EPERM",
          .enabled(if: seccompAvailable, "needs a kernel with seccomp filters"))
    func realDenial() throws {
        let seen = Self.withDeniedNUMA { observations in
            let support = NUMASupport.probe()
            observations.support = support
            var host = HostMemoryEnvironment.probe()
            host.numa = support
            do throws(GuestMemoryError) {
                _ = try GuestMemoryRegion(.init(size: 1 << 20, policy: .bind([0])), host: host)
            } catch {
                observations.bindError = error
            }
            do throws(GuestMemoryError) {
                let region = try GuestMemoryRegion(.init(size: 1 << 20, prefault: .touch(threads: 1)), host: host)
                observations.localRegionWorked = region.size == 1 << 20
                _ = try region.verifyPlacement()
            } catch {
                observations.verifyError = error
            }
        }
        guard seen.filterInstalled == 0 else {
            Issue.record("prctl(PR_SET_SECCOMP) failed: \(SystemCallError(call: "prctl", errno: seen.filterErrno))")
            return
        }
        let support = try #require(seen.support)
        #expect(!support.syscallsAllowed)
        #expect(support.reason?.contains("get_mempolicy: EPERM") == true)
        guard case let .numaUnavailable(reason) = seen.bindError else {
            Issue.record("expected numaUnavailable, got \(String(describing: seen.bindError))")
            return
        }
        #expect(reason.contains("EPERM"))
        #expect(seen.localRegionWorked)
        #expect(seen.verifyError == GuestMemoryError.system(SystemCallError(call: "move_pages", errno: EPERM)))
        // This thread was never filtered.
        #expect(NUMASupport.probe().syscallsAllowed)
    }
}
