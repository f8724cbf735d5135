import Testing
import Translation
import VMemLabTestSupport

/// Memory that records writes in an overlay over a base memory it never
/// changes: the 2D reference model runs its predicted side effects here.
struct OverlayMemory: PhysicalMemory {
    let base: SparsePhysicalMemory
    var writes: [UInt64: UInt64] = [:]
    func load64(_ address: UInt64) -> UInt64 { writes[address] ?? base.load64(address) }
    mutating func store64(_ address: UInt64, _ value: UInt64) { writes[address] = value }
}

/// A slow 2D reference: the order of a nested walk as `NestedWalker`
/// documents it (each guest entry's gPA through the nested tables, then the
/// entry; guest A/D writes, each needing nested write permission, after the
/// guest walk succeeds; the final gPA last), with every decision left to
/// the oracles: `AccessOracle` for the guest dimension and for NPT,
/// `EPTAccessOracle` for EPT. It returns nil when a gPA at or above 2^47
/// would be translated (where the walker makes its own modelling choices).
struct NestedReference {
    var guest: PagingControls
    var nested: NestedPaging
    var nestedRoot: UInt64
    var hostOffset: UInt64

    struct Prediction {
        var result: NestedWalkResult
        var guestReferences = 0
        var nestedReferences = 0
    }

    /// The nested step: a translation (host address and whether it may be
    /// written, and the nested leaf entry's address) or an exit.
    enum Step {
        case ok(host: UInt64, writable: Bool, rights: EPTViolationQualification, leafLevel: Int, leafEntry: UInt64)
        case exit(NestedWalkResult)
    }

    func predict(address: UInt64, access: MemoryAccess, guestRoot: UInt64, memory: inout OverlayMemory) -> Prediction? {
        var prediction = Prediction(result: .nonCanonical)
        let oracle = AccessOracle(controls: guest)
        let levels = guest.mode.levels
        let tableAccess: AccessType
        if case let .ept(controls) = nested, controls.pointer.accessedDirtyEnabled {
            tableAccess = .write  // §29.3.5: guest table accesses are EPT writes.
        } else {
            tableAccess = .read
        }
        var path: [UInt64] = []
        var located: [(guestPhysical: UInt64, step: Step)] = []
        var table = guestRoot & 0x000F_FFFF_FFFF_F000
        var verdict = oracle.decide(address: address, access: access, path: Array(repeating: 0, count: levels))
        if verdict.outcome == .nonCanonical { return prediction }
        for level in stride(from: levels, through: 1, by: -1) {
            let entryGuestPhysical = table + ((address >> UInt64(12 + 9 * (level - 1))) & 511) * 8
            guard let step = translate(entryGuestPhysical, access: tableAccess, userLinear: access.privilege == .user,
                                       final: false, memory: &memory, prediction: &prediction) else { return nil }
            guard case let .ok(host, _, _, _, _) = step else {
                if case let .exit(result) = step { prediction.result = result }
                return prediction
            }
            let entry = memory.load64(host)
            prediction.guestReferences += 1
            path.append(entry)
            located.append((entryGuestPhysical, step))
            // The oracle decides from the entries so far; zeros stand for the
            // entries not read yet, and it asks for one only if it needs it.
            verdict = oracle.decide(address: address, access: access,
                                    path: path + Array(repeating: 0, count: levels - path.count))
            if verdict.entriesUsed <= path.count { break }
            table = entry & 0x000F_FFFF_FFFF_F000
        }
        switch verdict.outcome {
        case .nonCanonical:
            preconditionFailure("checked above")
        case let .fault(fault):
            prediction.result = .guestFault(fault)
            return prediction
        case let .translated(guestPhysical, size, rights, _):
            // Guest A/D writes, root first, each through its nested translation.
            for index in 0..<verdict.entriesUsed {
                let needed = verdict.entriesAfter[index]
                guard case let .ok(host, writable, nestedRights, leafLevel, leafEntry) = located[index].step else { continue }
                let current = memory.load64(host)
                if current | needed == current { continue }
                guard writable else {
                    switch nested {
                    case .ept:
                        prediction.result = .eptViolation(nestedRights.union([.write, .linearAddressValid]),
                                                          guestPhysical: located[index].guestPhysical, level: leafLevel)
                    case .npt:
                        prediction.result = .nestedPageFault(exitInfo1: 0b111 | 1 << 33,
                                                             guestPhysical: located[index].guestPhysical, level: leafLevel)
                    }
                    return prediction
                }
                markDirty(leafEntry, memory: &memory)
                memory.store64(host, current | needed)
            }
            guard let step = translate(guestPhysical, access: access.type, userLinear: access.privilege == .user,
                                       final: true, memory: &memory, prediction: &prediction) else { return nil }
            switch step {
            case let .exit(result):
                prediction.result = result
            case let .ok(host, _, _, leafLevel, _):
                prediction.result = .translated(NestedTranslation(
                    guestPhysical: guestPhysical, hostPhysical: host, guestPageSize: size,
                    hostPageSize: PageSize(leafLevel: leafLevel) ?? .size4K, guestRights: rights))
            }
            return prediction
        }
    }

