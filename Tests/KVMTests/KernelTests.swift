import KVM
import Testing
import Translation

/// The guest's view of data offset `offset`.
private func dataAddress(_ offset: Int) -> UInt64 { GuestLayout.dataVirtual + UInt64(offset) }

/// One step of the kernels' LCG.
private func lcg(_ state: UInt64) -> UInt64 {
    state &* MeasurementKernel.lcgMultiplier &+ MeasurementKernel.lcgIncrement
}

extension KVMRunnerTests {
    @Suite("Measurement kernels") struct KernelTests {
        static let device = try? KVMDevice()

        func session(_ configuration: GuestConfiguration) throws -> GuestSession {
            try GuestSession(device: try #require(Self.device), configuration: configuration)
        }

        @Test("the chase visits the whole permutation", .enabled(if: kvmAvailable, "needs /dev/kvm"),
              arguments: [PageSize.size4K, .size2M])
        func pointerChase(guestPage: PageSize) throws {
            let session = try session(GuestConfiguration(dataBytes: 8 << 20, guestPage: guestPage))
            let permutation = ChasePermutation(pages: 2048, seed: 7)
            let start = permutation.write(into: session.data.base, addressBase: GuestLayout.dataVirtual)
            let laps: UInt64 = 3
            let result = try session.run(.pointerChase, KernelArguments(rdi: start, rsi: laps * 2048))
            #expect(result.state == start)
            #expect(result.checksum == laps &* permutation.lapChecksum(addressBase: GuestLayout.dataVirtual))
            #expect(result.cycles > 0)
            // A lap that stops one short ends on the last node instead.
            let short = try session.run(.pointerChase, KernelArguments(rdi: start, rsi: 2047))
            #expect(short.state != start)
        }

        @Test("the chase runs on 1 GiB guest pages where KVM offers Page1GB",
              .enabled(if: kvmAvailable && ((try? KVMDevice().supportedCPUID().supportsGigabytePages) ?? false),
                       "needs /dev/kvm with Page1GB in KVM_GET_SUPPORTED_CPUID"))
        func gigabytePageChase() throws {
            try pointerChase(guestPage: .size1G)
        }

        @Test("1 GiB guest pages without Page1GB are refused with a reason",
              .enabled(if: kvmAvailable && !((try? KVMDevice().supportedCPUID().supportsGigabytePages) ?? true),
                       "needs /dev/kvm without Page1GB"))
        func gigabytePagesRefused() throws {
            #expect(throws: KVMError.missingCapability("1 GiB guest pages (Page1GB in KVM_GET_SUPPORTED_CPUID)")) {
                try session(GuestConfiguration(dataBytes: 4096, guestPage: .size1G))
            }
        }

        @Test("the chase runs under 5-level paging where the host has LA57",
              .enabled(if: kvmAvailable && ((try? KVMDevice().supportedCPUID().supportsFiveLevelPaging) ?? false),
                       "needs /dev/kvm with LA57"))
        func fiveLevelChase() throws {
            let session = try session(GuestConfiguration(dataBytes: 2 << 20, pagingMode: .fiveLevel))
            let permutation = ChasePermutation(pages: 512, seed: 3)
            let start = permutation.write(into: session.data.base, addressBase: GuestLayout.dataVirtual)
            let result = try session.run(.pointerChase, KernelArguments(rdi: start, rsi: 512))
            #expect(result.checksum == permutation.lapChecksum(addressBase: GuestLayout.dataVirtual))
        }

        @Test("the native chase matches the guest's checksum rule")
        func nativeChase() throws {
            let memory = try HostMemory(size: 4 << 20, backing: .anonymous4K)
            let permutation = ChasePermutation(pages: 1024, seed: 9)
            let base = UInt64(UInt(bitPattern: memory.base))
            let start = permutation.write(into: memory.base, addressBase: base)
            let result = NativeChase.run(start: UnsafeRawPointer(bitPattern: UInt(start))!, steps: 2048)
            #expect(result.last == start)
            #expect(result.checksum == 2 &* permutation.lapChecksum(addressBase: base))
        }

