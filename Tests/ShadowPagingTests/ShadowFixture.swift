import ShadowPaging
import Translation
import VMemLabTestSupport
import Workloads

/// A guest kernel running on a shadow MMU, with the consistency oracle.
struct ShadowFixture {
    var mmu: ShadowMMU
    var kernel: GuestKernel

    init(hostPage: PageSize = .size4K, mode: PagingMode = .fourLevel,
         memoryBytes: UInt64 = 256 << 20, maxShadowPages: Int? = nil, unsync: Bool = true, prefetch: Bool = true) {
        mmu = ShadowMMU(configuration: ShadowMMUConfiguration(
            mode: mode, guestMemoryBytes: memoryBytes, hostPageSize: hostPage, maxShadowPages: maxShadowPages, unsync: unsync,
            prefetch: prefetch))
        kernel = GuestKernel(mode: mode, memoryBytes: memoryBytes)
    }

    mutating func apply(_ event: GuestOSEvent) throws {
        try kernel.apply(event, on: &mmu)
    }

    mutating func apply(_ trace: String) throws {
        for event in try GuestOSTrace.parse(trace) { try apply(event) }
    }

    /// The oracle's findings: the current root strictly, the other cached roots
    /// with unsync pages allowed to be stale.
    func violations() -> [String] {
        let memory = mmu.memory
        let guestBase = mmu.host.guestBase
        let current = mmu.currentShadowRoot
        let roots = mmu.cachedRoots.map {
            ShadowConsistencyOracle.Root(guestRoot: $0.guestRoot, shadowRoot: $0.shadowRoot, strict: $0.shadowRoot == current)
        }
        var hostMemory = memory
        let host = mmu.host
        return ShadowConsistencyOracle.violations(
            mode: mmu.configuration.mode, roots: roots,
            guestLoad: { memory.load64($0 + guestBase) }, hostLoad: { memory.load64($0) },
            hostTranslate: { host.translate($0, memory: &hostMemory) },
            isUnsync: { mmu.shadowPageInfo(tableAt: $0)?.unsync ?? false })
    }
}
