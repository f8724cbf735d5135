import Foundation

enum FileManagerShim {
    /// Open descriptors whose target is the KVM device or a KVM anonymous inode.
    static func kvmDescriptorCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { name in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name) else {
                return false
            }
            return target == "/dev/kvm" || target.hasPrefix("anon_inode:kvm")
        }.count
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "vmemlab-kvm-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
}
