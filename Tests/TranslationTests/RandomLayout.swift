import Translation
import VMemLabTestSupport

/// A random x86-64 page-table layout for differential tests: random
/// controls, eight random mappings of random sizes and leaf bits, then six
/// random bit flips on random entries of their paths. Tables come from
/// physical (or guest-physical) 0x10_0000 up; pages map to 4 GiB..64 GiB.
struct RandomLayout {
    var controls: PagingControls
    var root: UInt64
    var mapped: [(address: UInt64, size: PageSize)] = []

    init<Memory: PhysicalMemory>(random: inout TranslationSeededGenerator, memory: inout Memory) throws {
        controls = RandomLayout.randomControls(&random)
        var builder = try PageTableBuilder(format: .x86, mode: controls.mode,
                                           allocator: FrameAllocator(base: 0x10_0000, size: 0x40_0000), memory: &memory)
        root = builder.root
        for _ in 0..<8 {
            let size: PageSize = [.size4K, .size4K, .size4K, .size2M, .size2M, .size1G].randomElement(using: &random)!
            let virtual = UInt64.random(in: 0..<(1 << (controls.mode.addressBits - 1)), using: &random)
                & ~size.offsetMask
            let physical = UInt64.random(in: 0x1_0000_0000..<(1 << 36), using: &random) & ~size.offsetMask
            do {
                try builder.map(virtual: virtual, physical: physical, size: size,
                                leafBits: RandomLayout.randomLeafBits(&random), memory: &memory)
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
            let bit = RandomLayout.mutableBits(controls, largeLeaf: isLargeLeaf).randomElement(using: &random)!
            memory.store64(entry, memory.load64(entry) ^ (1 << bit))
        }
    }

    /// An address inside a mapped page (eight times in ten) or any 64-bit
    /// value, and any access.
    func randomAccess(_ random: inout TranslationSeededGenerator) -> (address: UInt64, access: MemoryAccess) {
        let address: UInt64
        if let target = mapped.randomElement(using: &random), Int.random(in: 0..<10, using: &random) < 8 {
            address = target.address + UInt64.random(in: 0..<target.size.bytes, using: &random)
        } else {
            address = random.next()
        }
        let access = MemoryAccess(AccessType.allCases.randomElement(using: &random)!,
                                  AccessPrivilege.allCases.randomElement(using: &random)!)
        return (address, access)
    }

    /// The controls, readably, for mismatch reports.
    var controlsDescription: String {
        "\(controls.mode) NXE \(controls.noExecute) WP \(controls.writeProtect) SMEP \(controls.smep) "
            + "SMAP \(controls.smap) AC \(controls.alignmentCheck) PKE \(controls.protectionKeys) "
            + "PKRU 0x\(String(controls.pkru, radix: 16)) MAXPHYADDR \(controls.maxPhysicalAddressBits) "
            + "1G \(controls.supports1GPages)"
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
