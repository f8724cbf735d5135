import Testing
@testable import TLB
import Translation
import Workloads

/// `NativeEngine.permissiveWalk` skips the architectural checks when every
/// entry grants all rights and needs no A/D update. These tests compare it
/// with the architectural walker on tables whose entries have random bits
/// cleared or set: where it answers, the walker must give the same
/// translation, the same references and no A/D writes.
@Suite("The native engine's permissive walk against the architectural walker")
struct PermissiveWalkTests {
    /// Bits a mutation may flip: R/W, U/S, A, D, PS, 2M/1G reserved bits, XD.
    static let mutableBits: [UInt64] = [1 << 1, 1 << 2, 1 << 5, 1 << 6, 1 << 7, 1 << 13, 1 << 20, 1 << 63]

    @Test("agrees with the walker wherever it answers", arguments: PageSize.allCases)
    func differential(size: PageSize) throws {
        var random = SplitMix64(seed: 0x5EED &+ UInt64(size.rawValue))
        var engine = try NativeEngine(pageSize: size)
        let arena = StorageArena()
        var recorder = WalkRecorder(arena: arena)
        let base: UInt64 = 0x1000_0000_0000
        let addresses = (0..<64).map { _ in base + random.below(64 * size.bytes) & ~7 }
        for address in addresses { _ = try engine.walk(address, type: .read, recorder: &recorder) }

        // Untouched tables: the permissive walk answers every address.
        for address in addresses {
            #expect(engine.permissiveWalk(address, recorder: &recorder) != nil)
        }

        var answered = 0, declined = 0
        for round in 0..<400 {
            let address = addresses[Int(random.below(UInt64(addresses.count)))]
            // Flip one bit of one entry on the address's path.
            _ = engine.permissiveWalk(address, recorder: &recorder)
            var path = recorder.references
            if path.isEmpty { _ = try engine.walk(address, type: .read, recorder: &recorder); path = recorder.references }
            let victim = path[Int(random.below(UInt64(path.count)))]
            let bit = Self.mutableBits[Int(random.below(UInt64(Self.mutableBits.count)))]
            engine.memory.store64(victim.address, engine.memory.load64(victim.address) ^ bit)

            let type = AccessType.allCases[round % 3]
            let fast = engine.permissiveWalk(address, recorder: &recorder)
            let fastReferences = recorder.references
            guard let fast else {
                declined += 1
                // Restore, so the tables do not drift into faulting everywhere.
                engine.memory.store64(victim.address, engine.memory.load64(victim.address) ^ bit)
                continue
            }
            answered += 1
            let before = fastReferences.map { engine.memory.load64($0.address) }
            var log = WalkLog()
            let result = engine.walker.walk(address, access: MemoryAccess(type, .user), root: engine.builder.root,
                                            memory: &engine.memory, observer: &log)
            guard case let .translated(translation) = result else {
                Issue.record("the walker faulted where the permissive walk answered: \(result)")
                continue
            }
            #expect(translation.pageSize == fast.pageSize)
            #expect(translation.physicalAddress & ~translation.pageSize.offsetMask == fast.frame)
            #expect(log.references == fastReferences)
            #expect(fastReferences.map { engine.memory.load64($0.address) } == before, "no A/D bit was written")
            engine.memory.store64(victim.address, engine.memory.load64(victim.address) ^ bit)
        }
        #expect(answered > 20 && declined > 20, "both outcomes were exercised: \(answered) answered, \(declined) declined")
    }
}
