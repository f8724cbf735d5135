import Glibc
@testable import GuestMemory

/// Reserves 2 MiB hugepages for a test through /proc/sys/vm/nr_hugepages
/// and puts the pool back afterwards. Only root can.
enum HugepageReservation {
    static let path = "/proc/sys/vm/nr_hugepages"

    /// Whether this process may resize the 2 MiB pool.
    static var possible: Bool { geteuid() == 0 && access(path, W_OK) == 0 && HugepagePool.probe(pageBytes: 2 << 20) != nil }

    /// Runs `body` with at least `pages` free 2 MiB hugepages, then restores the pool size.
    static func with<R>(pages: Int, _ body: () throws -> R) throws -> R {
        guard let before = HugepagePool.probe(pageBytes: 2 << 20) else { throw ReservationError(message: "no 2M pool") }
        let target = before.total + max(0, pages - before.available)
        try write(target)
        defer { try? write(before.total) }
        guard let after = HugepagePool.probe(pageBytes: 2 << 20), after.available >= pages else {
            throw ReservationError(message: "asked for \(target) 2M hugepages but the kernel could not free enough memory")
        }
        return try body()
    }

    private static func write(_ count: Int) throws {
        let descriptor = open(path, O_WRONLY)
        guard descriptor >= 0 else { throw ReservationError(message: "open \(path): errno \(errno)") }
        defer { close(descriptor) }
        let text = Array("\(count)\n".utf8)
        guard Glibc.write(descriptor, text, text.count) == text.count else {
            throw ReservationError(message: "write \(count) to \(path): errno \(errno)")
        }
    }

    struct ReservationError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
