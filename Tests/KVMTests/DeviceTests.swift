import Glibc
import KVM
import Testing

extension KVMRunnerTests {
    @Suite("KVMDevice") struct DeviceTests {
        @Test("a missing device path is a clear error naming the path")
        func missingDevice() {
            #expect(throws: KVMError.deviceUnavailable(path: "/nonexistent/kvm", .noSuchFileOrDirectory)) {
                try KVMDevice(path: "/nonexistent/kvm")
            }
            let message = KVMError.deviceUnavailable(path: "/nonexistent/kvm", .noSuchFileOrDirectory).description
            #expect(message.contains("/nonexistent/kvm"))
            #expect(message.contains("No such file or directory"))
        }

        @Test("a device that is not KVM fails its API-version ioctl")
        func notKVM() {
            #expect(throws: KVMError.systemCall("KVM_GET_API_VERSION", Errno(rawValue: ENOTTY))) {
                try KVMDevice(path: "/dev/null")
            }
        }

        @Test(.enabled(if: kvmAvailable, "needs /dev/kvm"))
        func capabilitiesAndCPUID() throws {
            let device = try KVMDevice()
            #expect(try device.vcpuMappingSize() >= 4096)
            #expect(try device.capability(.userMemory) == 1)
            let cpuid = try device.supportedCPUID()
            #expect(cpuid.leaf(0) != nil)
            #expect(cpuid.entries.count > 4)
        }
    }
}
