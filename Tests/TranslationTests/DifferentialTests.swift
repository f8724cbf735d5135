import Testing
import Translation
import VMemLabTestSupport

/// Randomized differential tests: random table layouts, random flag
/// mutations anywhere on the paths, random controls and accesses (see
/// `RandomLayout`). Every walk is compared with `ReferencePageWalker` (the
/// access oracle over entries gathered the slow way), outcome and A/D bits
/// alike. Each seed is reproducible.
@Suite("Walkers against the reference walker on random layouts")
struct DifferentialTests {
    static let layoutsPerSeed = 60
    static let walksPerLayout = 50

    @Test("PageWalker: random layouts, mutations and accesses",
          arguments: [UInt64(0x5EED_0001), 0x5EED_0002, 0x5EED_0003, 0x5EED_0004])
    func randomWalks(seed: UInt64) throws {
        var random = TranslationSeededGenerator(seed: seed)
        var tally = Tally()
        for index in 0..<Self.layoutsPerSeed {
            var memory = SparsePhysicalMemory()
            let layout = try RandomLayout(random: &random, memory: &memory)
            for _ in 0..<Self.walksPerLayout {
                let (address, access) = layout.randomAccess(&random)
                let prediction = ReferencePageWalker(controls: layout.controls)
                    .predict(address: address, access: access, root: layout.root, memory: memory)
                var walked = memory
                let result = PageWalker(controls: layout.controls).walk(address, access: access, root: layout.root,
                                                                        memory: &walked)
                let used = prediction.verdict.entriesUsed
                let after = prediction.entryAddresses.prefix(used).map { memory.load64($0) }
                var agree = AccessVerdict.Outcome(result) == prediction.verdict.outcome
                    && after == Array(prediction.verdict.entriesAfter.prefix(used))
                if case let .translated(translation) = result, translation.leafEntryAddress != prediction.leafEntryAddress {
                    agree = false
                }
                tally.record(prediction.verdict.outcome, agree: agree) {
                    """
                    seed 0x\(String(seed, radix: 16)) layout \(index): \(access) at 0x\(String(address, radix: 16)), \
                    \(layout.controlsDescription)
                      walker: \(AccessVerdict.Outcome(result)); entries after \(after.map { "0x" + String($0, radix: 16) })
                      reference: \(prediction.verdict)
                    """
                }
            }
        }
        print("differential walks [seed 0x\(String(seed, radix: 16))]: \(tally.summary)")
        #expect(tally.walks == Self.layoutsPerSeed * Self.walksPerLayout)
        #expect(tally.agreements == tally.walks, "\(tally.mismatches.joined(separator: "\n"))")
    }

    /// The nested tables map guest-physical [0, 2^39) with 1 GiB pages.
    static let nestedReach: UInt64 = 1 << 39
    /// Guest-physical `x` is host-physical `x + hostOffset`.
    static let hostOffset: UInt64 = 1 << 40

