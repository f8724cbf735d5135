import KVM
import Testing

extension KVMRunnerTests {
    @Suite("ChasePermutation") struct PermutationTests {
        @Test(arguments: [1, 2, 3, 100, 4096])
        func isOneCycle(pages: Int) throws {
            let permutation = ChasePermutation(pages: pages, seed: UInt64(pages))
            #expect(Set(permutation.order).count == pages)
            let memory = UnsafeMutableRawPointer.allocate(byteCount: pages * 4096, alignment: 4096)
            defer { memory.deallocate() }
            let start = permutation.write(into: memory, addressBase: 0)
            var pointer = start, visited = Set<UInt64>()
            for _ in 0..<pages {
                visited.insert(pointer)
                pointer = memory.load(fromByteOffset: Int(pointer), as: UInt64.self)
            }
            #expect(pointer == start)
            #expect(visited.count == pages)
            #expect(visited.reduce(0, &+) == permutation.lapChecksum(addressBase: 0))
        }

        @Test func differentSeedsDiffer() {
            #expect(ChasePermutation(pages: 64, seed: 1).order != ChasePermutation(pages: 64, seed: 2).order)
        }
    }

    @Suite("HostEnvironment") struct HostEnvironmentTests {
        @Test(arguments: [("always [madvise] never", "madvise"), ("[always] madvise never", "always"), ("garbage", nil)])
        func thpMode(text: String, expected: String?) {
            #expect(HostEnvironment.selectedMode(text) == expected)
        }

        @Test("detects the mode from module parameters")
        func detectsFromFakeSysfs() throws {
            let root = FileManagerShim.temporaryDirectory()
            try FileManagerShim.write("Y\n", to: "\(root)/module/kvm_amd/parameters/npt")
            try FileManagerShim.write("N\n", to: "\(root)/module/kvm/parameters/tdp_mmu")
            try FileManagerShim.write("always madvise [never]\n", to: "\(root)/kernel/mm/transparent_hugepage/enabled")
            let environment = HostEnvironment.detect(sysfsRoot: root)
            #expect(environment.kvmMode == "kvm_amd-npt")
            #expect(environment.tdpMMU == "N")
            #expect(environment.thpMode == "never")
            try FileManagerShim.write("0\n", to: "\(root)/module/kvm_amd/parameters/npt")
            #expect(HostEnvironment.detect(sysfsRoot: root).kvmMode == "kvm_amd-shadow")
            try FileManagerShim.write("", to: "\(root)/module/kvm_pvm/parameters/stats")
            #expect(HostEnvironment.detect(sysfsRoot: root).kvmMode == "kvm_pvm-shadow")
            #expect(HostEnvironment.detect(sysfsRoot: "\(root)/missing").kvmMode == "none")
        }
    }
}
