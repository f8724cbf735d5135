import Foundation

/// What every CSV row carries so that its numbers can be reproduced: the
/// host, its KVM and THP configuration, the libnuma and VMemLab versions,
/// and the seed, spec and time of the run. It is collected once per run.
public struct RunMetadata: Sendable, Equatable {
    /// The CPU's model name, from `/proc/cpuinfo` (`model name`).
    public var cpuName: String
    /// The CPU family, in decimal as `/proc/cpuinfo` gives it (26 is 0x1A, Zen 5).
    public var cpuFamily: String
    /// The CPU model number within its family, in decimal.
    public var cpuModel: String
    /// Whether the CPU reports the hypervisor bit: the host is itself a guest.
    public var hypervisor: Bool
    /// The kernel: system name and release, as `uname -sr` prints them.
    public var kernel: String
    /// How KVM maps guest memory here: `ept`, `npt`, `pvm`, `shadow` or `none`.
    public var kvmMode: String
    /// The MMU-related KVM module parameters, `module.param=value` separated by spaces.
    public var kvmParameters: String
    /// The transparent-huge-page mode: `always`, `madvise`, `never` or `unknown`.
    public var thpMode: String
    /// The backing of guest memory for the rows, or `none` when the run
    /// allocated no guest memory (a per-row `backing` column takes precedence).
    public var backing: String
    /// The installed libnuma's package version, or `unknown`.
    public var libnumaVersion: String
    /// The VMemLab git revision the run was built from, `-dirty` when the
    /// tree had uncommitted changes, or `unknown`.
    public var revision: String
    /// The seed of every random stream.
    public var seed: UInt64
    /// The hash of the spec (or of the reproduce invocation) that produced the rows.
    public var specHash: String
    /// When the run started, in UTC (ISO 8601).
    public var startedUTC: String

    public init(cpuName: String, cpuFamily: String, cpuModel: String, hypervisor: Bool, kernel: String,
                kvmMode: String, kvmParameters: String, thpMode: String, backing: String,
                libnumaVersion: String, revision: String, seed: UInt64, specHash: String, startedUTC: String) {
        self.cpuName = cpuName
        self.cpuFamily = cpuFamily
        self.cpuModel = cpuModel
        self.hypervisor = hypervisor
        self.kernel = kernel
        self.kvmMode = kvmMode
        self.kvmParameters = kvmParameters
        self.thpMode = thpMode
        self.backing = backing
        self.libnumaVersion = libnumaVersion
        self.revision = revision
        self.seed = seed
        self.specHash = specHash
        self.startedUTC = startedUTC
    }

    /// The metadata column names, in the order they are appended to a CSV.
    public static let columns = [
        "host_cpu_name", "host_cpu_family", "host_cpu_model", "host_hypervisor", "host_kernel",
        "kvm_mode", "kvm_params", "thp_mode", "backing", "libnuma_version", "vmemlab_revision",
        "seed", "spec_hash", "run_started_utc",
    ]

    /// The values, one per entry of `columns`.
    public var values: [String] {
        [cpuName, cpuFamily, cpuModel, hypervisor ? "yes" : "no", kernel, kvmMode, kvmParameters, thpMode,
         backing, libnumaVersion, revision, String(seed), specHash, startedUTC]
    }

    /// Column name → value.
    public var fields: [String: String] { Dictionary(uniqueKeysWithValues: zip(Self.columns, values)) }

    /// Reads this host's facts now. `sourceDirectory` is where `git` looks
    /// for the revision; by default, the directory this file was compiled from.
    public static func collect(seed: UInt64, specHash: String, backing: String = "none",
                               probe: HostProbe = HostProbe(),
                               sourceDirectory: URL = HostProbe.buildSourceDirectory,
                               now: Date = Date()) -> RunMetadata {
        let cpu = probe.cpu()
        return RunMetadata(
            cpuName: cpu.name, cpuFamily: cpu.family, cpuModel: cpu.model, hypervisor: cpu.hypervisor,
            kernel: probe.kernel(), kvmMode: probe.kvmMode(), kvmParameters: probe.kvmParameters(),
            thpMode: probe.thpMode(), backing: backing, libnumaVersion: probe.libnumaVersion(),
            revision: HostProbe.gitRevision(in: sourceDirectory), seed: seed, specHash: specHash,
            startedUTC: utcTimestamp(now))
    }

    /// `date` as `2026-11-25T16:40:00Z`.
    public static func utcTimestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
