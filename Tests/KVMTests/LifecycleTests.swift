import Glibc
import KVM
import Testing
import Translation

extension KVMRunnerTests {
    @Suite("VM lifecycle and memslots") struct LifecycleTests {
        @Test(.enabled(if: kvmAvailable, "needs /dev/kvm"))
        func createAndDestroy() throws {
            let device = try KVMDevice()
            let vm = try device.makeVirtualMachine()
            let memory = try HostMemory(size: 1 << 20, backing: .anonymous4K)
            try vm.setMemorySlot(MemorySlot(slot: 0, guestPhysicalAddress: 0, size: UInt64(memory.size),
                                            hostAddress: UInt(bitPattern: memory.base)), owner: memory)
            let vcpu = try vm.makeVirtualCPU()
            let thread = try VCPUThread(vcpu: vcpu)
            let id = try thread.perform { vcpu in vcpu.id }
            #expect(id == 0)
            #expect(vm.slots.count == 1)
        }

        @Test(.enabled(if: kvmAvailable, "needs /dev/kvm"))
        func overlappingMemslotIsAnError() throws {
            let vm = try KVMDevice().makeVirtualMachine()
            let memory = try HostMemory(size: 4 << 20, backing: .anonymous4K)
            let host = UInt(bitPattern: memory.base)
            try vm.setMemorySlot(MemorySlot(slot: 0, guestPhysicalAddress: 0x10_0000, size: 2 << 20, hostAddress: host),
                                 owner: memory)
            #expect(throws: KVMError.memorySlotOverlaps(slot: 1, existing: 0)) {
                try vm.setMemorySlot(MemorySlot(slot: 1, guestPhysicalAddress: 0x20_0000, size: 1 << 20,
                                                hostAddress: host + (2 << 20)), owner: memory)
            }
            // Adjacent is fine.
            try vm.setMemorySlot(MemorySlot(slot: 1, guestPhysicalAddress: 0x30_0000, size: 1 << 20,
                                            hostAddress: host + (2 << 20)), owner: memory)
            #expect(throws: KVMError.memorySlotMisaligned(slot: 2)) {
                try vm.setMemorySlot(MemorySlot(slot: 2, guestPhysicalAddress: 0x40_0800, size: 4096,
                                                hostAddress: host), owner: memory)
            }
        }

        @Test(.enabled(if: kvmAvailable, "needs /dev/kvm"))
        func statisticsHaveDescriptorsAndValues() throws {
            let vm = try KVMDevice().makeVirtualMachine()
            let statistics = try vm.statistics()
            #expect(!statistics.descriptors.isEmpty)
            let snapshot = try statistics.snapshot()
            #expect(snapshot.values.count == statistics.descriptors.count)
            #expect(snapshot.delta(since: snapshot).values.allSatisfy { $0 == 0 })
        }

        @Test("no descriptor or memory leaks across 200 VMs", .enabled(if: kvmAvailable, "needs /dev/kvm"))
        func noLeaks() throws {
            let device = try KVMDevice()
            let cpuid = try device.supportedCPUID()
            let configuration = GuestConfiguration(dataBytes: 2 << 20)
            // One VM first, so that lazily opened process-wide files exist.
            _ = try GuestSession(device: device, configuration: configuration, cpuid: cpuid)
            let descriptors = try openDescriptorCount()
            let resident = try residentBytes()
            for _ in 0..<200 {
                let session = try GuestSession(device: device, configuration: configuration, cpuid: cpuid)
                // The guest touches all 512 pages: 2 MiB per VM, 400 MiB in all, if memory leaked.
                _ = try session.run(.firstTouch, KernelArguments(rdi: GuestLayout.dataVirtual, rsi: 512, rdx: 4096))
            }
            #expect(descriptors >= 1)
            #expect(try openDescriptorCount() == descriptors)
            // Other test targets run in this process too: allow them 150 MiB.
            #expect(try residentBytes() - resident < 150 << 20)
        }

        @Test("an unexpected exit is reported, not fatal", .enabled(if: kvmAvailable, "needs /dev/kvm"))
        func unexpectedExit() throws {
            let session = try GuestSession(device: try KVMDevice(), configuration: GuestConfiguration(dataBytes: 4096))
            // Chasing from an unmapped address faults at CPL3 with no IDT: a triple fault.
            #expect {
                try session.run(.pointerChase, KernelArguments(rdi: 0x7000_0000, rsi: 1))
            } throws: { error in
                guard case let .unexpectedExit(exit, _)? = error as? KVMError else { return false }
                return exit == .shutdown
            }
        }

        @Test("bad kernel arguments are refused", .enabled(if: kvmAvailable, "needs /dev/kvm"))
        func zeroCount() throws {
            let session = try GuestSession(device: try KVMDevice(), configuration: GuestConfiguration(dataBytes: 4096))
            #expect(throws: KVMError.invalidArgument("a kernel needs a count of at least 1")) {
                try session.run(.storeLoop, KernelArguments(rdi: GuestLayout.dataVirtual, rsi: 0))
            }
            #expect(throws: KVMError.self) {
                try session.unusedEntryVirtualAddress(level: 1)
            }
        }
    }
}
