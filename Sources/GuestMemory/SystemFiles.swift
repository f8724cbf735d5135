import Glibc

/// Reads small kernel text files (`/proc`, `/sys`) whole. Their sizes read
/// as zero, so the file is read until end of file.
enum SystemFiles {
    /// The whole text of the file at `path`.
    static func read(_ path: String) throws(SystemCallError) -> String {
        let descriptor = try systemCall("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
        defer { chunk.deallocate() }
        while true {
            let count = try systemCall("read \(path)") { Glibc.read(descriptor, chunk.baseAddress, chunk.count) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The file's text without surrounding white space, or nil if it cannot be read.
    static func value(_ path: String) -> String? { (try? read(path))?.trimmingWhitespace }

    /// The file's integer value, or nil.
    static func integer(_ path: String) -> Int? { value(path).flatMap { Int($0) } }

    /// The names in directory `path`, or none if it cannot be read.
    static func directory(_ path: String) -> [String] {
        guard let stream = opendir(path) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
