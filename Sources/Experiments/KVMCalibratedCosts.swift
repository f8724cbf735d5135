import KVM

/// Costs measured by the KVM runner in the units the shadow/nested strategy
/// model takes (its `StrategyCostParameters`): the cycles of a guest
/// page-table store that KVM traps and emulates, and the cycles of a guest
/// page fault that KVM's shadow MMU fixes (an exit and a shadow-table fill).
public struct KVMCalibratedCosts: Sendable, Equatable {
    /// Median cycles of a store into a non-leaf guest page table, minus an
    /// ordinary (leaf, unsynced) store.
    public var pageTableWriteTrapCycles: Double?
    /// Median cycles per 4 KiB page of a guest's first touch when the host
    /// memory already exists (4K guest page, 4K backing): KVM's fault alone.
    public var shadowFaultCycles: Double?
    /// The same with the host fault too (fresh host memory).
    public var shadowAndHostFaultCycles: Double?
    /// The KVM mode the costs were measured under.
    public var kvmMode: String

    public init(kvmMode: String, pageTableUpdate: [MeasuredPageTableUpdate.Point] = [],
                faultIn: [MeasuredFaultIn.Point] = []) {
        self.kvmMode = kvmMode
        if let leaf = pageTableUpdate.first(where: { $0.level == .leaf }),
           let nonleaf = pageTableUpdate.first(where: { $0.level == .nonleaf }) {
            pageTableWriteTrapCycles = nonleaf.cyclesPerStore.median - leaf.cyclesPerStore.median
        }
        func fault(prefaulted: Bool) -> Double? {
            faultIn.first {
                $0.configuration.guestPage == .size4K && $0.configuration.backing == .anonymous4K
                    && $0.configuration.hostPrefaulted == prefaulted
            }?.cyclesPerPage.median
        }
        shadowFaultCycles = fault(prefaulted: true)
        shadowAndHostFaultCycles = fault(prefaulted: false)
    }

    /// `parameters` with the measured costs in place of the defaults: the
    /// trap cost, and the shadow fault as the cost of an exit.
    public func applied(to parameters: StrategyCostParameters) -> StrategyCostParameters {
        var result = parameters
        if let pageTableWriteTrapCycles { result.pageTableWriteTrapCycles = pageTableWriteTrapCycles }
        if let shadowFaultCycles { result.exitCycles = shadowFaultCycles }
        return result
    }

    /// `name = value` lines for the terminal, named like the strategy model's parameters.
    public var lines: [String] {
        var lines: [String] = []
        if let pageTableWriteTrapCycles {
            lines.append("page_table_write_trap_cycles = \(csvNumber(pageTableWriteTrapCycles, decimals: 0)) (\(kvmMode))")
        }
        if let shadowFaultCycles {
            lines.append("shadow_fault_exit_cycles = \(csvNumber(shadowFaultCycles, decimals: 0)) (\(kvmMode), host memory present)")
        }
        if let shadowAndHostFaultCycles {
            lines.append("shadow_and_host_fault_cycles = \(csvNumber(shadowAndHostFaultCycles, decimals: 0)) (\(kvmMode), fresh host memory)")
        }
        return lines
    }
}
