/// Where guest data and page tables live on a NUMA host, relative to the
/// CPU that runs the workload (the placements of Mitosis and vMitosis).
public enum MemoryPlacement: String, Sendable, CaseIterable, Hashable {
    /// Data and page tables on the CPU's node.
    case local
    /// Page tables on another node, data local.
    case remotePageTables = "remote-pt"
    /// Page tables on another node that also runs a memory-bound interferer.
    case remotePageTablesInterference = "remote-pt-interference"
    /// Page tables replicated on every node (Mitosis).
    case replicatedPageTables = "replicated-pt"
    /// Data on another node, page tables local.
    case remoteData = "remote-data"
    /// Data interleaved across nodes.
    case interleave
}
