import Testing
import Translation
import VMemLabTestSupport

@Suite("SparsePhysicalMemory and OffsetMemory")
struct PhysicalMemoryTests {
    @Test("unwritten memory reads zero and reading allocates nothing")
    func unwrittenReadsZero() {
        let memory = SparsePhysicalMemory()
        for address: UInt64 in [0, 0x1000, 0xFFF8, 1 << 40, (1 << 52) - 8] {
            #expect(memory.load64(address) == 0)
            #expect(!memory.isBacked(address))
        }
        #expect(memory.frameCount == 0)
    }

    @Test("words round-trip, neighbours stay independent, and a frame is allocated once")
    func roundTrip() {
        let memory = SparsePhysicalMemory()
        memory.store64(0x2008, 0xDEAD_BEEF_0000_0001)
        memory.store64(0x2010, 0x0123_4567_89AB_CDEF)
        #expect(memory.load64(0x2008) == 0xDEAD_BEEF_0000_0001)
        #expect(memory.load64(0x2010) == 0x0123_4567_89AB_CDEF)
        #expect(memory.load64(0x2000) == 0 && memory.load64(0x2018) == 0 && memory.load64(0x3008) == 0)
        #expect(memory.frameCount == 1)
        #expect(memory.isBacked(0x2FF8) && !memory.isBacked(0x3000))
        memory.store64(0x2008, 0)
        #expect(memory.load64(0x2008) == 0 && memory.frameCount == 1, "writing zero keeps the frame")
    }

    @Test("growing far past the initial capacity keeps every word")
    func growthKeepsContents() {
        let memory = SparsePhysicalMemory(initialFrames: 8)
        var random = TranslationSeededGenerator(seed: 42)
        var expected: [UInt64: UInt64] = [:]
        // Scattered frames up to 2^52, and a dense run whose hashes crowd together.
        let frames = (0..<3000).map { _ in random.next() & ((1 << 40) - 1) } + (0..<100).map { UInt64($0) }
        for frame in frames {
            let value = random.next()
            memory.store64(frame << 12, value)
            memory.store64((frame << 12) + 0xFF8, ~value)
            expected[frame] = value
        }
        #expect(memory.frameCount == expected.count)
        let intact = expected.filter { frame, value in
            memory.load64(frame << 12) == value && memory.load64((frame << 12) + 0xFF8) == ~value
                && memory.load64((frame << 12) + 0x800) == 0
        }
        #expect(intact.count == expected.count)
        #expect(memory.load64(1 << 51) == 0, "a frame never written still reads zero")
    }

    @Test("copies of a sparse memory share it")
    func referenceSemantics() {
        let memory = SparsePhysicalMemory()
        let copy = memory
        copy.store64(0x8000, 7)
        #expect(memory.load64(0x8000) == 7)
    }

    @Test("an offset view reads and writes the base at address + offset, and views compose")
    func offsetMemory() {
        let memory = SparsePhysicalMemory()
        var view = OffsetMemory(base: memory, offset: 0x1_0000_0000)
        view.store64(0x2000, 0xAB)
        #expect(memory.load64(0x1_0000_2000) == 0xAB)
        #expect(memory.load64(0x2000) == 0)
        memory.store64(0x1_0000_3000, 0xCD)
        #expect(view.load64(0x3000) == 0xCD)
        #expect(view.offset == 0x1_0000_0000)

        var nested = OffsetMemory(base: view, offset: 0x40_0000)
        nested.store64(0x10, 0xEF)
        #expect(memory.load64(0x1_0040_0010) == 0xEF)
        #expect(nested.load64(0x10) == 0xEF)
    }
}
