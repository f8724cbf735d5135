import Testing
import Translation
import VMemLabTestSupport

/// `PageWalker.walkGrantingAll` skips the architectural checks on a path
/// whose entries grant all rights and need no A/D update. On random
/// controls and layouts whose entries grant all, with one random bit
/// (`RandomLayout.mutableBits`) flipped on the walked path two times in
/// three, wherever it answers,
/// `walk` must translate a user read, write and fetch to the same page
/// with the same references and write nothing.
@Suite("The walk of paths granting all rights against the architectural walk")
struct WalkGrantingAllTests {
    @Test("where it answers, walk agrees and writes nothing",
          arguments: [UInt64(0x6A11_0001), 0x6A11_0002, 0x6A11_0003, 0x6A11_0004])
    func differential(seed: UInt64) throws {
        var random = TranslationSeededGenerator(seed: seed)
        let allRights = PageTableEntry.Flags([.present, .writable, .user, .accessed, .dirty]).rawValue
        var answered = 0, declined = 0
        for _ in 0..<40 {
            let controls = RandomLayout.randomControls(&random)
            let walker = PageWalker(controls: controls)
            var memory = SparsePhysicalMemory()
            var builder = try PageTableBuilder(format: .x86, mode: controls.mode,
                                               allocator: FrameAllocator(base: 0x10_0000, size: 0x40_0000), memory: &memory)
            builder.nonLeafBits |= PageTableEntry.Flags.accessed.rawValue
            var mapped: [(address: UInt64, size: PageSize)] = []
            for _ in 0..<8 {
                let size: PageSize = [.size4K, .size4K, .size2M, .size1G].randomElement(using: &random)!
                let virtual = UInt64.random(in: 0..<(1 << (controls.mode.addressBits - 1)), using: &random) & ~size.offsetMask
                let physical = UInt64.random(in: 0x1_0000_0000..<(1 << 32 + 3), using: &random) & ~size.offsetMask
                do {
                    try builder.map(virtual: virtual, physical: physical, size: size, leafBits: allRights, memory: &memory)
                    mapped.append((virtual, size))
                } catch .overlaps {
                    continue
                }
            }
            for _ in 0..<30 {
                guard let target = mapped.randomElement(using: &random) else { break }
                let address = target.address + UInt64.random(in: 0..<target.size.bytes, using: &random)
                // Flip one bit of one entry on the path, two times in three.
                var flipped: (entry: UInt64, bit: UInt64)?
                let level = Int.random(in: target.size.leafLevel...controls.mode.levels, using: &random)
                if Int.random(in: 0..<3, using: &random) > 0,
                   let entry = builder.entryAddress(of: target.address, level: level, memory: memory) {
                    let largeLeaf = level == target.size.leafLevel && target.size != .size4K
                    let bit = RandomLayout.mutableBits(controls, largeLeaf: largeLeaf).randomElement(using: &random)!
                    memory.store64(entry, memory.load64(entry) ^ (1 << bit))
                    flipped = (entry, bit)
                }
                defer { if let flipped { memory.store64(flipped.entry, memory.load64(flipped.entry) ^ (1 << flipped.bit)) } }
                var shortLog = WalkLog()
                guard let short = walker.walkGrantingAll(address, root: builder.root, memory: &memory, observer: &shortLog) else {
                    declined += 1
                    continue
                }
                answered += 1
                let before = shortLog.references.map { memory.load64($0.address) }
                for type in AccessType.allCases {
                    var log = WalkLog()
                    let result = walker.walk(address, access: MemoryAccess(type, .user), root: builder.root, memory: &memory,
                                             observer: &log)
                    guard case let .translated(translation) = result else {
                        Issue.record("\(type) at 0x\(String(address, radix: 16)) faulted where walkGrantingAll answered: \(result)")
                        continue
                    }
                    #expect(translation.pageSize == short.pageSize)
                    #expect(translation.physicalAddress & ~translation.pageSize.offsetMask == short.frame)
                    #expect(log.references == shortLog.references)
                    #expect(shortLog.references.map { memory.load64($0.address) } == before, "no A/D bit was written")
                }
            }
        }
        #expect(answered > 100 && declined > 50, "both outcomes were exercised: \(answered) answered, \(declined) declined")
    }
}
