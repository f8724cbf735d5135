import Testing
import Translation
import VMemLabTestSupport

/// Randomized differential test: random table layouts, random flag
/// mutations anywhere on the paths, random controls and accesses; every
/// walk of `PageWalker` is compared with `ReferencePageWalker` (the access
/// oracle over entries gathered the slow way), outcome and A/D bits alike.
/// Each seed is reproducible.
@Suite("PageWalker against the reference walker on random layouts")
struct DifferentialTests {
    static let layoutsPerSeed = 60
    static let walksPerLayout = 50

    @Test("random layouts, mutations and accesses", arguments: [UInt64(0x5EED_0001), 0x5EED_0002, 0x5EED_0003, 0x5EED_0004])
    func randomWalks(seed: UInt64) throws {
        var random = TranslationSeededGenerator(seed: seed)
        var walks = 0
        var agreements = 0
        var outcomes = (translated: 0, faults: 0, reservedFaults: 0, nonCanonical: 0)
        var mismatches: [String] = []
        for layout in 0..<Self.layoutsPerSeed {
            let controls = Self.randomControls(&random)
            let memory = SparsePhysicalMemory()
            var view = memory
            var builder = try PageTableBuilder(format: .x86, mode: controls.mode,
                                               allocator: FrameAllocator(base: 0x10_0000, size: 0x40_0000), memory: &view)
            var mapped: [(address: UInt64, size: PageSize)] = []
            for _ in 0..<8 {
                let size: PageSize = [.size4K, .size4K, .size4K, .size2M, .size2M, .size1G].randomElement(using: &random)!
                let virtual = UInt64.random(in: 0..<(1 << (controls.mode.addressBits - 1)), using: &random)
                    & ~size.offsetMask
                let physical = UInt64.random(in: 0x1_0000_0000..<(1 << 36), using: &random) & ~size.offsetMask
                do {
                    try builder.map(virtual: virtual, physical: physical, size: size,
                                    leafBits: Self.randomLeafBits(&random), memory: &view)
                    mapped.append((virtual, size))
                } catch .overlaps {
                    continue
                }
            }
            for _ in 0..<6 {
                guard let target = mapped.randomElement(using: &random) else { break }
                let level = Int.random(in: target.size.leafLevel...controls.mode.levels, using: &random)
                guard let entry = builder.entryAddress(of: target.address, level: level, memory: memory) else { continue }
                let isLargeLeaf = level == target.size.leafLevel && target.size != .size4K
                let bit = Self.mutableBits(controls, largeLeaf: isLargeLeaf).randomElement(using: &random)!
                memory.store64(entry, memory.load64(entry) ^ (1 << bit))
            }
            for _ in 0..<Self.walksPerLayout {
                let address: UInt64
                if let target = mapped.randomElement(using: &random), Int.random(in: 0..<10, using: &random) < 8 {
                    address = target.address + UInt64.random(in: 0..<target.size.bytes, using: &random)
                } else {
                    address = random.next()
                }
                let access = MemoryAccess(AccessType.allCases.randomElement(using: &random)!,
                                          AccessPrivilege.allCases.randomElement(using: &random)!)
                let prediction = ReferencePageWalker(controls: controls)
                    .predict(address: address, access: access, root: builder.root, memory: memory)
                var walked = memory
                let result = PageWalker(controls: controls).walk(address, access: access, root: builder.root,
                                                                 memory: &walked)
                let used = prediction.verdict.entriesUsed
                let after = prediction.entryAddresses.prefix(used).map { memory.load64($0) }
                var agree = AccessVerdict.Outcome(result) == prediction.verdict.outcome
                    && after == Array(prediction.verdict.entriesAfter.prefix(used))
                if case let .translated(translation) = result, translation.leafEntryAddress != prediction.leafEntryAddress {
                    agree = false
                }
                walks += 1
                switch prediction.verdict.outcome {
                case .translated: outcomes.translated += 1
                case let .fault(fault):
                    outcomes.faults += 1
                    if fault.errorCode.contains(.reservedBit) { outcomes.reservedFaults += 1 }
                case .nonCanonical: outcomes.nonCanonical += 1
                }
                if agree {
                    agreements += 1
                } else if mismatches.count < 8 {
                    mismatches.append("""
                        seed 0x\(String(seed, radix: 16)) layout \(layout): \(controls.mode) \(access) at 0x\(String(address, radix: 16)), \
                        NXE \(controls.noExecute) WP \(controls.writeProtect) SMEP \(controls.smep) SMAP \(controls.smap) \
                        AC \(controls.alignmentCheck) PKE \(controls.protectionKeys) PKRU 0x\(String(controls.pkru, radix: 16)) \
                        MAXPHYADDR \(controls.maxPhysicalAddressBits) 1G \(controls.supports1GPages)
                          walker: \(AccessVerdict.Outcome(result)); entries after \(after.map { "0x" + String($0, radix: 16) })
                          reference: \(prediction.verdict)
                        """)
                }
            }
        }
        print("differential walks [seed 0x\(String(seed, radix: 16))]: \(walks) walks "
            + "(\(outcomes.translated) translated, \(outcomes.faults) #PF of which \(outcomes.reservedFaults) RSVD, "
            + "\(outcomes.nonCanonical) non-canonical), \(agreements) agree")
        #expect(walks == Self.layoutsPerSeed * Self.walksPerLayout)
        #expect(agreements == walks, "\(mismatches.joined(separator: "\n"))")
    }

    static func randomControls(_ random: inout TranslationSeededGenerator) -> PagingControls {
        PagingControls(
            mode: Bool.random(using: &random) ? .fourLevel : .fiveLevel,
            writeProtect: Bool.random(using: &random), noExecute: Int.random(in: 0..<4, using: &random) != 0,
            smep: Bool.random(using: &random), smap: Bool.random(using: &random),
            alignmentCheck: Bool.random(using: &random), protectionKeys: Bool.random(using: &random),
            pkru: UInt32.random(in: 0...UInt32.max, using: &random),
            maxPhysicalAddressBits: [36, 39, 46, 52].randomElement(using: &random)!,
            supports1GPages: Int.random(in: 0..<4, using: &random) != 0)
    }

    /// P, and each of R/W, U/S, A, D, XD, G with even odds, and a random key.
    static func randomLeafBits(_ random: inout TranslationSeededGenerator) -> UInt64 {
        var bits: UInt64 = 1
        for bit: UInt64 in [1, 2, 5, 6, 8, 63] where Bool.random(using: &random) { bits |= 1 << bit }
        return bits | (UInt64.random(in: 0..<16, using: &random) << 59)
    }

    /// The bits a mutation flips: P, R/W, U/S, A, D, PS, G, XD, a key bit,
    /// address bit MAXPHYADDR − 1 and (when it exists) MAXPHYADDR, and in a
    /// large leaf bit 13. (Bit 13 of a table pointer is left alone: it could
    /// point one table at another and fold a path onto itself.)
    static func mutableBits(_ controls: PagingControls, largeLeaf: Bool) -> [UInt64] {
        var bits: [UInt64] = [0, 1, 2, 5, 6, 7, 8, 63, 60, UInt64(controls.maxPhysicalAddressBits - 1)]
        if controls.maxPhysicalAddressBits < 52 { bits.append(UInt64(controls.maxPhysicalAddressBits)) }
        if largeLeaf { bits.append(13) }
        return bits
    }
}
