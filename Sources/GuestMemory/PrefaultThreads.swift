import CNUMA
import Glibc

/// Faults a range in by writing one byte per page from several threads at
/// once, each bound to one node of a set, so that first-touch and
/// node-local allocation happen where the guest will run.
enum PrefaultThreads {
    /// One thread's share of the range.
    private final class Job: @unchecked Sendable {
        let start: UnsafeMutableRawPointer
        let length: Int
        let stride: Int
        let node: Int?
        var failure: SystemCallError?

        init(start: UnsafeMutableRawPointer, length: Int, stride: Int, node: Int?) {
            self.start = start
            self.length = length
            self.stride = stride
            self.node = node
        }

        func run() {
            if let node {
                do { _ = try systemCall("numa_run_on_node(\(node))") { numa_run_on_node(Int32(node)) } } catch {
                    failure = error
                    return
                }
            }
            var offset = 0
            while offset < length {
                (start + offset).storeBytes(of: 0, as: UInt8.self)
                offset &+= stride
            }
        }
    }

    /// Writes a zero at the start of every `stride`-byte page of
    /// `[base, base + length)` with `threads` threads; thread i is bound to
    /// `nodes[i % nodes.count]`, or unbound if `nodes` is empty.
    /// The corresponding C functions are `pthread_create` and `numa_run_on_node`.
    static func touch(_ base: UnsafeMutableRawPointer, length: Int, stride: Int, threads: Int,
                      nodes: NodeSet) throws(SystemCallError) {
        let pages = length / stride
        let count = max(1, min(threads, pages))
        var jobs: [Job] = []
        var first = 0
        for index in 0..<count {
            let share = pages / count + (index < pages % count ? 1 : 0)
            let node = nodes.isEmpty ? nil : nodes.nodes[index % nodes.count]
            jobs.append(Job(start: base + first * stride, length: share * stride, stride: stride, node: node))
            first += share
        }
        var started: [pthread_t] = []
        var startFailure: SystemCallError?
        for job in jobs {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(job).toOpaque()
            let result = pthread_create(&thread, nil, { context in
                guard let context else { return nil }
                let job = Unmanaged<Job>.fromOpaque(context).takeRetainedValue()
                job.run()
                return nil
            }, context)
            if result != 0 {
                Unmanaged<Job>.fromOpaque(context).release()
                startFailure = SystemCallError(call: "pthread_create", errno: result)
                break
            }
            started.append(thread)
        }
        for thread in started { pthread_join(thread, nil) }
        if let startFailure { throw startFailure }
        if let failure = jobs.lazy.compactMap(\.failure).first { throw failure }
    }
}
