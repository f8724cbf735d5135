/// What a shadow MMU did. Exits are the events that leave the guest.
@frozen public struct ShadowMMUCounters: Hashable, Sendable {
    /// Page-fault exits fixed by building or upgrading shadow entries
    /// (a missing entry, or the first write to a clean page).
    public var shadowFaults: Int = 0
    /// Page-fault exits reflected into the guest: its own tables lack the
    /// page or deny the access.
    public var guestFaultsInjected: Int = 0
    /// Guest stores into write-protected tables that trapped and were
    /// emulated (KVM's `mmu_pte_write`).
    public var pageTableWriteTraps: Int = 0
    /// Write-fault exits on a write-protected leaf table that made it unsync.
    public var unsyncFaults: Int = 0
    /// Shadow pages marked unsync (KVM's `mmu_unsync`).
    public var unsyncs: Int = 0
    /// Unsync shadow pages brought back in sync.
    public var syncs: Int = 0
    /// Single shadow entries resynced by an INVLPG.
    public var invlpgSyncs: Int = 0
    /// Guest entries re-read while syncing.
    public var syncedEntries: Int = 0
    /// Shadow pages zapped (KVM's `mmu_shadow_zapped`), for any reason.
    public var zaps: Int = 0
    /// Of the zaps, those made to stay under the page limit (`mmu_recycled`).
    public var recycled: Int = 0
    /// Of the zaps, those of write-flooded pages (`mmu_flooded`).
    public var flooded: Int = 0
    /// Neighbouring shadow leaves a fault filled ahead of use (KVM's PTE prefetch).
    public var faultPrefetches: Int = 0
    /// Shadow leaves filled by `prefetch` (a VMM rebuilding shadow tables), with no exit.
    public var prefetchedEntries: Int = 0
    /// Shadow entries cleared by emulated guest writes.
    public var entryZaps: Int = 0
    /// Shadow pages built (`mmu_cache_miss`).
    public var shadowPagesCreated: Int = 0
    /// CR3 loads whose root was in the root cache.
    public var rootCacheHits: Int = 0
    /// CR3 loads that had to find or build the root.
    public var rootCacheMisses: Int = 0
    /// CR3 loads (each an exit under shadow paging).
    public var cr3Loads: Int = 0
    /// INVLPG exits.
    public var invlpgs: Int = 0
    /// Full guest TLB flushes (each an exit).
    public var guestFlushes: Int = 0
    /// TLB flushes the MMU itself requested after changing or dropping
    /// shadow entries (KVM's `remote_tlb_flush`).
    public var tlbFlushes: Int = 0

    public init() {}

    /// Every exit: faults, traps, unsync faults, CR3 loads, INVLPGs and flushes.
    public var exits: Int {
        shadowFaults + guestFaultsInjected + pageTableWriteTraps + unsyncFaults + cr3Loads + invlpgs + guestFlushes
    }

    /// The counters by name, in a fixed order, for JSON and CSV.
    public var named: [(String, Int)] {
        [
            ("shadow_faults", shadowFaults), ("guest_faults_injected", guestFaultsInjected),
            ("page_table_write_traps", pageTableWriteTraps), ("unsync_faults", unsyncFaults), ("unsyncs", unsyncs),
            ("syncs", syncs), ("invlpg_syncs", invlpgSyncs), ("synced_entries", syncedEntries), ("zaps", zaps),
            ("recycled", recycled), ("flooded", flooded), ("entry_zaps", entryZaps), ("fault_prefetches", faultPrefetches), ("prefetched_entries", prefetchedEntries),
            ("shadow_pages_created", shadowPagesCreated), ("root_cache_hits", rootCacheHits),
            ("root_cache_misses", rootCacheMisses), ("cr3_loads", cr3Loads), ("invlpgs", invlpgs),
            ("guest_flushes", guestFlushes), ("tlb_flushes", tlbFlushes), ("exits", exits),
        ]
    }
}