    /// One nested translation, its side effects applied to `memory`.
    func translate(
        _ guestPhysical: UInt64, access: AccessType, userLinear: Bool, final: Bool, memory: inout OverlayMemory,
        prediction: inout Prediction
    ) -> Step? {
        guard guestPhysical < 1 << 47 else { return nil }
        let levels = nested.mode.levels
        var addresses: [UInt64] = []
        var path: [UInt64] = []
        var table = nestedRoot
        for level in stride(from: levels, through: 1, by: -1) {
            let entryAddress = table + ((guestPhysical >> UInt64(12 + 9 * (level - 1))) & 511) * 8
            addresses.append(entryAddress)
            path.append(memory.load64(entryAddress))
            table = path.last! & 0x000F_FFFF_FFFF_F000
        }
        switch nested {
        case let .ept(controls):
            let verdict = EPTAccessOracle(controls: controls)
                .decide(address: guestPhysical, access: access, userLinear: userLinear, path: path)
            prediction.nestedReferences += verdict.entriesUsed
            for index in 0..<verdict.entriesUsed where verdict.entriesAfter[index] != path[index] {
                memory.store64(addresses[index], verdict.entriesAfter[index])
            }
            switch verdict.outcome {
            case let .translated(host, size, rights):
                return .ok(host: host, writable: rights.contains(.writable), rights: rights, leafLevel: size.leafLevel,
                           leafEntry: addresses[verdict.entriesUsed - 1])
            case let .violation(qualification, level):
                var full = qualification.union(.linearAddressValid)
                if final { full.insert(.finalTranslation) }
                return .exit(.eptViolation(full, guestPhysical: guestPhysical, level: level))
            case let .misconfiguration(level):
                return .exit(.eptMisconfiguration(guestPhysical: guestPhysical, level: level))
            }
        case let .npt(_, controls):
            var hostControls = controls
            hostControls.protectionKeys = false
            let verdict = AccessOracle(controls: hostControls)
                .decide(address: guestPhysical, access: MemoryAccess(access, .user), path: path)
            prediction.nestedReferences += verdict.entriesUsed
            for index in 0..<verdict.entriesUsed where verdict.entriesAfter[index] != path[index] {
                memory.store64(addresses[index], verdict.entriesAfter[index])
            }
            switch verdict.outcome {
            case let .translated(host, size, rights, _):
                var qualification: EPTViolationQualification = [.readable]
                if rights.contains(.writable) { qualification.insert(.writable) }
                if rights.contains(.executable) { qualification.insert(.executable) }
                return .ok(host: host, writable: rights.contains(.writable), rights: qualification,
                           leafLevel: size.leafLevel, leafEntry: addresses[verdict.entriesUsed - 1])
            case let .fault(fault):
                let info = UInt64(fault.errorCode.rawValue) | (final ? 1 << 32 : 1 << 33)
                return .exit(.nestedPageFault(exitInfo1: info, guestPhysical: guestPhysical, level: fault.level))
            case .nonCanonical:
                return nil
            }
        }
    }