    /// With a nested dimension that allows everything, a 2D walk must decide
    /// exactly what a 1D walk of the guest tables decides: the same guest
    /// fault or translation, the same guest A/D bits, the host address at
    /// the fixed offset, and (h + 1) references per guest entry plus h for
    /// the final address. A walk that touches a guest-physical address the
    /// nested tables do not map must exit instead.
    @Test("NestedWalker: random guest layouts over permissive nested tables",
          arguments: [NestedFixtureKind.ept(accessedDirty: false), .ept(accessedDirty: true), .npt],
          [UInt64(0x2D5E_ED01), 0x2D5E_ED02])
    func randomNestedWalks(kind: NestedFixtureKind, seed: UInt64) throws {
        var random = TranslationSeededGenerator(seed: seed)
        var tally = Tally()
        var exits = 0
        for index in 0..<30 {
            let host = SparsePhysicalMemory()
            var guestMemory = OffsetMemory(base: host, offset: Self.hostOffset)
            let layout = try RandomLayout(random: &random, memory: &guestMemory)
            var hostView = host
            let hostMode: PagingMode = Bool.random(using: &random) ? .fourLevel : .fiveLevel
            var nested = try PageTableBuilder(format: kind.format, mode: hostMode,
                                              allocator: FrameAllocator(base: 0x1000_0000, size: 0x1_0000), memory: &hostView)
            try nested.map(virtual: 0, physical: Self.hostOffset, size: .size1G, count: Self.nestedReach >> 30,
                           leafBits: NestedFixture.permissiveLeafBits(kind), memory: &hostView)
            let paging: NestedPaging
            switch kind {
            case let .ept(accessedDirty):
                paging = .ept(EPTControls(pointer: EPTPointer(root: HostPhysicalAddress(nested.root), mode: hostMode,
                                                              accessedDirtyEnabled: accessedDirty)))
            case .npt:
                paging = .npt(root: nested.root, controls: PagingControls(mode: hostMode))
            }
            let walker = NestedWalker(guest: layout.controls, nested: paging)
            let nestedReferences = hostMode.levels - 2
            for _ in 0..<30 {
                let (address, access) = layout.randomAccess(&random)
                let prediction = ReferencePageWalker(controls: layout.controls)
                    .predict(address: address, access: access, root: layout.root, memory: guestMemory)
                var memory = host
                var counter = WalkReferenceCounter()
                let result = walker.walk(address, access: access, guestRoot: layout.root, memory: &memory,
                                         observer: &counter)
                let verdict = prediction.verdict
                var touched = Array(prediction.entryAddresses.prefix(verdict.entriesUsed))
                if case let .translated(physical, _, _, _) = verdict.outcome { touched.append(physical) }
                let agree: Bool
                if touched.contains(where: { $0 >= Self.nestedReach }) {
                    agree = result.isVMExit
                    exits += 1
                } else {
                    let after = prediction.entryAddresses.prefix(verdict.entriesUsed).map { guestMemory.load64($0) }
                    let guestEntriesAgree = after == Array(verdict.entriesAfter.prefix(verdict.entriesUsed))
                    switch verdict.outcome {
                    case .nonCanonical:
                        agree = result == .nonCanonical && counter.total == 0
                    case let .fault(fault):
                        agree = result == .guestFault(fault) && guestEntriesAgree
                            && counter.total == verdict.entriesUsed * (nestedReferences + 1)
                    case let .translated(physical, size, rights, _):
                        agree = result == .translated(NestedTranslation(
                            guestPhysical: physical, hostPhysical: physical + Self.hostOffset, guestPageSize: size,
                            hostPageSize: .size1G, guestRights: rights))
                            && guestEntriesAgree
                            && counter.total == verdict.entriesUsed * (nestedReferences + 1) + nestedReferences
                    }
                }
                tally.record(verdict.outcome, agree: agree) {
                    """
                    \(kind) seed 0x\(String(seed, radix: 16)) layout \(index), host \(hostMode): \(access) at \
                    0x\(String(address, radix: 16)), \(layout.controlsDescription)
                      2D walker: \(result) after \(counter.total) references
                      reference: \(verdict)
                    """
                }
            }
        }
        print("differential 2D walks [\(kind), seed 0x\(String(seed, radix: 16))]: \(tally.summary), \(exits) out of nested reach")
        #expect(tally.walks == 30 * 30)
        #expect(tally.agreements == tally.walks, "\(tally.mismatches.joined(separator: "\n"))")
    }

    /// Counts walks by predicted outcome and keeps the first mismatches.
    struct Tally {
        var walks = 0, agreements = 0, translated = 0, faults = 0, reservedFaults = 0, nonCanonical = 0
        var mismatches: [String] = []

        mutating func record(_ outcome: AccessVerdict.Outcome, agree: Bool, describe: () -> String) {
            walks += 1
            switch outcome {
            case .translated: translated += 1
            case let .fault(fault):
                faults += 1
                if fault.errorCode.contains(.reservedBit) { reservedFaults += 1 }
            case .nonCanonical: nonCanonical += 1
            }
            if agree {
                agreements += 1
            } else if mismatches.count < 8 {
                mismatches.append(describe())
            }
        }

        var summary: String {
            "\(walks) walks (\(translated) translated, \(faults) #PF of which \(reservedFaults) RSVD, "
                + "\(nonCanonical) non-canonical), \(agreements) agree"
        }
    }
}
