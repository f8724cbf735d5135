import Glibc
@testable import GuestMemory

/// Reserves hugepages for a test by growing the machine-wide pool, and
/// shrinks it by as much afterwards. Only root can.
enum HugepageReservation {
    /// The pool size file for pages of `pageBytes`.
    static func path(pageBytes: Int) -> String { HugepagePool.poolDirectory(pageBytes: pageBytes) + "/nr_hugepages" }

    /// Whether this process may resize the pool of `pageBytes` pages.
    static func possible(pageBytes: Int = 2 << 20) -> Bool {
        geteuid() == 0 && access(path(pageBytes: pageBytes), W_OK) == 0
    }

    /// Whether `pages` pages of `pageBytes` can be reserved right now: it
    /// tries, then restores the pool.
    static func canReserve(pages: Int, pageBytes: Int) -> Bool {
        guard possible(pageBytes: pageBytes) else { return false }
        return (try? with(pages: pages, pageBytes: pageBytes) { true }) ?? false
    }

    /// Runs `body` with at least `pages` free pages of `pageBytes`, then restores the pool size.
    static func with<R>(pages: Int, pageBytes: Int = 2 << 20, _ body: () throws -> R) throws -> R {
        guard let before = HugepagePool.probe(pageBytes: pageBytes) else { throw ReservationError(message: "no \(pageBytes)-byte pool") }
        let added = max(0, pages - before.available)
        let target = before.total + added
        try write(target, pageBytes: pageBytes)
        // Give back only what was added, so that another test's reservation made meanwhile survives.
        defer {
            if let now = HugepagePool.probe(pageBytes: pageBytes) { try? write(max(0, now.total - added), pageBytes: pageBytes) }
        }
        guard let after = HugepagePool.probe(pageBytes: pageBytes), after.available >= pages else {
            throw ReservationError(message: "asked for \(target) hugepages of \(pageBytes) bytes but the kernel could not find the memory")
        }
        return try body()
    }

    private static func write(_ count: Int, pageBytes: Int) throws {
        let file = path(pageBytes: pageBytes)
        let descriptor = open(file, O_WRONLY)
        guard descriptor >= 0 else { throw ReservationError(message: "open \(file): errno \(errno)") }
        defer { close(descriptor) }
        let text = Array("\(count)\n".utf8)
        guard Glibc.write(descriptor, text, text.count) == text.count else {
            throw ReservationError(message: "write \(count) to \(file): errno \(errno)")
        }
    }

    struct ReservationError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