        @Test("random loads read the words the LCG names", .enabled(if: kvmAvailable, "needs /dev/kvm"))
        func randomLoads() throws {
            let bytes = 1 << 20
            let session = try session(GuestConfiguration(dataBytes: bytes))
            let words = session.data.base.assumingMemoryBound(to: UInt64.self)
            for index in 0..<(bytes / 8) { words[index] = UInt64(index) &* 0x9E37_79B9 }
            let seed: UInt64 = 12345, loads: UInt64 = 5000
            let result = try session.run(.randomLoads, KernelArguments(rdi: dataAddress(0), rsi: loads,
                                                                       rdx: UInt64(bytes - 1), rcx: seed))
            var state = seed, sum: UInt64 = 0
            for _ in 0..<loads {
                state = lcg(state)
                sum &+= words[Int((state >> 20) & UInt64(bytes - 1) & ~7) / 8]
            }
            #expect(result.state == state)
            #expect(result.checksum == sum)
        }

        @Test("the strided sweep wraps at its length", .enabled(if: kvmAvailable, "needs /dev/kvm"))
        func stridedSweep() throws {
            let session = try session(GuestConfiguration(dataBytes: 64 << 10))
            let words = session.data.base.assumingMemoryBound(to: UInt64.self)
            for index in 0..<(8192) { words[index] = UInt64(index) }
            // Stride 4 KiB over 64 KiB: words 0, 512, ..., 7680, then again.
            let result = try session.run(.stridedSweep, KernelArguments(rdi: dataAddress(0), rsi: 40, rdx: 4096,
                                                                        rcx: 64 << 10))
            let lap = (0..<16).reduce(UInt64(0)) { $0 + UInt64($1 * 512) }
            let expected = 2 * lap + (0..<8).reduce(UInt64(0)) { $0 + UInt64($1 * 512) }
            #expect(result.checksum == expected)
            #expect(result.state == 8 * 4096)
        }

        @Test("GUPS leaves the table the LCG predicts", .enabled(if: kvmAvailable, "needs /dev/kvm"))
        func gups() throws {
            let wordsCount = 1 << 16
            let session = try session(GuestConfiguration(dataBytes: wordsCount * 8))
            let table = session.data.base.assumingMemoryBound(to: UInt64.self)
            table.initialize(repeating: 0, count: wordsCount)
            let seed: UInt64 = 99, updates: UInt64 = 20000
            let result = try session.run(.gups, KernelArguments(rdi: dataAddress(0), rsi: updates,
                                                                rdx: UInt64(wordsCount - 1), rcx: seed))
            var expected = [UInt64](repeating: 0, count: wordsCount)
            var state = seed
            for _ in 0..<updates {
                state = lcg(state)
                expected[Int((state >> 20) & UInt64(wordsCount - 1))] ^= state
            }
            #expect(result.state == state)
            #expect(result.checksum == updates)
            #expect(Array(UnsafeBufferPointer(start: table, count: wordsCount)) == expected)
        }

        @Test("the store loop writes its target", .enabled(if: kvmAvailable, "needs /dev/kvm"))
        func storeLoop() throws {
            let session = try session(GuestConfiguration(dataBytes: 4096))
            let result = try session.run(.storeLoop, KernelArguments(rdi: dataAddress(64), rsi: 1000, rdx: 0xABCD))
            #expect(session.data.base.load(fromByteOffset: 64, as: UInt64.self) == 0xABCD)
            #expect(result.checksum == 1000)
        }

