import Testing
import Translation
import VMemLabTestSupport

/// Randomized differential test of `EPTWalker` against `EPTAccessOracle`:
/// random EPT capabilities and controls, random mappings with random
/// rights and memory types, random bit flips on the paths, random accesses.
@Suite("EPTWalker against the EPT oracle on random layouts")
struct EPTDifferentialTests {
    @Test("random EPT layouts, mutations and accesses", arguments: [UInt64(0xE971_0001), 0xE971_0002, 0xE971_0003])
    func randomEPTWalks(seed: UInt64) throws {
        var random = TranslationSeededGenerator(seed: seed)
        var walks = 0, agreements = 0
        var outcomes = (translated: 0, violations: 0, misconfigurations: 0)
        var mismatches: [String] = []
        for index in 0..<50 {
            let mode: PagingMode = Bool.random(using: &random) ? .fourLevel : .fiveLevel
            let maxPhysical = [36, 39, 46, 52].randomElement(using: &random)!
            var memory = SparsePhysicalMemory()
            var builder = try PageTableBuilder(format: .ept, mode: mode,
                                               allocator: FrameAllocator(base: 0x10_0000, size: 0x40_0000), memory: &memory)
            let controls = EPTControls(
                pointer: EPTPointer(root: HostPhysicalAddress(builder.root), mode: mode,
                                    accessedDirtyEnabled: Bool.random(using: &random)),
                maxPhysicalAddressBits: maxPhysical, executeOnly: Bool.random(using: &random),
                modeBasedExecute: Bool.random(using: &random), supports1GPages: Int.random(in: 0..<4, using: &random) != 0)
            var mapped: [(address: UInt64, size: PageSize)] = []
            for _ in 0..<8 {
                let size: PageSize = [.size4K, .size4K, .size2M, .size2M, .size1G].randomElement(using: &random)!
                let guestPhysical = UInt64.random(in: 0..<(1 << 46), using: &random) & ~size.offsetMask
                let host = UInt64.random(in: 0x1_0000_0000..<(1 << 36), using: &random) & ~size.offsetMask
                var bits: UInt64 = [0x7, 0x7, 0x7, 0x3, 0x1, 0x5, 0x4, 0x2].randomElement(using: &random)!
                bits |= [6, 6, 6, 6, 0, 1, 4, 5, 2, 3, 7].randomElement(using: &random)! << 3
                for bit: UInt64 in [6, 8, 9, 10] where Bool.random(using: &random) { bits |= 1 << bit }
                do {
                    try builder.map(virtual: guestPhysical, physical: host, size: size, leafBits: bits, memory: &memory)
                    mapped.append((guestPhysical, size))
                } catch .overlaps {
                    continue
                }
            }
            for _ in 0..<6 {
                guard let target = mapped.randomElement(using: &random) else { break }
                // Half the flips hit a leaf: upper entries are shared by every mapping.
                let level = Bool.random(using: &random)
                    ? target.size.leafLevel : Int.random(in: target.size.leafLevel...mode.levels, using: &random)
                guard let entry = builder.entryAddress(of: target.address, level: level, memory: memory) else { continue }
                var flippable: [UInt64] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, UInt64(maxPhysical - 1)]
                if maxPhysical < 52 { flippable.append(UInt64(maxPhysical)) }
                if level == target.size.leafLevel && target.size != .size4K { flippable += [12, 13] }
                memory.store64(entry, memory.load64(entry) ^ (1 << flippable.randomElement(using: &random)!))
            }
            for _ in 0..<40 {
                let address: UInt64
                if let target = mapped.randomElement(using: &random), Int.random(in: 0..<10, using: &random) < 8 {
                    address = target.address + UInt64.random(in: 0..<target.size.bytes, using: &random)
                } else {
                    address = UInt64.random(in: 0..<(1 << 48), using: &random)
                }
                let access = AccessType.allCases.randomElement(using: &random)!
                let userLinear = Bool.random(using: &random)

                var addresses: [UInt64] = []
                var path: [UInt64] = []
                var table = builder.root
                for level in stride(from: mode.levels, through: 1, by: -1) {
                    let entryAddress = table + ((address >> UInt64(12 + 9 * (level - 1))) & 511) * 8
                    addresses.append(entryAddress)
                    path.append(memory.load64(entryAddress))
                    table = path.last! & 0x000F_FFFF_FFFF_F000
                }
                let verdict = EPTAccessOracle(controls: controls)
                    .decide(address: address, access: access, userLinear: userLinear, path: path)
                var observer = NoWalkObserver()
                let result = EPTWalker(controls: controls).walk(address, access: access, userLinear: userLinear,
                                                                memory: &memory, observer: &observer)
                let after = addresses.prefix(verdict.entriesUsed).map { memory.load64($0) }
                var agree = EPTAccessOracle.Outcome(result) == verdict.outcome
                    && after == Array(verdict.entriesAfter.prefix(verdict.entriesUsed))
                if case let .translated(translation) = result, translation.leafEntryAddress != addresses[verdict.entriesUsed - 1] {
                    agree = false
                }
                walks += 1
                switch verdict.outcome {
                case .translated: outcomes.translated += 1
                case .violation: outcomes.violations += 1
                case .misconfiguration: outcomes.misconfigurations += 1
                }
                if agree {
                    agreements += 1
                } else if mismatches.count < 8 {
                    mismatches.append("""
                        seed 0x\(String(seed, radix: 16)) layout \(index): \(mode) EPT, MAXPHYADDR \(maxPhysical), \
                        A/D \(controls.pointer.accessedDirtyEnabled), execute-only \(controls.executeOnly), \
                        MBEC \(controls.modeBasedExecute), 1G \(controls.supports1GPages); \(access) \
                        (user-linear \(userLinear)) at 0x\(String(address, radix: 16))
                          walker: \(EPTAccessOracle.Outcome(result)); entries after \(after.map { "0x" + String($0, radix: 16) })
                          oracle: \(verdict)
                        """)
                }
            }
        }
        print("differential EPT walks [seed 0x\(String(seed, radix: 16))]: \(walks) walks (\(outcomes.translated) "
            + "translated, \(outcomes.violations) violations, \(outcomes.misconfigurations) misconfigurations), "
            + "\(agreements) agree")
        #expect(walks == 50 * 40)
        #expect(agreements == walks, "\(mismatches.joined(separator: "\n"))")
    }
}
