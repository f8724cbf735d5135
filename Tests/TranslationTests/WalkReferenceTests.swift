import Testing
import Translation
import VMemLabTestSupport

/// The references a 1D walk reports: one per entry read, root first, each
/// with its level and the physical address of the entry.
@Suite("PageWalker and EPTWalker: the reference log of a 1D walk")
struct WalkReferenceTests {
    static let layouts: [(PagingMode, PageSize)] = PagingMode.allCases.flatMap { mode in
        PageSize.allCases.map { (mode, $0) }
    }

    @Test("a translation reads one entry per level down to its leaf", arguments: layouts)
    func oneReferencePerLevel(mode: PagingMode, size: PageSize) throws {
        let fixture = try SinglePathFixture(mode: mode, pageSize: size,
                                            virtualAddress: SinglePathFixture.sampleVirtualAddress(mode: mode),
                                            physicalAddress: 0x1_4000_0000, leafBits: 0x7)
        let before = fixture.entries
        var memory = fixture.memory
        var log = WalkLog()
        let result = PageWalker(controls: PagingControls(mode: mode)).walk(
            fixture.virtualAddress + 8, access: .userRead, root: fixture.root, memory: &memory, observer: &log)
        guard case .translated = result else {
            Issue.record("translates, got \(result)")
            return
        }
        let levels = Array(stride(from: mode.levels, through: size.leafLevel, by: -1))
        #expect(log.references == zip(levels, zip(fixture.entryAddresses, before)).map { level, entry in
            WalkReference(dimension: .native, level: level, step: level, address: entry.0, entry: entry.1)
        })
        #expect(log.count(.native) == mode.levels - size.leafLevel + 1)
    }

    @Test("a fault stops the log at the faulting entry", arguments: [PagingMode.fourLevel, .fiveLevel])
    func faultStopsTheLog(mode: PagingMode) throws {
        let fixture = try SinglePathFixture(mode: mode, pageSize: .size4K,
                                            virtualAddress: SinglePathFixture.sampleVirtualAddress(mode: mode),
                                            physicalAddress: 0x1_4000_0000, leafBits: 0x7)
        fixture.setEntry(fixture.entry(level: 2) & ~1, level: 2)
        var memory = fixture.memory
        var counter = WalkReferenceCounter()
        let result = PageWalker(controls: PagingControls(mode: mode)).walk(
            fixture.virtualAddress, access: .userRead, root: fixture.root, memory: &memory, observer: &counter)
        #expect(result == .fault(PageFault(errorCode: [.user], level: 2)))
        #expect(counter.native == mode.levels - 1 && counter.total == counter.native)
    }

    @Test("an EPT walk logs its entries root first", arguments: layouts)
    func eptReferences(mode: PagingMode, size: PageSize) throws {
        let fixture = try SinglePathFixture(mode: mode, pageSize: size,
                                            virtualAddress: SinglePathFixture.sampleVirtualAddress(mode: .fourLevel),
                                            physicalAddress: 0x1_4000_0000, leafBits: 0x7 | (6 << 3), format: .ept)
        var memory = fixture.memory
        var log = WalkLog()
        let controls = EPTControls(pointer: EPTPointer(root: HostPhysicalAddress(fixture.root), mode: mode,
                                                       accessedDirtyEnabled: false))
        _ = EPTWalker(controls: controls).walk(fixture.virtualAddress, access: .read, memory: &memory, observer: &log)
        #expect(log.references.map(\.address) == fixture.entryAddresses)
        #expect(log.references.map(\.level) == Array(stride(from: mode.levels, through: size.leafLevel, by: -1)))
    }
}
