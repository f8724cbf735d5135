import KVM
import Testing

@Suite("Smoke") struct Smoke {
    @Test(.enabled(if: KVMDevice.isAvailable, "needs /dev/kvm"))
    func chase() throws {
        let device = try KVMDevice()
        let session = try GuestSession(device: device, configuration: GuestConfiguration(dataBytes: 4 << 20))
        let permutation = ChasePermutation(pages: 1024, seed: 1)
        let start = permutation.write(into: session.data.base, addressBase: GuestLayout.dataVirtual)
        let result = try session.run(.pointerChase, KernelArguments(rdi: start, rsi: 1024 * 4))
        print(result.cycles, result.cycles / 4096, result.vmStatistics.filter { $0.value != 0 }, result.vcpuStatistics.filter { $0.value != 0 })
        #expect(result.state == start)
        #expect(result.checksum == 4 &* permutation.lapChecksum(addressBase: GuestLayout.dataVirtual))
    }
}
