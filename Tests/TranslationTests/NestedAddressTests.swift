import Testing
import Translation
import VMemLabTestSupport

/// Nested translations are of guest-physical addresses, not linear ones:
/// rules that belong to linear addresses (canonical form, protection keys)
/// do not apply to them (SDM vol. 3A §4.6.2 and AMD APM vol. 2 §5.6.7 tie
/// protection keys to linear addresses; a physical address has no
/// canonical form).
@Suite("NestedWalker: guest-physical addresses under NPT and EPT")
struct NestedAddressTests {
    /// A guest page at guest-physical `guestPhysical`, mapped by nested tables of `kind`.
    static func walk(
        guestPhysical: UInt64, kind: NestedFixtureKind, hostControls: PagingControls = PagingControls(),
        access: MemoryAccess = .userWrite
    ) throws -> NestedWalkResult {
        let memory = SparsePhysicalMemory()
        var host = memory
        let hostOffset: UInt64 = 0x1_0000_0000
        var guestView = OffsetMemory(base: memory, offset: hostOffset)
        let virtual = SinglePathFixture.sampleVirtualAddress(mode: .fourLevel)
        var guest = try PageTableBuilder(format: .x86, mode: .fourLevel,
                                         allocator: FrameAllocator(base: 0x20_0000, size: 0x1_0000), memory: &guestView)
        try guest.map(virtual: virtual, physical: guestPhysical, size: .size4K, leafBits: 0x7, memory: &guestView)
        var nested = try PageTableBuilder(format: kind.format, mode: .fourLevel,
                                          allocator: FrameAllocator(base: 0x1000_0000, size: 0x1_0000), memory: &host)
        let leafBits = NestedFixture.permissiveLeafBits(kind)
        try nested.map(virtual: 0x20_0000, physical: 0x20_0000 + hostOffset, size: .size2M, leafBits: leafBits,
                       memory: &host)
        try nested.map(virtual: guestPhysical, physical: 0x5000_0000, size: .size4K, leafBits: leafBits, memory: &host)
        let paging: NestedPaging
        switch kind {
        case .npt:
            paging = .npt(root: nested.root, controls: hostControls)
        case let .ept(accessedDirty):
            paging = .ept(EPTControls(pointer: EPTPointer(root: HostPhysicalAddress(nested.root), mode: .fourLevel,
                                                          accessedDirtyEnabled: accessedDirty)))
        }
        var observer = NoWalkObserver()
        return NestedWalker(guest: PagingControls(), nested: paging)
            .walk(virtual + 0x10, access: access, guestRoot: guest.root, memory: &host, observer: &observer)
    }

    static let highGuestPhysical: [UInt64] = [0x0000_8000_0000_0000, 0x0000_FFFF_FFFF_F000, 0x0000_7FFF_FFFF_F000]

    @Test("a guest-physical address with bit 47 set translates under 4-level nested paging",
          arguments: [NestedFixtureKind.npt, .ept(accessedDirty: false)], highGuestPhysical)
    func guestPhysicalAddressesHaveNoCanonicalForm(kind: NestedFixtureKind, guestPhysical: UInt64) throws {
        let result = try Self.walk(guestPhysical: guestPhysical, kind: kind)
        guard case let .translated(translation) = result else {
            Issue.record("\(kind): gPA 0x\(String(guestPhysical, radix: 16)) is inside the 48-bit reach, got \(result)")
            return
        }
        #expect(translation.guestPhysical == guestPhysical + 0x10)
        #expect(translation.hostPhysical == 0x5000_0010)
    }

    @Test("NPT: the host's protection keys do not govern nested translations", arguments: [MemoryAccess.userRead, .userWrite])
    func protectionKeysDoNotApplyToNestedWalks(access: MemoryAccess) throws {
        // PKE on, every key access-disabled: a linear access to a user page would fault.
        let hostControls = PagingControls(protectionKeys: true, pkru: 0x5555_5555)
        let result = try Self.walk(guestPhysical: 0x4000_0000, kind: .npt, hostControls: hostControls, access: access)
        guard case .translated = result else {
            Issue.record("nested walks translate guest-physical addresses, which have no protection key; got \(result)")
            return
        }
    }
}
