import Foundation

/// A fresh directory under the system's temporary directory.
func temporaryDirectory(_ label: String = #function) throws -> URL {
    let name = label.filter { $0.isLetter || $0.isNumber } + "-" + UUID().uuidString
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vmemlab-tests").appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `text` to `path` under `root`, creating directories.
func writeFixture(_ text: String, _ path: String, under root: URL) throws {
    let url = root.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}
