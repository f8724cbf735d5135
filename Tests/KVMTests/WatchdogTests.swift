import KVM
import Testing

extension KVMRunnerTests {
    @Suite("Watchdog") struct WatchdogTests {
        @Test("an endless guest loop is stopped and reported", .enabled(if: kvmAvailable, "needs /dev/kvm"))
        func stopsEndlessLoop() throws {
            let session = try GuestSession(device: try KVMDevice(), configuration: GuestConfiguration(dataBytes: 1 << 20))
            #expect(throws: KVMError.watchdogTimeout(seconds: 0.3)) {
                try session.run(.spin, KernelArguments(), timeLimit: 0.3)
            }
            // The vCPU is usable again afterwards.
            let result = try session.run(.firstTouch, KernelArguments(rdi: GuestLayout.dataVirtual, rsi: 4, rdx: 4096))
            #expect(result.checksum == 4)
        }
    }
}
