import Translation

/// The outcome of a user access through the shadow MMU.
@frozen public enum ShadowAccessResult: Hashable, Sendable {
    /// The access reached `hostPhysical` through a shadow leaf of `pageSize`
    /// (the smaller of the guest and host page sizes).
    case translated(hostPhysical: UInt64, pageSize: PageSize)
    /// The guest's own tables fault; the fault is injected into the guest.
    case guestFault(PageFault)
}

/// A shadow MMU modelled on KVM's (Documentation/virt/kvm/x86/mmu.rst).
///
/// - Shadow pages are keyed by guest frame and `ShadowRole`, and built on
///   demand when a hardware walk of the shadow tables faults: the MMU walks
///   the guest's tables (setting the guest's A bits, and D for a write) and
///   the host's EPT, then fills the missing shadow entries. The shadow leaf
///   has the smaller of the guest and host page sizes; a guest large page
///   on smaller host pages gets direct shadow pages below it.
/// - Guest frames that hold shadowed tables are write-protected. A store
///   into a table shadowed at a non-leaf level traps and is emulated: the
///   shadow entry at that offset is zapped, and a page written
///   `writeFloodThreshold` times with no fault through it is zapped whole.
///   A store into a table shadowed only as a leaf (level 1) takes one write
///   fault that marks its shadow pages unsync; later stores are plain.
/// - Unsync pages are resynced (each present entry checked against the
///   guest's) when CR3 is loaded and on a full flush, for the pages reached
///   from the current root; INVLPG resyncs the one entry it names.
/// - The A bit is set in the guest entry and the shadow entry when the
///   shadow entry is made. A leaf whose guest entry is clean is mapped
///   read-only, so the first write faults and the MMU sets the guest's D.
/// - CR3 loads go through a root cache; `maxShadowPages` bounds the pages,
///   and the oldest page no root holds is zapped to make room.
///
/// Shadow tables are real x86-64 tables in host memory, so a hardware walk
/// of them is an ordinary `PageWalker` walk.
///
/// Not modelled: reverse maps of data pages (a frame that becomes a page
/// table is assumed to have no writable shadow mapping left, which holds
/// when the guest flushes before reusing a frame, as Linux does), the
/// guest's use of global pages and PCIDs, and 32-bit paging roles.
public struct ShadowMMU {
    public let configuration: ShadowMMUConfiguration
    /// Host-physical memory: guest RAM, EPT tables and shadow tables.
    public let memory: SparsePhysicalMemory
    /// The host's gPA → hPA mapping.
    public internal(set) var host: HostMapping
    public internal(set) var counters = ShadowMMUCounters()
    /// The guest's CR3 (the guest-physical address of its root table).
    public internal(set) var guestRoot: UInt64 = 0
    /// Whether any guest CR3 has been loaded.
    public internal(set) var hasRoot = false

    /// Where shadow tables live in host-physical memory: slot s at base + s × 4 KiB.
    public static let shadowTableBase: UInt64 = 0x100_0000_0000

    @usableFromInline var currentRoot: Int32 = -1
    var pages: [ShadowPage] = []
    var freeSlots: [Int32] = []
    var pagesByKey: [UInt64: Int32] = [:]
    var pagesByFrame: [UInt64: Int32] = [:]
    var parentLinks: [ParentLink] = []
    var freeParentLink: Int32 = -1
    var unsyncChildBits: [UInt64] = []
    var roots: [(guestRoot: UInt64, slot: Int32)] = []
    var newest: Int32 = -1
    var oldest: Int32 = -1
    /// The number of live shadow pages.
    public internal(set) var pageCount = 0
    var flushPending = false
    let guestWalker: PageWalker
    /// The hardware walker of the shadow tables.
    @usableFromInline let shadowWalker: PageWalker

    /// Bits of a non-leaf shadow entry: present, writable, user, accessed
    /// (rights are enforced at the leaf, as KVM does).
    static let nonLeafBits: UInt64 = PageTableEntry.Flags([.present, .writable, .user, .accessed]).rawValue

    /// A shadow MMU over a fresh host memory.
    public init(configuration: ShadowMMUConfiguration) {
        self.configuration = configuration
        var memory = SparsePhysicalMemory(initialFrames: 1024)
        self.memory = memory
        host = HostMapping(memoryBytes: configuration.guestMemoryBytes, pageSize: configuration.hostPageSize,
                           mode: .fourLevel, memory: &memory)
        guestWalker = PageWalker(controls: PagingControls(mode: configuration.mode))
        shadowWalker = guestWalker
        pages.reserveCapacity(configuration.maxShadowPages)
        unsyncChildBits.reserveCapacity(configuration.maxShadowPages * 8)
    }

