import Glibc

/// A range of address space that this value owns: it is unmapped when the
/// value goes away, including when a later step of building a region
/// throws. A mapping is never copied, so it is unmapped exactly once.
struct Mapping: ~Copyable, @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let length: Int

    /// Maps `length` bytes.
    /// The corresponding C function is `mmap`.
    init(length: Int, protection: Int32, flags: Int32, descriptor: Int32 = -1) throws(SystemCallError) {
        base = try mapMemory(length: length, protection: protection, flags: flags, descriptor: descriptor)
        self.length = length
    }

    /// Maps `length` anonymous bytes at an address that is a multiple of
    /// `alignment` (a power of two): it maps `length + alignment` bytes,
    /// then unmaps the unaligned head and the tail. If a trim fails, what
    /// remains is unmapped before the error is thrown.
    init(length: Int, alignment: Int, protection: Int32, flags: Int32) throws(SystemCallError) {
        let total = length + alignment
        let raw = try mapMemory(length: total, protection: protection, flags: flags)
        let start = UInt(bitPattern: raw)
        let head = Int(((start + UInt(alignment) - 1) & ~(UInt(alignment) - 1)) - start)
        let tail = total - head - length
        if head > 0 {
            do { _ = try systemCall("munmap") { munmap(raw, head) } } catch {
                munmap(raw, total)
                throw error
            }
        }
        if tail > 0 {
            do { _ = try systemCall("munmap") { munmap(raw + head + length, tail) } } catch {
                munmap(raw + head, length + tail)
                throw error
            }
        }
        base = raw + head
        self.length = length
    }

    /// Gives the kernel advice on the whole range; `name` is the advice's
    /// constant, for the error message.
    /// The corresponding C function is `madvise`.
    func advise(_ advice: Int32, name: String) throws(SystemCallError) {
        _ = try systemCall("madvise(\(name))") { madvise(base, length, advice) }
    }

    deinit { munmap(base, length) }
}
