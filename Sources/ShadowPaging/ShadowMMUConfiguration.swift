import Translation

/// The settings of a shadow MMU.
public struct ShadowMMUConfiguration: Hashable, Sendable {
    /// The guest's paging depth (the shadow tables have the same depth).
    public var mode: PagingMode = .fourLevel
    /// Guest-physical memory size.
    public var guestMemoryBytes: UInt64 = 1 << 30
    /// The host's page size for guest memory.
    public var hostPageSize: PageSize = .size4K
    /// The most shadow pages at once; more are made by zapping the oldest
    /// page no root holds. Default: KVM's, 20 per mille of guest pages and
    /// at least 64 (`KVM_PERMILLE_MMU_PAGES`, `KVM_MIN_ALLOC_MMU_PAGES`).
    public var maxShadowPages: Int
    /// Roots kept for CR3 switches: the current one plus KVM's three
    /// previous roots (`KVM_MMU_NUM_PREV_ROOTS`).
    public var rootCacheSize: Int = 4
    /// Whether leaf tables may go unsync (KVM's behaviour). Without it every
    /// store into a shadowed guest table traps and is emulated.
    public var unsync: Bool = true
    /// Emulated writes to a non-leaf shadow page, with no fault through it
    /// in between, before the page is zapped (KVM's write-flooding rule: 3).
    public var writeFloodThreshold: Int = 3
    /// Whether a fault also maps the present neighbours of its leaf in
    /// their aligned group of 8 (KVM's PTE prefetch).
    public var prefetch: Bool = true

    public init(mode: PagingMode = .fourLevel, guestMemoryBytes: UInt64 = 1 << 30, hostPageSize: PageSize = .size4K,
                maxShadowPages: Int? = nil, rootCacheSize: Int = 4, unsync: Bool = true, writeFloodThreshold: Int = 3,
                prefetch: Bool = true) {
        self.mode = mode
        self.guestMemoryBytes = guestMemoryBytes
        self.hostPageSize = hostPageSize
        self.maxShadowPages = maxShadowPages ?? max(64, Int(guestMemoryBytes >> 12) * 20 / 1000)
        self.rootCacheSize = rootCacheSize
        self.unsync = unsync
        self.writeFloodThreshold = writeFloodThreshold
        self.prefetch = prefetch
    }
}
