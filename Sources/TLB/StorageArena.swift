/// Owns the memory of `SetAssociativeArray`s and frees it all at once when
/// the last reference goes away. Arrays are plain views, so the hot path
/// never touches a reference count.
public final class StorageArena: @unchecked Sendable {
    private var blocks: [UnsafeMutableRawPointer] = []

    public init() {}

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// `count` initialized values of a trivial type (count may be zero).
    func allocate<T>(_ count: Int, repeating value: T) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: max(count, 1))
        blocks.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }
}
