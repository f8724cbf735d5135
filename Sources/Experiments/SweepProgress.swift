import Foundation

/// Progress of a sweep on stderr: points done of the total, the current
/// point and an ETA, redrawn on one line. It draws only when stderr is a
/// terminal and the run is not quiet.
public struct SweepProgress: Sendable {
    public var enabled: Bool
    private var started: Date?
    private var total = 0
    private var finishedBefore = 0

    /// Progress that draws when `quiet` is false and stderr is a terminal.
    public init(quiet: Bool) { enabled = !quiet && isatty(STDERR_FILENO) == 1 }

    /// The sweep has `total` points, of which `finished` were done by an
    /// earlier run.
    public mutating func begin(total: Int, finished: Int) {
        self.total = total
        finishedBefore = finished
        started = Date()
    }

    /// Point `done + 1` of the total is starting.
    public func starting(_ point: SweepPoint, done: Int) {
        guard enabled else { return }
        draw(Self.line(done: done, total: total, label: point.label, eta: eta(done: done)))
    }

    /// The sweep is over: clear the line.
    public func end() {
        guard enabled else { return }
        draw("")
    }

    /// The ETA from the points this run has finished, or nil before the first.
    func eta(done: Int) -> TimeInterval? {
        guard let started, done > finishedBefore else { return nil }
        let perPoint = Date().timeIntervalSince(started) / Double(done - finishedBefore)
        return perPoint * Double(total - done)
    }

    /// `[ 12/40]  30%  walk nested …  ETA 0:05`.
    public static func line(done: Int, total: Int, label: String, eta: TimeInterval?) -> String {
        let width = String(total).count
        let count = String(repeating: " ", count: max(0, width - String(done).count)) + "\(done)/\(total)"
        let percent = total == 0 ? 100 : done * 100 / total
        let remaining = eta.map { "ETA " + format($0) } ?? "ETA --:--"
        return "[\(count)] \(percent)%  \(label)  \(remaining)"
    }

    /// `h:mm:ss` or `m:ss`.
    public static func format(_ seconds: TimeInterval) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        let mmss = (m < 10 && h > 0 ? "0" : "") + "\(m):" + (s < 10 ? "0" : "") + "\(s)"
        return h > 0 ? "\(h):\(mmss)" : mmss
    }

    private func draw(_ text: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }
}