    /// A write through a nested leaf sets its D bit: EPT bit 9 with EPT A/D, NPT bit 6.
    func markDirty(_ leafEntry: UInt64, memory: inout OverlayMemory) {
        switch nested {
        case let .ept(controls):
            if controls.pointer.accessedDirtyEnabled { memory.store64(leafEntry, memory.load64(leafEntry) | 1 << 9) }
        case .npt:
            memory.store64(leafEntry, memory.load64(leafEntry) | 1 << 6)
        }
    }
}

/// `NestedWalker` against `NestedReference` with restrictive, mutated
/// nested tables: every outcome, reference count and memory write compared.
@Suite("NestedWalker against the 2D reference on random layouts in both dimensions")
struct NestedDifferentialTests {
    static let hostOffset: UInt64 = 1 << 40

    @Test("random guest and nested layouts, mutations and accesses",
          arguments: [NestedFixtureKind.ept(accessedDirty: false), .ept(accessedDirty: true), .npt],
          [UInt64(0x2D2D_0001), 0x2D2D_0002])
    func randomTwoDimensionalWalks(kind: NestedFixtureKind, seed: UInt64) throws {
        var random = TranslationSeededGenerator(seed: seed)
        var walks = 0, agreements = 0, skipped = 0
        var outcomes: [String: Int] = [:]
        var mismatches: [String] = []
        for index in 0..<30 {
            let host = SparsePhysicalMemory()
            var guestMemory = OffsetMemory(base: host, offset: Self.hostOffset)
            let layout = try RandomLayout(random: &random, memory: &guestMemory)
            let (paging, nestedRoot) = try Self.randomNestedTables(kind: kind, random: &random, host: host,
                                                                   touching: layout.mapped.map(\.address))
            let walker = NestedWalker(guest: layout.controls, nested: paging)
            let reference = NestedReference(guest: layout.controls, nested: paging, nestedRoot: nestedRoot,
                                            hostOffset: Self.hostOffset)
            for _ in 0..<30 {
                let (address, access) = layout.randomAccess(&random)
                var overlay = OverlayMemory(base: host)
                guard let prediction = reference.predict(address: address, access: access, guestRoot: layout.root,
                                                         memory: &overlay) else {
                    skipped += 1
                    continue
                }
                var memory = host
                var counter = WalkReferenceCounter()
                let result = walker.walk(address, access: access, guestRoot: layout.root, memory: &memory,
                                         observer: &counter)
                let writesAgree = overlay.writes.allSatisfy { host.load64($0.key) == $0.value }
                let agree = result == prediction.result && writesAgree
                    && counter.guest == prediction.guestReferences && counter.nested == prediction.nestedReferences
                walks += 1
                outcomes[Self.kindName(prediction.result), default: 0] += 1
                if agree {
                    agreements += 1
                } else if mismatches.count < 6 {
                    let wrong = overlay.writes.filter { host.load64($0.key) != $0.value }
                        .map { "0x\(String($0.key, radix: 16)): expected 0x\(String($0.value, radix: 16)), got 0x\(String(host.load64($0.key), radix: 16))" }
                    mismatches.append("""
                        \(kind) seed 0x\(String(seed, radix: 16)) layout \(index): \(access) at 0x\(String(address, radix: 16)), \
                        \(layout.controlsDescription)
                          walker: \(result), \(counter.guest) guest + \(counter.nested) nested references
                          reference: \(prediction.result), \(prediction.guestReferences) guest + \(prediction.nestedReferences) nested
                          memory writes that differ: \(wrong)
                        """)
                }
                // The next walk starts from the memory this walker run left.
            }
        }
        let histogram = outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print("differential 2D walks, restrictive nested tables [\(kind), seed 0x\(String(seed, radix: 16))]: "
            + "\(walks) walks (\(histogram)), \(agreements) agree, \(skipped) skipped (a gPA at or above 2^47)")
        #expect(walks + skipped == 30 * 30)
        #expect(walks >= 800, "most walks stay below 2^47")
        #expect(agreements == walks, "\(mismatches.joined(separator: "\n"))")
    }

