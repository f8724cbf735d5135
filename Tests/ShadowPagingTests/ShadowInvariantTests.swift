import ShadowPaging
import Testing
import Translation
import VMemLabTestSupport
import Workloads

/// A random mix of every event kind, valid by construction: processes are
/// spawned, forked and exit; regions are mapped, touched, reprotected and
/// unmapped.
struct ChaosEvents {
    var random: GuestOSRandom
    var live: [GuestProcessID: [(start: UInt64, pages: UInt64, size: PageSize)]] = [:]
    var nextPID: GuestProcessID = 1
    var nextRegion: UInt64 = 0x10_0000_0000

    init(seed: UInt64) { random = GuestOSRandom(seed: seed) }

    mutating func next() -> GuestOSEvent {
        if live.isEmpty || (live.count < 4 && random.next() % 50 == 0) {
            defer { nextPID += 1 }
            live[nextPID] = []
            return .spawn(nextPID)
        }
        let pids = live.keys.sorted()
        let pid = pids[Int(random.next() % UInt64(pids.count))]
        let regions = live[pid]!
        switch random.next() % 100 {
        case 0..<8 where regions.count < 6:
            let size: PageSize = random.next() % 4 == 0 ? .size2M : .size4K
            let pages = 1 + random.next() % (size == .size2M ? 4 : 24)
            let start = (nextRegion + size.offsetMask) & ~size.offsetMask
            nextRegion = start + pages * size.bytes + (random.next() % 8) * (1 << 21)
            live[pid]!.append((start, pages, size))
            return .mmap(pid, start: start, length: pages * size.bytes, writable: random.next() % 5 != 0, pageSize: size)
        case 8..<11 where !regions.isEmpty:
            let index = Int(random.next() % UInt64(regions.count))
            let region = regions[index]
            live[pid]!.remove(at: index)
            return .munmap(pid, start: region.start, length: region.pages * region.size.bytes)
        case 11..<14 where !regions.isEmpty:
            let region = regions[Int(random.next() % UInt64(regions.count))]
            let first = random.next() % region.pages
            let count = 1 + random.next() % (region.pages - first)
            return .mprotect(pid, start: region.start + first * region.size.bytes, length: count * region.size.bytes,
                             writable: random.next() % 2 == 0)
        case 14..<16 where live.count < 5:
            defer { nextPID += 1 }
            live[nextPID] = regions
            return .fork(parent: pid, child: nextPID)
        case 16..<17 where live.count > 1:
            live[pid] = nil
            return .exit(pid)
        case 17..<22:
            return .contextSwitch(pid)
        case 22..<26 where !regions.isEmpty:
            let region = regions[Int(random.next() % UInt64(regions.count))]
            return .fault(pid, address: region.start + (random.next() % region.pages) * region.size.bytes)
        default:
            guard !regions.isEmpty else { return .contextSwitch(pid) }
            let region = regions[Int(random.next() % UInt64(regions.count))]
            let address = region.start + (random.next() % (region.pages * region.size.bytes)) & ~7
            return .access(pid, address: address, random.next() % 3 == 0 ? .read : .write)
        }
    }
}

@Suite("ShadowMMU: the consistency invariant after every event")
struct ShadowInvariantTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var workload: String
        var guestPage: PageSize
        var hostPage: PageSize
        var seed: UInt64
        var mode: PagingMode = .fourLevel
        var testDescription: String { "\(workload) guest \(guestPage) host \(hostPage) seed \(seed) \(mode)" }
    }

    static let cases: [Case] = {
        var cases: [Case] = []
        for workload in GuestOSWorkload.allCases.map(\.rawValue) + ["chaos"] {
            for (guestPage, hostPage) in [(PageSize.size4K, PageSize.size4K), (.size2M, .size4K), (.size4K, .size2M), (.size2M, .size2M)] {
                cases.append(Case(workload: workload, guestPage: guestPage, hostPage: hostPage, seed: 7))
            }
        }
        cases.append(Case(workload: "chaos", guestPage: .size4K, hostPage: .size4K, seed: 99))
        cases.append(Case(workload: "chaos", guestPage: .size4K, hostPage: .size2M, seed: 5, mode: .fiveLevel))
        return cases
    }()

    static func events(_ test: Case, count: Int) -> [GuestOSEvent] {
        if let workload = GuestOSWorkload(rawValue: test.workload) {
            let options = GuestOSWorkloadOptions(seed: test.seed, events: count, footprintBytes: 2 << 20, pageSize: test.guestPage,
                                                 updateRatio: 0.2)
            return workload.events(options)
        }
        var chaos = ChaosEvents(seed: test.seed)
        return (0..<count).map { _ in chaos.next() }
    }

    @Test("after every event the shadow equals guest ∘ host, or is unsync off the current root", arguments: cases)
    func invariant(_ test: Case) throws {
        var fixture = ShadowFixture(hostPage: test.hostPage, mode: test.mode, memoryBytes: 256 << 20, maxShadowPages: 96)
        var random = GuestOSRandom(seed: test.seed)
        let events = Self.events(test, count: 1_200)
        for (number, event) in events.enumerated() {
            try fixture.apply(event)
            let found = fixture.violations()
            #expect(found.isEmpty, "after event \(number) '\(event)': \(found)")
            if !found.isEmpty { return }
            // An access to any mapped page of the current process sees guest ∘ host.
            guard let pid = fixture.kernel.current, let root = fixture.kernel.root(of: pid) else { continue }
            if case let .access(_, address, _) = event {
                let probe = address ^ ((random.next() % 16) << 12)
                let memory = fixture.mmu.memory, base = fixture.mmu.host.guestBase
                if let guest = ShadowConsistencyOracle.guestWalk(probe, root: root, mode: test.mode, guestLoad: { memory.load64($0 + base) }) {
                    let result: ShadowAccessResult = fixture.mmu.access(probe, .read)
                    #expect(result == .translated(hostPhysical: guest.physical + base, pageSize: min(guest.size, test.hostPage)),
                            "after event \(number): read of 0x\(String(probe, radix: 16))")
                }
            }
        }
        #expect(fixture.mmu.counters.exits > 0)
    }
}
