import Translation

/// The named guest-OS workloads, deterministic from a seed.
public enum GuestOSWorkload: String, CaseIterable, Sendable {
    /// TLB-miss heavy: GUPS, random read-modify-write updates of 8-byte
    /// words over a large region of one process, after touching each page once.
    case gups
    /// Page-table-update heavy: a parent with a populated heap forks
    /// children that write a few copy-on-write pages, "exec" (unmap the
    /// heap, map and touch fresh memory) and exit, while the parent churns
    /// small mmap/munmap regions.
    case forkChurn = "fork-churn"
    /// Page-table-update heavy: map a region, touch every page, unmap it, again.
    case faultStorm = "fault-storm"
    /// GUPS with page-table updates mixed in at a tunable ratio: for each
    /// GUPS access, `updateRatio` fresh pages (on average) are faulted in;
    /// every 64 faulted pages are then unmapped together.
    case mixed

    /// What the workload is, in one line.
    public var summary: String {
        switch self {
        case .gups: "GUPS: random 8-byte writes over the footprint (TLB-miss heavy)"
        case .forkChurn: "fork, copy-on-write, exec-like unmap/map, exit; mmap churn in the parent (update heavy)"
        case .faultStorm: "map a region, touch every page, unmap it, repeatedly (update heavy)"
        case .mixed: "GUPS with update-ratio fresh-page faults per access, unmapped 64 at a time"
        }
    }
}

/// The knobs of a guest-OS workload.
public struct GuestOSWorkloadOptions: Hashable, Sendable {
    /// The seed of every random choice.
    public var seed: UInt64 = 42
    /// About how many events to generate.
    public var events: Int = 100_000
    /// The bytes of the main data region (GUPS table, forking parent's heap).
    public var footprintBytes: UInt64 = 64 << 20
    /// The page size of the main data region.
    public var pageSize: PageSize = .size4K
    /// For `mixed`: fresh-page faults per GUPS access.
    public var updateRatio: Double = 0.01

    public init(seed: UInt64 = 42, events: Int = 100_000, footprintBytes: UInt64 = 64 << 20,
                pageSize: PageSize = .size4K, updateRatio: Double = 0.01) {
        self.seed = seed
        self.events = events
        self.footprintBytes = footprintBytes
        self.pageSize = pageSize
        self.updateRatio = updateRatio
    }
}

/// SplitMix64: a small, fast, seedable generator for workload choices.
@frozen public struct GuestOSRandom: RandomNumberGenerator, Sendable {
    public var state: UInt64
    @inlinable public init(seed: UInt64) { state = seed }
    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }
}

extension GuestOSWorkload {
    /// Where the main data region starts (64 GiB, aligned for 1G pages).
    public static let dataBase: UInt64 = 0x10_0000_0000
    /// Where churned regions start.
    public static let churnBase: UInt64 = 0x7F00_0000_0000

    /// Generates the events.
    public func events(_ options: GuestOSWorkloadOptions) -> [GuestOSEvent] {
        var random = GuestOSRandom(seed: options.seed)
        var out: [GuestOSEvent] = []
        out.reserveCapacity(options.events + 1024)
        let footprint = max(options.pageSize.bytes, options.footprintBytes & ~options.pageSize.offsetMask)
        switch self {
        case .gups:
            out.append(.spawn(1))
            out.append(.mmap(1, start: Self.dataBase, length: footprint, writable: true, pageSize: options.pageSize))
            Self.populate(footprint, options.pageSize, into: &out)
            while out.count < options.events {
                out.append(.access(1, address: Self.dataBase + (random.next() % footprint) & ~7, .write))
            }
        case .faultStorm:
            out.append(.spawn(1))
            let region: UInt64 = 2 << 20
            var start = Self.churnBase
            while out.count < options.events {
                out.append(.mmap(1, start: start, length: region, writable: true, pageSize: .size4K))
                for page in stride(from: UInt64(0), to: region, by: 4096) {
                    out.append(.access(1, address: start + page + (random.next() & 0xFF8), .write))
                }
                out.append(.munmap(1, start: start, length: region))
                start += region
            }
        case .forkChurn:
            Self.forkChurn(options, footprint: footprint, random: &random, into: &out)
        case .mixed:
            Self.mixed(options, footprint: footprint, random: &random, into: &out)
        }
        return out
    }

