import Foundation
import Testing
import Translation
import Workloads

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("vmemlab-\(ProcessInfo.processInfo.processIdentifier)-\(name)").path
}

@Suite("Address-stream generators")
struct GeneratorTests {
    static let region = WorkloadRegion(bytes: 1 << 20, accesses: 10_000)

    @Test("every generator is deterministic from its seed and stays in its region")
    func deterministic() throws {
        func all(_ seed: UInt64) throws -> [[AccessRecord]] {
            var uniform = UniformStream(region: Self.region, seed: seed)
            var zipf = ZipfStream(region: Self.region, exponent: 1, seed: seed)
            var chase = PointerChaseStream(region: Self.region, seed: seed)
            var gups = GUPSStream(region: Self.region, seed: seed)
            return [try uniform.collect(), try zipf.collect(), try chase.collect(), try gups.collect()]
        }
        let first = try all(1), again = try all(1), other = try all(2)
        #expect(first == again)
        for (index, stream) in first.enumerated() {
            #expect(stream.count == 10_000)
            #expect(stream != other[index])
            #expect(stream.allSatisfy { $0.address >= Self.region.base && $0.address < Self.region.base + Self.region.bytes })
        }
    }

    @Test("sequential and strided streams step and wrap")
    func strided() throws {
        var sequential = StridedStream.sequential(region: WorkloadRegion(bytes: 64, accesses: 10))
        #expect(try sequential.collect().map { $0.address - WorkloadRegion.defaultBase } == [0, 8, 16, 24, 32, 40, 48, 56, 0, 8])
        var strided = StridedStream(region: WorkloadRegion(bytes: 3 << 12, accesses: 4), stride: 4096)
        #expect(try strided.collect().map { $0.address - WorkloadRegion.defaultBase } == [0, 4096, 8192, 0])
    }

    @Test("a pointer chase visits every page once per cycle, one line per page")
    func pointerChase() throws {
        let pages = 256
        var chase = PointerChaseStream(region: WorkloadRegion(bytes: UInt64(pages) << 12, accesses: UInt64(pages * 2)), seed: 9)
        let records = try chase.collect()
        let firstCycle = records.prefix(pages).map { $0.address >> 12 }
        #expect(Set(firstCycle).count == pages)
        #expect(Array(records.suffix(pages)) == Array(records.prefix(pages)))
    }

    @Test("GUPS reads then writes each word")
    func gups() throws {
        var stream = GUPSStream(region: Self.region, seed: 4)
        let records = try stream.collect(limit: 1000)
        for pair in stride(from: 0, to: records.count, by: 2) {
            #expect(records[pair].type == .read && records[pair + 1].type == .write)
            #expect(records[pair].address == records[pair + 1].address)
        }
    }

    @Test("Zipf concentrates on few pages as s grows", arguments: [0.0, 1.0, 2.0])
    func zipf(exponent: Double) throws {
        var stream = ZipfStream(region: WorkloadRegion(bytes: 4096 << 12, accesses: 20_000), exponent: exponent, seed: 5)
        var counts: [UInt64: Int] = [:]
        for record in try stream.collect() { counts[record.address >> 12, default: 0] += 1 }
        let top = counts.values.max()!
        switch exponent {
        case 0: #expect(top < 40)
        case 1: #expect(top > 1000 && top < 4000)
        default: #expect(top > 10_000)
        }
    }
}

@Suite("Trace readers")
struct TraceReaderTests {
    @Test("raw64 round-trips across buffer refills")
    func raw64() throws {
        let path = temporaryPath("round.raw64")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let addresses = (0..<(1 << 20) + 3).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        try Raw64TraceWriter.write(addresses, to: path)
        var reader = try Raw64TraceReader(path: path)
        #expect(reader.count == UInt64(addresses.count))
        var index = 0
        while let record = try reader.next() {
            if record.address != addresses[index] { Issue.record("record \(index) differs"); break }
            index += 1
        }
        #expect(index == addresses.count)
    }

    @Test("a raw64 file whose size is not a multiple of 8 is rejected")
    func raw64Truncated() throws {
        let path = temporaryPath("bad.raw64")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(repeating: 1, count: 13).write(to: URL(fileURLWithPath: path))
        #expect(throws: TraceError.truncatedRaw64(path: path, size: 13)) { try Raw64TraceReader(path: path) }
        #expect(throws: TraceError.self) { try Raw64TraceReader(path: path + ".missing") }
    }

    @Test("lackey records parse; other lines are skipped")
    func lackey() throws {
        let path = temporaryPath("ok.lackey")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            ==123== Lackey, an example Valgrind tool
            I  04000000,3
             L 1ffefffd10,8
             S 04222cac,8
             M 0421c7f0,4
            program output line
            I  0400a4f3,2
            """.write(toFile: path, atomically: true, encoding: .utf8)
        var reader = try LackeyTraceReader(path: path)
        let records = try reader.collect()
        #expect(records == [
            AccessRecord(address: 0x400_0000, type: .fetch), AccessRecord(address: 0x1f_feff_fd10, type: .read),
            AccessRecord(address: 0x422_2cac, type: .write), AccessRecord(address: 0x421_c7f0, type: .write),
            AccessRecord(address: 0x400_a4f3, type: .fetch),
        ])
    }

    @Test("a malformed lackey record is reported with its line number", arguments: [
        " L zz12,8", " S 1234", "I  ,4", " M 12345678901234567,8", " L 1234,x",
    ])
    func lackeyMalformed(line: String) throws {
        let path = temporaryPath("bad.lackey")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "==1== start\nI  04000000,3\n\(line)\n L 10,8\n".write(toFile: path, atomically: true, encoding: .utf8)
        var reader = try LackeyTraceReader(path: path)
        do {
            _ = try reader.collect()
            Issue.record("accepted \(line)")
        } catch let error {
            guard case let .malformedLackeyLine(_, number, _) = error else { Issue.record("\(error)"); return }
            #expect(number == 3)
            #expect(error.description.contains(":3:"))
        }
    }

    @Test("lackey lines are found across buffer refills")
    func lackeyLong() throws {
        let path = temporaryPath("long.lackey")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = (0..<300_000).map { " L " + String($0 * 64, radix: 16) + ",8" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var reader = try LackeyTraceReader(path: path)
        var count: UInt64 = 0
        while let record = try reader.next() {
            if record.address != count * 64 { Issue.record("record \(count) is \(record)"); break }
            count += 1
        }
        #expect(count == 300_000)
    }
}
