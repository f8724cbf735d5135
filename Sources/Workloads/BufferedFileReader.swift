import Foundation

/// Reads a file front to back through one fixed buffer, so a trace of any
/// size is read in constant memory. `refill` is the only slow path.
@usableFromInline final class BufferedFileReader {
    @usableFromInline let handle: FileHandle
    @usableFromInline let path: String
    /// The buffer and the valid bytes in it.
    @usableFromInline let buffer: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline var count = 0
    @usableFromInline var atEnd = false

    /// Opens `path`; `capacity` is the buffer size in bytes.
    init(path: String, capacity: Int = 1 << 22) throws(TraceError) {
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: Self.reason(error))
        }
        self.path = path
        self.capacity = capacity
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        try? handle.close()
    }

    /// Moves the `keep` bytes at `from` to the front, then fills the rest of
    /// the buffer. Returns the number of valid bytes (0 at the end).
    @usableFromInline @inline(never)
    func refill(keeping keep: Int, from: Int) throws(TraceError) -> Int {
        if keep > 0 { buffer.copyMemory(from: buffer + from, byteCount: keep) }
        count = keep
        while !atEnd && count < capacity {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: capacity - count)
            } catch {
                throw .unreadable(path: path, reason: Self.reason(error))
            }
            guard let chunk, !chunk.isEmpty else {
                atEnd = true
                break
            }
            chunk.withUnsafeBytes { bytes in (buffer + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            count += chunk.count
        }
        return count
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