    /// Touches every page of the data region once, in order (the set-up
    /// phase of GUPS and mixed).
    static func populate(_ footprint: UInt64, _ size: PageSize, into out: inout [GuestOSEvent]) {
        for page in stride(from: UInt64(0), to: footprint, by: UInt64.Stride(size.bytes)) {
            out.append(.access(1, address: Self.dataBase + page, .write))
        }
    }

    static func forkChurn(_ options: GuestOSWorkloadOptions, footprint: UInt64, random: inout GuestOSRandom,
                          into out: inout [GuestOSEvent]) {
        let heap = min(footprint, 8 << 20)
        let size = options.pageSize
        out.append(.spawn(1))
        out.append(.mmap(1, start: Self.dataBase, length: heap, writable: true, pageSize: size))
        for page in stride(from: UInt64(0), to: heap, by: UInt64.Stride(size.bytes)) {
            out.append(.access(1, address: Self.dataBase + page, .write))
        }
        var child: GuestProcessID = 2
        var scratch = Self.churnBase
        while out.count < options.events {
            out.append(.fork(parent: 1, child: child))
            for _ in 0..<8 {
                out.append(.access(child, address: Self.dataBase + (random.next() % heap) & ~7, .write))
            }
            // exec: the inherited heap goes, a fresh image is mapped and touched.
            out.append(.munmap(child, start: Self.dataBase, length: heap))
            let image: UInt64 = 256 << 10
            out.append(.mmap(child, start: Self.churnBase - image, length: image, writable: true, pageSize: .size4K))
            for page in stride(from: UInt64(0), to: image, by: 4096) {
                out.append(.access(child, address: Self.churnBase - image + page, .write))
            }
            out.append(.exit(child))
            // The parent: a small mmap/touch/munmap, and some heap reads.
            let region: UInt64 = 64 << 10
            out.append(.mmap(1, start: scratch, length: region, writable: true, pageSize: .size4K))
            for page in stride(from: UInt64(0), to: region, by: 4096) {
                out.append(.access(1, address: scratch + page, .write))
            }
            out.append(.munmap(1, start: scratch, length: region))
            scratch += region
            for _ in 0..<16 {
                out.append(.access(1, address: Self.dataBase + (random.next() % heap) & ~7, .read))
            }
            child = child == 1_000_000 ? 2 : child + 1
        }
    }

    static func mixed(_ options: GuestOSWorkloadOptions, footprint: UInt64, random: inout GuestOSRandom,
                      into out: inout [GuestOSEvent]) {
        let window: UInt64 = 64
        out.append(.spawn(1))
        out.append(.mmap(1, start: Self.dataBase, length: footprint, writable: true, pageSize: options.pageSize))
        Self.populate(footprint, options.pageSize, into: &out)
        var churn = Self.churnBase
        var faulted: UInt64 = 0
        var credit = 0.0
        let ratio = max(0, options.updateRatio)
        while out.count < options.events {
            out.append(.access(1, address: Self.dataBase + (random.next() % footprint) & ~7, .write))
            credit += ratio
            while credit >= 1 {
                credit -= 1
                if faulted == 0 {
                    out.append(.mmap(1, start: churn, length: window * 4096, writable: true, pageSize: .size4K))
                }
                out.append(.access(1, address: churn + faulted * 4096, .write))
                faulted += 1
                if faulted == window {
                    out.append(.munmap(1, start: churn, length: window * 4096))
                    churn += window * 4096
                    faulted = 0
                }
            }
        }
    }
}