        @Test("stores into the guest's own page tables: leaf and non-leaf", .enabled(if: kvmAvailable, "needs /dev/kvm"),
              arguments: [1, 2])
        func pageTableStores(level: Int) throws {
            let session = try session(GuestConfiguration(dataBytes: 4096, mapPageTablesIntoGuest: true))
            let target = try session.unusedEntryVirtualAddress(level: level)
            // Storing 0 into an unused entry changes no translation; the guest keeps running.
            let result = try session.run(.storeLoop, KernelArguments(rdi: target, rsi: 50, rdx: 0))
            #expect(result.checksum == 50)
            #expect(result.state == target)
        }

        @Test("first touch writes each page's own address", .enabled(if: kvmAvailable, "needs /dev/kvm"),
              arguments: [HostBacking.anonymous4K, .transparentHuge])
        func firstTouch(backing: HostBacking) throws {
            let pages = 512
            let session = try session(GuestConfiguration(dataBytes: pages * 4096, backing: backing))
            let result = try session.run(.firstTouch, KernelArguments(rdi: dataAddress(0), rsi: UInt64(pages), rdx: 4096))
            #expect(result.checksum == UInt64(pages))
            #expect(result.state == dataAddress(pages * 4096))
            for page in [0, 1, pages / 2, pages - 1] {
                #expect(session.data.base.load(fromByteOffset: page * 4096, as: UInt64.self) == dataAddress(page * 4096))
            }
            #expect(result.vcpu("pf_fixed") >= 1)
        }

        @Test("the dirty log records exactly the pages the sweep wrote", .enabled(if: kvmAvailable, "needs /dev/kvm"))
        func dirtyLog() throws {
            let pages = 256
            let session = try session(GuestConfiguration(dataBytes: pages * 4096, dataSlotFlags: .logDirtyPages))
            let empty = try session.vm.dirtyLog(slot: GuestLayout.dataSlot)
            #expect(empty.dirtyCount == 0)
            // Every second page.
            _ = try session.run(.writeSweep, KernelArguments(rdi: dataAddress(0), rsi: UInt64(pages / 2), rdx: 8192, rcx: 7))
            let bitmap = try session.vm.dirtyLog(slot: GuestLayout.dataSlot)
            #expect(bitmap.dirtyCount == pages / 2)
            #expect(bitmap.isDirty(0) && !bitmap.isDirty(1) && bitmap.isDirty(pages - 2))
            #expect(session.data.base.load(fromByteOffset: 8192, as: UInt64.self) == 7)
            // KVM_GET_DIRTY_LOG without manual protection cleared it.
            #expect(try session.vm.dirtyLog(slot: GuestLayout.dataSlot).dirtyCount == 0)
        }
    }
}

extension KVMRunnerTests {
    @Suite("Dirty ring") struct DirtyRingTests {
        @Test("the ring collects exactly the pages written",
              .enabled(if: kvmAvailable && ((try? KVMDevice().makeVirtualMachine().capability(.dirtyLogRing)) ?? 0) >= 65536, "needs /dev/kvm with a dirty ring"))
        func ringCollectsWrites() throws {
            let pages = 256
            let session = try GuestSession(device: try KVMDevice(),
                                           configuration: GuestConfiguration(dataBytes: pages * 4096, dataSlotFlags: .logDirtyPages,
                                                                             dirtyRingBytes: 65536))
            _ = try session.run(.writeSweep, KernelArguments(rdi: GuestLayout.dataVirtual, rsi: UInt64(pages / 2), rdx: 8192, rcx: 5))
            let dirty = try session.harvestDirtyData()
            #expect(Set(dirty) == Set((0..<pages / 2).map { UInt64($0 * 2) }))
            #expect(try session.harvestDirtyData().isEmpty)
            // After the reset, writes are logged again.
            _ = try session.run(.writeSweep, KernelArguments(rdi: GuestLayout.dataVirtual + 4096, rsi: 3, rdx: 4096, rcx: 6))
            #expect(Set(try session.harvestDirtyData()) == [1, 2, 3])
        }
    }
}
