import Translation

/// Why a guest-OS event trace could not be read. Every case names the line.
public enum GuestOSTraceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The line does not parse; `reason` says what is wrong.
    case malformed(line: Int, text: String, reason: String)
    /// The line names a process that does not exist at that point.
    case unknownProcess(line: Int, process: GuestProcessID)
    /// The line creates a process that already exists.
    case duplicateProcess(line: Int, process: GuestProcessID)

    public var description: String {
        switch self {
        case let .malformed(line, text, reason): "line \(line): \(reason): '\(text)'"
        case let .unknownProcess(line, process): "line \(line): process \(process) does not exist"
        case let .duplicateProcess(line, process): "line \(line): process \(process) already exists"
        }
    }
}

/// The text format of guest-OS event traces: one event per line, fields
/// separated by blanks, `#` to the end of a line is a comment, blank lines
/// are skipped. Numbers are decimal or `0x` hexadecimal; lengths may carry a
/// `K`, `M` or `G` suffix (binary units).
///
/// ```
/// spawn PID
/// mmap PID START LENGTH r|rw [4K|2M|1G]     # page size defaults to 4K
/// munmap PID START LENGTH
/// access PID ADDRESS r|w|x
/// fault PID ADDRESS
/// mprotect PID START LENGTH r|rw
/// fork PARENT CHILD
/// switch PID
/// exit PID
/// ```
///
/// A process exists from its `spawn` (or the `fork` that creates it) until
/// its `exit`; an event naming any other process is an error.
public enum GuestOSTrace {
    /// Parses a whole trace.
    public static func parse(_ text: String) throws(GuestOSTraceError) -> [GuestOSEvent] {
        var events: [GuestOSEvent] = []
        var live = Set<GuestProcessID>()
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            let event = try parseLine(fields, lineNumber: number, text: String(rawLine))
            try check(event, live: &live, line: number)
            events.append(event)
        }
        return events
    }

    /// Formats events as a trace that `parse` reads back.
    public static func format(_ events: [GuestOSEvent]) -> String {
        events.map(\.description).joined(separator: "\n") + "\n"
    }

    /// Tracks which processes exist, and rejects events for any other.
    static func check(_ event: GuestOSEvent, live: inout Set<GuestProcessID>, line: Int) throws(GuestOSTraceError) {
        switch event {
        case let .spawn(pid):
            guard live.insert(pid).inserted else { throw .duplicateProcess(line: line, process: pid) }
        case let .fork(parent, child):
            guard live.contains(parent) else { throw .unknownProcess(line: line, process: parent) }
            guard live.insert(child).inserted else { throw .duplicateProcess(line: line, process: child) }
        case let .exit(pid):
            guard live.remove(pid) != nil else { throw .unknownProcess(line: line, process: pid) }
        default:
            guard live.contains(event.process) else { throw .unknownProcess(line: line, process: event.process) }
        }
    }

    static func parseLine(_ fields: [Substring], lineNumber: Int, text: String) throws(GuestOSTraceError) -> GuestOSEvent {
        func fail(_ reason: String) -> GuestOSTraceError { .malformed(line: lineNumber, text: text, reason: reason) }
        func expect(_ counts: ClosedRange<Int>) throws(GuestOSTraceError) {
            let given = fields.count - 1
            guard counts.contains(given) else {
                let wanted = counts.lowerBound == counts.upperBound ? "\(counts.lowerBound)" : "\(counts.lowerBound) to \(counts.upperBound)"
                throw fail("'\(fields[0])' takes \(wanted) fields, not \(given)")
            }
        }
        func pid(_ index: Int) throws(GuestOSTraceError) -> GuestProcessID {
            guard let value = GuestProcessID(fields[index]) else { throw fail("'\(fields[index])' is not a process id") }
            return value
        }
        func number(_ index: Int, what: String) throws(GuestOSTraceError) -> UInt64 {
            guard let value = parseNumber(fields[index]) else { throw fail("'\(fields[index])' is not a valid \(what)") }
            return value
        }
        func protection(_ index: Int) throws(GuestOSTraceError) -> Bool {
            switch fields[index].lowercased() {
            case "r": return false
            case "rw", "w": return true
            default: throw fail("protection '\(fields[index])' is not r or rw")
            }
        }
        func range(_ start: Int) throws(GuestOSTraceError) -> (UInt64, UInt64) {
            let begin = try number(start, what: "start address"), length = try number(start + 1, what: "length")
            guard length > 0 else { throw fail("the length is zero") }
            guard begin & 0xFFF == 0, length & 0xFFF == 0 else { throw fail("the range is not 4K-aligned") }
            guard begin &+ length > begin, begin &+ length <= 1 << 47 else { throw fail("the range leaves the 47-bit user space") }
            return (begin, length)
        }
        switch fields[0].lowercased() {
        case "spawn":
            try expect(1...1)
            return .spawn(try pid(1))
        case "access":
            try expect(3...3)
            let type: AccessType
            switch fields[3].lowercased() {
            case "r": type = .read
            case "w": type = .write
            case "x": type = .fetch
            default: throw fail("access type '\(fields[3])' is not r, w or x")
            }
            let address = try number(2, what: "address")
            guard address < 1 << 47 else { throw fail("address is outside the 47-bit user space") }
            return .access(try pid(1), address: address, type)
        case "mmap":
            try expect(4...5)
            let (start, length) = try range(2)
            var size = PageSize.size4K
            if fields.count == 6 {
                guard let parsed = PageSize(name: String(fields[5])) else { throw fail("page size '\(fields[5])' is not 4K, 2M or 1G") }
                size = parsed
            }
            guard start & size.offsetMask == 0, length & size.offsetMask == 0 else {
                throw fail("the range is not aligned to its \(size) pages")
            }
            return .mmap(try pid(1), start: start, length: length, writable: try protection(4), pageSize: size)
        case "munmap":
            try expect(3...3)
            let (start, length) = try range(2)
            return .munmap(try pid(1), start: start, length: length)
        case "fault":
            try expect(2...2)
            let address = try number(2, what: "address")
            guard address < 1 << 47 else { throw fail("address is outside the 47-bit user space") }
            return .fault(try pid(1), address: address)
        case "mprotect":
            try expect(4...4)
            let (start, length) = try range(2)
            return .mprotect(try pid(1), start: start, length: length, writable: try protection(4))
        case "fork":
            try expect(2...2)
            let parent = try pid(1), child = try pid(2)
            guard parent != child else { throw fail("a process cannot fork itself") }
            return .fork(parent: parent, child: child)
        case "switch":
            try expect(1...1)
            return .contextSwitch(try pid(1))
        case "exit":
            try expect(1...1)
            return .exit(try pid(1))
        default:
            throw fail("unknown event '\(fields[0])'")
        }
    }

    /// Parses `123`, `0x7f00`, `4K`, `2M`, `0x10M`.
    static func parseNumber(_ field: Substring) -> UInt64? {
        var text = field.lowercased()[...]
        var scale: UInt64 = 1
        switch text.last {
        case "k": scale = 1 << 10
        case "m": scale = 1 << 20
        case "g": scale = 1 << 30
        default: break
        }
        if scale != 1 { text = text.dropLast() }
        let value: UInt64?
        if text.hasPrefix("0x") { value = UInt64(text.dropFirst(2), radix: 16) } else { value = UInt64(text) }
        guard let value else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : product
    }
}
