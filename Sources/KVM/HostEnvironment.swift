import CKVM
import Foundation

/// What kind of KVM host the measurements ran on, written on every row:
/// the virtualization mode, the TDP MMU setting, whether the host is itself
/// a guest, the THP mode and the kernel.
public struct HostEnvironment: Sendable, Hashable {
    /// `kvm_intel-ept`, `kvm_intel-shadow` (ept=0), `kvm_amd-npt`,
    /// `kvm_amd-shadow` (npt=0), `kvm_pvm-shadow`, or `none`.
    public var kvmMode: String
    /// The `kvm` module's `tdp_mmu` parameter (`Y`, `N`, or `unknown`).
    public var tdpMMU: String
    /// Whether this host runs under a hypervisor (CPUID.1:ECX[31]).
    public var nested: Bool
    /// The transparent-huge-page mode: `always`, `madvise` or `never`.
    public var thpMode: String
    /// The running kernel's release (`uname -r`).
    public var kernel: String

    public init(kvmMode: String, tdpMMU: String, nested: Bool, thpMode: String, kernel: String) {
        self.kvmMode = kvmMode
        self.tdpMMU = tdpMMU
        self.nested = nested
        self.thpMode = thpMode
        self.kernel = kernel
    }

    /// Reads `/sys/module/*/parameters`, `/sys/kernel/mm/transparent_hugepage`,
    /// CPUID and `uname`, under `sysfsRoot` (for tests).
    public static func detect(sysfsRoot: String = "/sys") -> HostEnvironment {
        func parameter(_ module: String, _ name: String) -> String? {
            (try? String(contentsOfFile: "\(sysfsRoot)/module/\(module)/parameters/\(name)", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func enabled(_ value: String?) -> Bool { value == "Y" || value == "1" }
        let loaded = { (module: String) in FileManager.default.fileExists(atPath: "\(sysfsRoot)/module/\(module)") }
        let mode: String
        if loaded("kvm_pvm") {
            mode = "kvm_pvm-shadow"
        } else if loaded("kvm_intel") {
            mode = enabled(parameter("kvm_intel", "ept")) ? "kvm_intel-ept" : "kvm_intel-shadow"
        } else if loaded("kvm_amd") {
            mode = enabled(parameter("kvm_amd", "npt")) ? "kvm_amd-npt" : "kvm_amd-shadow"
        } else {
            mode = "none"
        }
        var eax: UInt32 = 0, ebx: UInt32 = 0, ecx: UInt32 = 0, edx: UInt32 = 0
        ckvm_host_cpuid(1, 0, &eax, &ebx, &ecx, &edx)
        let thpText = (try? String(contentsOfFile: "\(sysfsRoot)/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) ?? ""
        return HostEnvironment(kvmMode: mode, tdpMMU: parameter("kvm", "tdp_mmu") ?? "unknown",
                               nested: ecx & (1 << 31) != 0, thpMode: selectedMode(thpText) ?? "unknown",
                               kernel: kernelRelease())
    }

    /// The bracketed word of a sysfs mode list such as `always [madvise] never`.
    public static func selectedMode(_ text: String) -> String? {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else { return nil }
        return String(text[text.index(after: open)..<close])
    }

    static func kernelRelease() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The CSV columns written on every measured row.
    public static let columns = ["kvm_mode", "tdp_mmu", "host_nested", "thp_mode", "kernel"]

    /// This environment's values for `columns`.
    public var fields: [String] { [kvmMode, tdpMMU, nested ? "yes" : "no", thpMode, kernel] }
}
