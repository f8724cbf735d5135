import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file front to back through one fixed buffer, so a trace of any
/// size is read in constant memory. The buffer is small enough (256 KiB) to
/// stay in the CPU's L2 cache between the copy and its use. On Linux it is
/// filled with `read(2)` directly; elsewhere through `FileHandle`.
/// `refill` is the only slow path.
@usableFromInline final class BufferedFileReader {
    #if canImport(Glibc)
    let descriptor: Int32
    #else
    let handle: FileHandle
    #endif
    @usableFromInline let path: String
    /// The buffer and the valid bytes in it.
    @usableFromInline let buffer: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline var atEnd = false

    /// Opens `path`; `capacity` is the buffer size in bytes (a multiple of 8).
    init(path: String, capacity: Int = 1 << 18) throws(TraceError) {
        #if canImport(Glibc)
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        descriptor = opened
        #else
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: Self.reason(error))
        }
        #endif
        self.path = path
        self.capacity = capacity
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit {
        buffer.deallocate()
        #if canImport(Glibc)
        close(descriptor)
        #else
        try? handle.close()
        #endif
    }

    /// Moves the `keep` bytes at `from` to the front, then fills the rest of
    /// the buffer. Returns the number of valid bytes (0 at the end).
    @usableFromInline @inline(never)
    func refill(keeping keep: Int, from: Int) throws(TraceError) -> Int {
        if keep > 0 { buffer.copyMemory(from: buffer + from, byteCount: keep) }
        var count = keep
        while !atEnd && count < capacity {
            let added = try readChunk(into: buffer + count, count: capacity - count)
            if added == 0 { atEnd = true } else { count += added }
        }
        return count
    }

    /// Reads up to `count` bytes; 0 means the end of the file.
    private func readChunk(into destination: UnsafeMutableRawPointer, count: Int) throws(TraceError) -> Int {
        #if canImport(Glibc)
        while true {
            let result = read(descriptor, destination, count)
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        #else
        let chunk: Data?
        do {
            chunk = try handle.read(upToCount: count)
        } catch {
            throw .unreadable(path: path, reason: Self.reason(error))
        }
        guard let chunk, !chunk.isEmpty else { return 0 }
        chunk.withUnsafeBytes { bytes in destination.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        return chunk.count
        #endif
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
