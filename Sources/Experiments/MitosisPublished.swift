/// The GUPS rows of Mitosis Figure 6 (Achermann et al., ASPLOS 2020), on a
/// 4-socket Xeon E7-4850 v3: absolute cycles per configuration.
/// Configurations: LP/RP = page tables local/remote to the CPU's socket,
/// LD/RD = data local/remote, I = STREAM interference on the node holding the
/// remote page tables or data, T prefix = THP (2M pages), +M = Mitosis
/// page-table replication on.
public enum MitosisPublished {
    /// Where the numbers come from (also copied whole to
    /// data/reference/mitosis_fig6_full.tsv).
    public static let source = "Mitosis (ASPLOS 2020) Fig. 6, github.com/mitosis-project/mitosis-asplos20-artifact "
        + "evaluation/reference/figure6/figure6_absolute.csv (commit 5a3668d)"

    /// One configuration's cycles.
    public struct Row: Hashable, Sendable {
        public var configuration: String
        public var runtimeCycles: Double
        public var walkCycles: Double
    }

    /// GUPS, every configuration of the figure.
    public static let gups: [Row] = [
        Row(configuration: "LP-LD", runtimeCycles: 454_078_473_314, walkCycles: 374_935_567_249),
        Row(configuration: "LP-RD", runtimeCycles: 475_096_462_831, walkCycles: 376_166_282_805),
        Row(configuration: "LP-RDI", runtimeCycles: 884_866_980_760, walkCycles: 403_802_048_942),
        Row(configuration: "RP-LD", runtimeCycles: 695_400_575_919, walkCycles: 617_114_064_502),
        Row(configuration: "RPI-LD", runtimeCycles: 1_464_246_463_601, walkCycles: 1_385_396_795_084),
        Row(configuration: "RP-RD", runtimeCycles: 721_129_204_401, walkCycles: 628_806_374_613),
        Row(configuration: "RPI-RDI", runtimeCycles: 1_753_890_910_686, walkCycles: 1_497_161_908_921),
        Row(configuration: "TLP-LD", runtimeCycles: 176_546_347_339, walkCycles: 83_117_175_410),
        Row(configuration: "TLP-RD", runtimeCycles: 230_657_727_043, walkCycles: 84_961_237_984),
        Row(configuration: "TLP-RDI", runtimeCycles: 643_931_954_729, walkCycles: 137_932_324_927),
        Row(configuration: "TRP-LD", runtimeCycles: 175_695_103_023, walkCycles: 82_549_135_313),
        Row(configuration: "TRPI-LD", runtimeCycles: 178_719_969_482, walkCycles: 84_245_468_157),
        Row(configuration: "TRP-RD", runtimeCycles: 232_801_971_041, walkCycles: 86_170_052_195),
        Row(configuration: "TRPI-RDI", runtimeCycles: 649_375_317_435, walkCycles: 139_098_248_521),
        Row(configuration: "RPI-LD+M", runtimeCycles: 451_685_891_902, walkCycles: 373_616_194_471),
        Row(configuration: "TRPI-LD+M", runtimeCycles: 178_390_581_188, walkCycles: 84_632_265_006),
    ]

    /// The published slowdown of `configuration` against local page tables
    /// and local data with the same page size (LP-LD, or TLP-LD for THP).
    public static func slowdown(_ configuration: String) -> Double? {
        let baseline = configuration.hasPrefix("T") ? "TLP-LD" : "LP-LD"
        guard let row = gups.first(where: { $0.configuration == configuration }),
              let base = gups.first(where: { $0.configuration == baseline })
        else { return nil }
        return row.runtimeCycles / base.runtimeCycles
    }
}
