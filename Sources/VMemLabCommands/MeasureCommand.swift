import ArgumentParser
import Experiments
import Foundation
import KVM
import Translation

/// `vmemlab measure`: real measurements through /dev/kvm.
public struct MeasureCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Measure translation costs in real KVM guests (needs /dev/kvm).",
        discussion: """
            Each command runs CPL3 kernels in fresh VMs, repeats them, and writes a CSV with the \
            median, the quartiles, KVM's statistics and the host mode on every row.
            """,
        subcommands: [MeasureTLBReachCommand.self, MeasurePageTableUpdateCommand.self,
                      MeasureFaultInCommand.self, MeasureDirtyLogCommand.self]
    )

    public init() {}
}

/// Options every measure command takes.
struct MeasureOptions: ParsableArguments {
    @Flag(help: "A short run (under a minute) with fewer points and repetitions.")
    var quick = false

    @Option(help: "The directory for CSV files.")
    var out: String = "results"

    @Option(help: "Repetitions per point (each in a fresh VM); default 3 with --quick, else 7.")
    var reps: Int?

    @Option(help: "The seed of the random permutations.")
    var seed: UInt64 = 42

    @Option(help: "The KVM device.")
    var device: String = KVMDevice.defaultPath

    func validate() throws {
        if let reps, reps < 1 || reps > 1000 { throw ValidationError("--reps must be between 1 and 1000, not \(reps)") }
    }

    /// Opens the device and measures the TSC, or fails with a clear message.
    func context() throws -> KVMMeasurementContext {
        do {
            return try KVMMeasurementContext(devicePath: device, quick: quick, seed: seed)
        } catch {
            throw MeasureError(message: "cannot measure: \(error)")
        }
    }

    /// Writes `table` as `name` in the output directory and says where.
    func write(_ table: CSVTable, _ name: String) throws {
        let url = URL(fileURLWithPath: out).appendingPathComponent(name)
        try table.write(to: url)
        print("wrote \(url.path) (\(table.rows.count) rows)")
    }
}

/// A measurement that cannot run, with the reason (exit code 1).
struct MeasureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Parses comma-separated lists of page sizes, backings and byte sizes.
enum MeasureListParser {
    static func pageSizes(_ text: String) throws -> [PageSize] {
        try items(text).map { item in
            guard let size = PageSize(name: item) else {
                throw ValidationError("unknown guest page size '\(item)'; use 4K, 2M or 1G")
            }
            return size
        }
    }

    static func backings(_ text: String) throws -> [HostBacking] {
        try items(text).map { item in
            guard let backing = HostBacking(name: item) else {
                throw ValidationError("unknown backing '\(item)'; use 4K, THP, 2M or 1G")
            }
            return backing
        }
    }

    /// Byte sizes such as `4M`, `512K`, `1G` or `65536`; multiples of 4 KiB.
    static func byteSizes(_ text: String) throws -> [Int] {
        try items(text).map { item in
            var digits = item.uppercased()
            var multiplier = 1
            for (suffix, scale) in [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)] where digits.hasSuffix(suffix) {
                digits.removeLast()
                multiplier = scale
            }
            guard let value = Int(digits), value > 0, value <= (64 << 30) / multiplier else {
                throw ValidationError("invalid size '\(item)'; use a positive number with K, M or G, up to 64G")
            }
            let bytes = value * multiplier
            guard bytes % 4096 == 0 else { throw ValidationError("size '\(item)' is not a multiple of 4K") }
            return bytes
        }
    }

    static func items(_ text: String) throws -> [String] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw ValidationError("an empty list") }
        return items
    }
}