    /// The guest's RAM as guest-physical memory.
    public var guestMemory: OffsetMemory<SparsePhysicalMemory> { OffsetMemory(base: memory, offset: host.guestBase) }

    // MARK: Addresses of shadow tables

    @inlinable @inline(__always)
    static func table(_ slot: Int32) -> UInt64 { shadowTableBase &+ UInt64(truncatingIfNeeded: slot) &<< 12 }

    @inlinable @inline(__always)
    static func slot(ofTable address: UInt64) -> Int32 {
        Int32(truncatingIfNeeded: (address &- shadowTableBase) &>> 12)
    }

    /// The host-physical address of the current shadow root table, if any.
    public var currentShadowRoot: UInt64? { currentRoot >= 0 ? Self.table(currentRoot) : nil }

    // MARK: The hardware path

    /// A user access to the linear `address`: a hardware walk of the shadow
    /// tables, and on a fault the MMU's fault handler, then the walk again.
    /// `observer` sees the shadow-table references of every hardware walk.
    @inlinable
    public mutating func access<Observer: WalkObserver>(
        _ address: UInt64, _ type: AccessType, observer: inout Observer
    ) -> ShadowAccessResult {
        var hostMemory = memory
        var attempt = 0
        while true {
            if currentRoot >= 0,
               case let .translated(translation) = shadowWalker.walk(
                address, access: MemoryAccess(type, .user), root: Self.table(currentRoot), memory: &hostMemory,
                observer: &observer)
            {
                return .translated(hostPhysical: translation.physicalAddress, pageSize: translation.pageSize)
            }
            if let result = resolveMiss(address, type, attempt: attempt) { return result }
            attempt &+= 1
        }
    }

    /// A user access without observing the walk.
    @inlinable
    public mutating func access(_ address: UInt64, _ type: AccessType) -> ShadowAccessResult {
        var observer = NoWalkObserver()
        return access(address, type, observer: &observer)
    }

    /// The slow path of an access whose hardware walk faulted: reload the
    /// root, or run the fault handler. Returns the access's result when it
    /// is decided here, or nil to walk again.
    @usableFromInline @inline(never)
    mutating func resolveMiss(_ address: UInt64, _ type: AccessType, attempt: Int) -> ShadowAccessResult? {
        if currentRoot < 0 {
            guard hasRoot else { return .guestFault(PageFault(errorCode: .user, level: configuration.mode.levels)) }
            reloadRoot()
            return nil
        }
        if attempt >= 3 {
            // The leaf stays read-only because the guest writes one of its
            // own page tables through a user mapping: KVM emulates the store.
            counters.pageTableWriteTraps += 1
            var hostMemory = memory
            if case let .translated(translation) = shadowWalker.walk(address, access: .userRead, root: Self.table(currentRoot),
                                                                     memory: &hostMemory) {
                return .translated(hostPhysical: translation.physicalAddress, pageSize: translation.pageSize)
            }
            return nil
        }
        if let fault = handleFault(address, type) {
            counters.guestFaultsInjected += 1
            return .guestFault(fault)
        }
        return nil
    }

    /// Sets every counter to zero (to measure from a point on).
    public mutating func resetCounters() { counters = ShadowMMUCounters() }

    /// Whether a TLB flush was requested since the last call, and clears it.
    public mutating func takeFlushRequest() -> Bool {
        defer { flushPending = false }
        return flushPending
    }

    mutating func requestFlush() {
        if !flushPending { counters.tlbFlushes += 1 }
        flushPending = true
    }
}

/// One shadow page's bookkeeping (KVM's `struct kvm_mmu_page`).
struct ShadowPage {
    var key: UInt64 = 0
    var frame: UInt64 = 0
    var role = ShadowRole(level: 1, direct: false, access: [])
    var live = false
    var unsync = false
    var rootCount: Int32 = 0
    var unsyncChildren: Int32 = 0
    var writeFlooding: Int32 = 0
    /// The active list, newest first (for zapping the oldest).
    var older: Int32 = -1
    var newer: Int32 = -1
    /// The next indirect page shadowing the same guest frame.
    var nextSameFrame: Int32 = -1
    /// The first link to a shadow entry that points at this page.
    var firstParent: Int32 = -1
}

/// A shadow entry that points at a shadow page (KVM's `parent_ptes`).
struct ParentLink {
    var entry: UInt64
    var next: Int32
}