    static func kindName(_ result: NestedWalkResult) -> String {
        switch result {
        case .translated: "translated"
        case .guestFault: "guest #PF"
        case .eptViolation: "EPT violations"
        case .eptMisconfiguration: "EPT misconfigurations"
        case .nestedPageFault: "#NPF"
        case .nonCanonical: "non-canonical"
        }
    }

    /// Nested tables mapping gPA x to x + hostOffset: 2M pages below 1 GiB
    /// (where the guest tables are), 1G pages up to 64 GiB; the guest
    /// tables' pages read-only now and then; then up to three bit flips on
    /// the nested paths of the guest tables and mapped pages.
    static func randomNestedTables(
        kind: NestedFixtureKind, random: inout TranslationSeededGenerator, host: SparsePhysicalMemory,
        touching: [UInt64]
    ) throws -> (NestedPaging, UInt64) {
        var view = host
        let mode: PagingMode = Bool.random(using: &random) ? .fourLevel : .fiveLevel
        var builder = try PageTableBuilder(format: kind.format, mode: mode,
                                           allocator: FrameAllocator(base: 0x1000_0000, size: 0x10_0000), memory: &view)
        let bits = NestedFixture.permissiveLeafBits(kind)
        try builder.map(virtual: 0, physical: hostOffset, size: .size2M, count: 512, leafBits: bits, memory: &view)
        try builder.map(virtual: 1 << 30, physical: hostOffset + (1 << 30), size: .size1G, count: 63, leafBits: bits,
                        memory: &view)
        // The guest tables' 2M pages: each read-only one time in three, so
        // guest A/D writes meet read-only nested entries.
        for page in 0..<UInt64(3) where Int.random(in: 0..<3, using: &random) == 0 {
            guard let entry = builder.entryAddress(of: page << 21, level: 2, memory: host) else { continue }
            host.store64(entry, host.load64(entry) & ~2)
        }
        let flippable: [UInt64] = kind == .npt ? [0, 1, 2, 5, 6, 63] : [0, 1, 2, 3, 4, 5, 6, 8, 9, 10]
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let target = Int.random(in: 0..<10, using: &random) < 3
                ? 0x10_0000 + UInt64.random(in: 0..<8, using: &random) * 0x1000
                : touching.randomElement(using: &random) ?? 0
            let guestPhysical = target & ((1 << 36) - 1)
            let leafLevel = guestPhysical < 1 << 30 ? 2 : 3
            let level = Int.random(in: 0..<10, using: &random) < 7
                ? leafLevel : Int.random(in: leafLevel...mode.levels, using: &random)
            guard let entry = builder.entryAddress(of: guestPhysical, level: level, memory: host) else { continue }
            host.store64(entry, host.load64(entry) ^ (1 << flippable.randomElement(using: &random)!))
        }
        let paging: NestedPaging
        switch kind {
        case let .ept(accessedDirty):
            paging = .ept(EPTControls(pointer: EPTPointer(root: HostPhysicalAddress(builder.root), mode: mode,
                                                          accessedDirtyEnabled: accessedDirty),
                                      executeOnly: Bool.random(using: &random),
                                      modeBasedExecute: Bool.random(using: &random)))
        case .npt:
            paging = .npt(root: builder.root, controls: PagingControls(
                mode: mode, noExecute: Bool.random(using: &random), protectionKeys: Bool.random(using: &random),
                pkru: UInt32.random(in: 0...UInt32.max, using: &random)))
        }
        return (paging, builder.root)
    }
}
