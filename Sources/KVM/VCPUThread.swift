import CKVM
import Foundation
import Glibc

/// A dedicated POSIX thread that owns one vCPU and runs every operation on
/// it, outside Swift concurrency. `perform` hands it a job and waits; with a
/// time limit, a job that has not finished by then is stopped: the vCPU's
/// `immediate_exit` is set and the thread is signalled until `KVM_RUN`
/// returns, and `perform` throws `KVMError.watchdogTimeout`.
public final class VCPUThread: @unchecked Sendable {
    /// The signal that kicks the vCPU thread out of `KVM_RUN`; a handler that
    /// does nothing is installed for it once.
    public static let kickSignal = SIGUSR2

    private static let kickHandlerInstalled: Bool = ckvm_install_kick_handler(VCPUThread.kickSignal) == 0

    /// The vCPU this thread runs.
    public let vcpu: VirtualCPU
    private let state: State
    private var thread: pthread_t

    /// What the two threads share, under `condition`'s lock.
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var job: (() -> Void)?
        var jobDone = false
        var shuttingDown = false
    }

    /// Starts the thread. The corresponding C function is `pthread_create`.
    public init(vcpu: VirtualCPU) throws(KVMError) {
        guard Self.kickHandlerInstalled else { throw .systemCall("sigaction for the vCPU kick signal", .current) }
        self.vcpu = vcpu
        let state = State()
        self.state = state
        let box = Unmanaged.passRetained(state)
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { argument in
            let state = Unmanaged<State>.fromOpaque(argument!).takeRetainedValue()
            VCPUThread.serve(state)
            return nil
        }, box.toOpaque())
        guard status == 0 else {
            box.release()
            throw .systemCall("pthread_create", Errno(rawValue: status))
        }
        self.thread = thread
    }

    deinit {
        state.condition.lock()
        state.shuttingDown = true
        state.condition.broadcast()
        state.condition.unlock()
        pthread_join(thread, nil)
    }

    private static func serve(_ state: State) {
        _ = ckvm_unblock_signal(kickSignal)
        state.condition.lock()
        while true {
            while state.job == nil && !state.shuttingDown { state.condition.wait() }
            if let job = state.job {
                state.job = nil
                state.condition.unlock()
                job()
                state.condition.lock()
                state.jobDone = true
                state.condition.broadcast()
                continue
            }
            if state.shuttingDown { break }
        }
        state.condition.unlock()
    }

    /// Runs `body` with the vCPU on the vCPU thread and returns its result.
    /// With `timeLimit` (seconds), a body still running then is stopped as
    /// described above, and this throws `KVMError.watchdogTimeout`.
    public func perform<Result: Sendable>(
        timeLimit: Double? = nil, _ body: @escaping @Sendable (VirtualCPU) throws(KVMError) -> Result
    ) throws(KVMError) -> Result {
        nonisolated(unsafe) var outcome: Swift.Result<Result, KVMError>?
        let vcpu = self.vcpu
        state.condition.lock()
        state.jobDone = false
        state.job = {
            do throws(KVMError) { outcome = .success(try body(vcpu)) } catch { outcome = .failure(error) }
        }
        state.condition.broadcast()
        var timedOut = false
        let deadline = timeLimit.map { Date(timeIntervalSinceNow: $0) }
        while !state.jobDone {
            if let deadline, !timedOut {
                if !state.condition.wait(until: deadline) && !state.jobDone {
                    timedOut = true
                    vcpu.requestImmediateExit()
                }
            } else if timedOut {
                // Kick until the job notices: the signal makes KVM_RUN return EINTR.
                _ = ckvm_pthread_kick(thread, Self.kickSignal)
                _ = state.condition.wait(until: Date(timeIntervalSinceNow: 0.01))
            } else {
                state.condition.wait()
            }
        }
        state.condition.unlock()
        if timedOut {
            vcpu.requestImmediateExit(false)
            throw .watchdogTimeout(seconds: timeLimit ?? 0)
        }
        switch outcome {
        case let .success(value)?: return value
        case let .failure(error)?: throw error
        case nil: throw .invalidArgument("the vCPU job ended without a result")
        }
    }
}
