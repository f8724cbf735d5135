import CKVM
@testable import KVM
import Testing

extension KVMRunnerTests {
    /// Exits the guests here cannot produce (PVM faults a CPL3 `out`), decoded
    /// from a `kvm_run` filled in by hand.
    @Suite("VMExit decoding") struct ExitDecodingTests {
        func decode(_ fill: (inout kvm_run) -> Void) -> VMExit {
            var run = kvm_run()
            fill(&run)
            return withUnsafePointer(to: &run) { VMExit(run: $0) }
        }

        @Test func portOutput() {
            let exit = decode { run in
                run.exit_reason = UInt32(KVM_EXIT_IO)
                run.io.direction = UInt8(KVM_EXIT_IO_OUT)
                run.io.size = 1
                run.io.port = 0x10
                run.io.count = 1
            }
            #expect(exit == .io(port: 0x10, isOut: true, size: 1, count: 1))
        }

        @Test func mmioWrite() {
            let exit = decode { run in
                run.exit_reason = UInt32(KVM_EXIT_MMIO)
                run.mmio.phys_addr = 0xE000_0000
                run.mmio.len = 1
                run.mmio.is_write = 1
            }
            #expect(exit == .mmio(address: 0xE000_0000, length: 1, isWrite: true))
        }

        @Test("known reasons without fields", arguments: [
            (KVM_EXIT_HLT, VMExit.halt), (KVM_EXIT_SHUTDOWN, .shutdown), (KVM_EXIT_INTR, .interrupted),
            (KVM_EXIT_DIRTY_RING_FULL, .dirtyRingFull),
        ])
        func simple(reason: Int32, expected: VMExit) {
            #expect(decode { $0.exit_reason = UInt32(reason) } == expected)
        }

        @Test("an unknown reason keeps its number")
        func unknown() {
            #expect(decode { $0.exit_reason = 999 } == .unknown(999))
            #expect(VMExit.unknown(999).description.contains("999"))
        }
    }
}
