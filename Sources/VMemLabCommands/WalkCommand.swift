import ArgumentParser
import Foundation
import Translation

/// `vmemlab walk`: translates one address through a page-table layout
/// described in a file, natively or nested, and prints every reference.
public struct WalkCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "walk",
        abstract: "Translate one address through page tables described in a TOML file.",
        discussion: "The file format, with worked examples, is in docs/WALK-FILES.md."
    )

    @Argument(help: "The layout file (TOML).")
    var file: String

    @Option(help: "Override the file's address to translate (e.g. 0x7f0000001234).")
    var address: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    public init() {}

    public func run() throws {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot read \(file): \(error.localizedDescription)")
        }
        var layout: WalkLayout
        do {
            layout = try WalkLayout(toml: text)
        } catch let error as InputFileError {
            throw CommandFailure("\(file): \(error)")
        }
        if let address {
            guard let value = TOMLReader.parseNumber(address) else { throw ValidationError("--address: not a number: \(address)") }
            layout.address = value
        }
        let report = WalkReport(layout)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}

/// The references and outcome of one walk, for text or JSON output.
struct WalkReport: Encodable {
    struct Reference: Encodable {
        var dimension: String
        var level: Int
        var step: Int
        var address: String
        var entry: String
    }

    var kind: String
    var address: String
    var access: String
    var references: [Reference]
    /// `translated`, `page_fault`, `ept_violation`, `ept_misconfiguration`,
    /// `nested_page_fault` or `non_canonical`.
    var outcome: String
    var details: [String: String]

    init(_ layout: WalkLayout) {
        var memory = layout.memory
        var log = WalkLog()
        address = hex(layout.address)
        access = layout.access.description
        details = [:]
        if let nested = layout.nested {
            kind = "nested"
            let walker = NestedWalker(guest: layout.paging, nested: nested)
            let result = walker.walk(layout.address, access: layout.access, guestRoot: layout.root, memory: &memory, observer: &log)
            switch result {
            case let .translated(translation):
                outcome = "translated"
                details = ["guest_physical": hex(translation.guestPhysical), "host_physical": hex(translation.hostPhysical),
                           "guest_page": translation.guestPageSize.name, "host_page": translation.hostPageSize.name,
                           "rights": translation.guestRights.description]
            case let .guestFault(fault):
                outcome = "page_fault"
                details = ["error_code": hex(UInt64(fault.errorCode.rawValue)), "error": fault.errorCode.description,
                           "level": levelName(fault.level)]
            case let .eptViolation(qualification, guestPhysical, level):
                outcome = "ept_violation"
                details = ["exit_qualification": hex(qualification.rawValue), "qualification": qualification.description,
                           "guest_physical": hex(guestPhysical), "level": levelName(level)]
            case let .eptMisconfiguration(guestPhysical, level):
                outcome = "ept_misconfiguration"
                details = ["guest_physical": hex(guestPhysical), "level": levelName(level)]
            case let .nestedPageFault(exitInfo1, guestPhysical, level):
                outcome = "nested_page_fault"
                details = ["exit_info1": hex(exitInfo1), "guest_physical": hex(guestPhysical), "level": levelName(level)]
            case .nonCanonical:
                outcome = "non_canonical"
            }
        } else {
            kind = "native"
            let walker = PageWalker(controls: layout.paging)
            switch walker.walk(layout.address, access: layout.access, root: layout.root, memory: &memory, observer: &log) {
            case let .translated(translation):
                outcome = "translated"
                details = ["physical": hex(translation.physicalAddress), "page": translation.pageSize.name,
                           "rights": translation.rights.description, "protection_key": "\(translation.protectionKey)"]
            case let .fault(fault):
                outcome = "page_fault"
                details = ["error_code": hex(UInt64(fault.errorCode.rawValue)), "error": fault.errorCode.description,
                           "level": levelName(fault.level)]
            case .nonCanonical:
                outcome = "non_canonical"
            }
        }
        references = log.references.map {
            Reference(dimension: $0.dimension.description, level: $0.level, step: $0.step, address: hex($0.address), entry: hex($0.entry))
        }
    }

    var text: String {
        var lines = ["\(kind) walk of \(address) (\(access))"]
        for (index, reference) in log.enumerated() { lines.append(String(format: "%3d  ", index + 1) + reference) }
        lines.append("outcome: \(outcome)")
        for key in details.keys.sorted() { lines.append("  \(key): \(details[key]!)") }
        let guest = references.filter { $0.dimension == "guest" }.count
        let nested = references.filter { $0.dimension == "nested" }.count
        lines.append(kind == "nested" ? "references: \(references.count) (guest \(guest), nested \(nested))"
                                      : "references: \(references.count)")
        return lines.joined(separator: "\n")
    }

    private var log: [String] {
        references.map { reference in
            let what = reference.dimension == "nested"
                ? "nested L\(reference.level) for " + (reference.step == 0 ? "data" : "guest L\(reference.step)")
                : "\(reference.dimension) L\(reference.level) \(levelName(reference.level))"
            return what.padding(toLength: 26, withPad: " ", startingAt: 0) + " @\(reference.address) = \(reference.entry)"
        }
    }
}

private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
