import Experiments
import Foundation
import Testing

@Suite struct HostProbeTests {
    static let cpuinfo = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        cpu family\t: 26
        model\t\t: 2
        model name\t: AMD EPYC
        flags\t\t: fpu vme de pse hypervisor lahf_lm

        processor\t: 1
        cpu family\t: 99
        model name\t: Other

        """

    @Test func readsTheFirstProcessorsModelFamilyAndHypervisorBit() throws {
        let root = try temporaryDirectory()
        try writeFixture(Self.cpuinfo, "proc/cpuinfo", under: root)
        let cpu = HostProbe(root: root).cpu()
        #expect(cpu == HostProbe.CPU(name: "AMD EPYC", family: "26", model: "2", hypervisor: true))
    }

    @Test func pvmIsReportedWhenItsModuleIsLoaded() throws {
        let root = try temporaryDirectory()
        try writeFixture("N\n", "sys/module/kvm/parameters/tdp_mmu", under: root)
        try writeFixture("Y\n", "sys/module/kvm_pvm/parameters/pvm_native", under: root)
        let probe = HostProbe(root: root)
        #expect(probe.kvmMode() == "pvm")
        #expect(probe.kvmParameters() == "kvm.tdp_mmu=N kvm_pvm.pvm_native=Y")
    }

    @Test(arguments: [
        ("kvm_intel", "ept", "Y", "ept"), ("kvm_intel", "ept", "N", "shadow"),
        ("kvm_amd", "npt", "1", "npt"), ("kvm_amd", "npt", "0", "shadow"),
    ])
    func twoDimensionalPagingOrShadow(module: String, parameter: String, value: String, mode: String) throws {
        let root = try temporaryDirectory()
        try writeFixture(value, "sys/module/\(module)/parameters/\(parameter)", under: root)
        #expect(HostProbe(root: root).kvmMode() == mode)
        #expect(HostProbe(root: root).kvmParameters() == "\(module).\(parameter)=\(value)")
    }

    @Test func noKVMAtAll() throws {
        let probe = HostProbe(root: try temporaryDirectory())
        #expect(probe.kvmMode() == "none")
        #expect(probe.kvmParameters() == "none")
        #expect(probe.thpMode() == "unknown")
        #expect(probe.kernel() == "unknown")
        #expect(probe.libnumaVersion() == "unknown")
    }

    @Test func thpKernelAndLibnumaFromTheirFiles() throws {
        let root = try temporaryDirectory()
        try writeFixture("always [madvise] never\n", "sys/kernel/mm/transparent_hugepage/enabled", under: root)
        try writeFixture("Linux\n", "proc/sys/kernel/ostype", under: root)
        try writeFixture("6.1.0-test\n", "proc/sys/kernel/osrelease", under: root)
        try writeFixture("""
            Package: libnuma-dev
            Status: install ok installed
            Version: 9.9

            Package: libnuma1
            Status: install ok installed
            Version: 2.0.16-1

            """, "var/lib/dpkg/status", under: root)
        let probe = HostProbe(root: root)
        #expect(probe.thpMode() == "madvise")
        #expect(probe.kernel() == "Linux 6.1.0-test")
        #expect(probe.libnumaVersion() == "2.0.16-1")
    }

    @Test func libnumaFromTheLibraryFileNameWithoutDpkg() throws {
        let root = try temporaryDirectory()
        try writeFixture("", "usr/lib64/libnuma.so.1", under: root)
        try writeFixture("", "usr/lib64/libnuma.so.1.0.0", under: root)
        #expect(HostProbe(root: root).libnumaVersion() == "so.1.0.0")
    }

    @Test func gitRevisionOfThisCheckoutOrUnknownOutsideOne() throws {
        let revision = HostProbe.gitRevision(in: HostProbe.buildSourceDirectory)
        #expect(revision.prefix(40).allSatisfy { $0.isHexDigit })
        #expect(revision.count == 40 || (revision.count == 46 && revision.hasSuffix("-dirty")))
        #expect(HostProbe.gitRevision(in: try temporaryDirectory()) == "unknown")
    }
}
