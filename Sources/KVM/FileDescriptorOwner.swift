import Glibc

/// Owns an open file descriptor and closes it when it goes away.
struct FileDescriptorOwner: ~Copyable {
    /// The descriptor number.
    let raw: Int32

    init(_ raw: Int32) { self.raw = raw }

    deinit { close(raw) }
}

/// Owns a memory mapping and unmaps it when it goes away.
struct MappingOwner: ~Copyable {
    let base: UnsafeMutableRawPointer
    let size: Int

    /// Maps `size` bytes; the corresponding C function is `mmap`.
    init(size: Int, protection: Int32, flags: Int32, fd: Int32 = -1, offset: Int = 0,
         name: @autoclosure () -> String) throws(KVMError) {
        let pointer = mmap(nil, size, protection, flags, fd, off_t(offset))
        guard let pointer, Int(bitPattern: pointer) != -1 else { throw .systemCall(name(), .current) }
        base = pointer
        self.size = size
    }

    deinit { munmap(base, size) }
}
