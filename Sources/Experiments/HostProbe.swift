import Foundation

/// Reads the host facts that `RunMetadata` records from procfs and sysfs
/// under `root` (`/` on a real host; a directory of fixtures in tests).
/// Anything it cannot read becomes `unknown`, never an error.
public struct HostProbe: Sendable {
    /// The file-system root the probe reads below.
    public var root: URL

    public init(root: URL = URL(fileURLWithPath: "/")) { self.root = root }

    /// The CPU as `/proc/cpuinfo` describes its first processor.
    public struct CPU: Sendable, Equatable {
        public var name: String
        public var family: String
        public var model: String
        public var hypervisor: Bool

        public init(name: String, family: String, model: String, hypervisor: Bool) {
            self.name = name
            self.family = family
            self.model = model
            self.hypervisor = hypervisor
        }
    }

    /// The first processor's `model name`, `cpu family`, `model` and whether
    /// its flags include `hypervisor` (CPUID.1:ECX bit 31).
    public func cpu() -> CPU {
        var cpu = CPU(name: "unknown", family: "unknown", model: "unknown", hypervisor: false)
        guard let text = read("proc/cpuinfo") else { return cpu }
        var seen = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty && !seen.isEmpty { break }  // the end of the first processor's block
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !seen.contains(key) else { continue }
            seen.insert(key)
            switch key {
            case "model name": cpu.name = value
            case "cpu family": cpu.family = value
            case "model": cpu.model = value
            case "flags": cpu.hypervisor = value.split(separator: " ").contains("hypervisor")
            default: break
            }
        }
        return cpu
    }

    /// The kernel's name and release, `Linux 6.1.0-…`, from procfs.
    public func kernel() -> String {
        guard let type = read("proc/sys/kernel/ostype"), let release = read("proc/sys/kernel/osrelease") else {
            return "unknown"
        }
        return "\(type) \(release)"
    }

    /// `pvm` when `kvm_pvm` is loaded; `ept` or `npt` when `kvm_intel` or
    /// `kvm_amd` maps guests with two-dimensional paging; `shadow` when
    /// that is turned off (`ept=N`, `npt=0`); `none` without `/dev/kvm`.
    public func kvmMode() -> String {
        if exists("sys/module/kvm_pvm") { return "pvm" }
        if exists("sys/module/kvm_intel") {
            return Self.isOn(read("sys/module/kvm_intel/parameters/ept")) ? "ept" : "shadow"
        }
        if exists("sys/module/kvm_amd") {
            return Self.isOn(read("sys/module/kvm_amd/parameters/npt")) ? "npt" : "shadow"
        }
        return exists("dev/kvm") ? "unknown" : "none"
    }

    /// The module parameters that decide how guest memory is mapped, as
    /// `module.param=value` pairs separated by spaces, for the loaded KVM
    /// modules only. A loaded module with no such parameter reads `module=loaded`.
    public func kvmParameters() -> String {
        var pairs: [String] = []
        for (module, parameters) in Self.recordedParameters where exists("sys/module/\(module)") {
            var any = false
            for parameter in parameters {
                if let value = read("sys/module/\(module)/parameters/\(parameter)") {
                    pairs.append("\(module).\(parameter)=\(value)")
                    any = true
                }
            }
            if !any { pairs.append("\(module)=loaded") }
        }
        return pairs.isEmpty ? "none" : pairs.joined(separator: " ")
    }

    /// The parameters recorded for each KVM module, in output order.
    public static let recordedParameters: [(module: String, parameters: [String])] = [
        ("kvm", ["tdp_mmu", "nx_huge_pages", "eager_page_split"]),
        ("kvm_intel", ["ept", "unrestricted_guest", "enable_shadow_vmcs", "pml", "nested"]),
        ("kvm_amd", ["npt", "nested", "avic"]),
        ("kvm_pvm", ["pvm_native"]),
    ]

    /// The bracketed choice in `/sys/kernel/mm/transparent_hugepage/enabled`.
    public func thpMode() -> String {
        guard let text = read("sys/kernel/mm/transparent_hugepage/enabled"),
              let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]")
        else { return "unknown" }
        return String(text[text.index(after: open)..<close])
    }

    /// The libnuma version: the Debian package's (`libnuma1`) from dpkg's
    /// status database, else the version in the shared library's file name.
    public func libnumaVersion() -> String {
        if let status = read("var/lib/dpkg/status"), let version = Self.dpkgVersion(of: "libnuma1", in: status) {
            return version
        }
        for directory in ["usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu", "usr/lib64", "usr/lib"] {
            let url = root.appendingPathComponent(directory)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { continue }
            let versions = names.filter { $0.hasPrefix("libnuma.so.") }.map { String($0.dropFirst("libnuma.so.".count)) }
            if let longest = versions.max(by: { $0.count < $1.count }) { return "so.\(longest)" }
        }
        return "unknown"
    }

    /// The `Version:` of an installed `package` in a dpkg status file.
    static func dpkgVersion(of package: String, in status: String) -> String? {
        for stanza in status.components(separatedBy: "\n\n") {
            let lines = stanza.split(separator: "\n")
            guard lines.contains(where: { $0 == "Package: \(package)" }),
                  lines.contains(where: { $0.hasPrefix("Status:") && $0.hasSuffix(" installed") }),
                  let version = lines.first(where: { $0.hasPrefix("Version: ") })
            else { continue }
            return String(version.dropFirst("Version: ".count))
        }
        return nil
    }

    /// The package's source directory as it was when this file was compiled.
    public static var buildSourceDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `git rev-parse HEAD` in `directory`, with `-dirty` when tracked files
    /// have changed, or `unknown` when it is not a git checkout or git is missing.
    public static func gitRevision(in directory: URL) -> String {
        guard let head = git(["rev-parse", "HEAD"], in: directory), !head.isEmpty else { return "unknown" }
        let changes = git(["status", "--porcelain", "--untracked-files=no"], in: directory) ?? ""
        return changes.isEmpty ? head : head + "-dirty"
    }

    private static func git(_ arguments: [String], in directory: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isOn(_ value: String?) -> Bool { value == "Y" || value == "y" || value == "1" }

    private func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path)
    }

    private func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
