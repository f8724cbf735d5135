import Translation

/// An independent decision procedure for one guest-physical access through
/// EPT, written from the Intel SDM vol. 3C §29.3.2 (translation and entry
/// formats), §29.3.3.1 (misconfigurations), §29.3.3.2 (violations, table
/// 29-7 for the qualification) and §29.3.5 (accessed and dirty flags). It
/// is the yardstick for `EPTWalker` in randomized tests.
public struct EPTAccessOracle: Sendable {
    public var controls: EPTControls

    public init(controls: EPTControls) { self.controls = controls }

    /// What the oracle predicts.
    public enum Outcome: Hashable, Sendable, CustomStringConvertible {
        case translated(hostPhysical: UInt64, pageSize: PageSize, rights: EPTViolationQualification)
        case violation(EPTViolationQualification, level: Int)
        case misconfiguration(level: Int)

        /// An `EPTWalker` result in the oracle's terms (without the leaf entry's address).
        public init(_ result: EPTWalkResult) {
            switch result {
            case let .translated(translation):
                self = .translated(hostPhysical: translation.hostPhysical, pageSize: translation.pageSize,
                                   rights: translation.rights)
            case let .violation(qualification, level): self = .violation(qualification, level: level)
            case let .misconfiguration(level): self = .misconfiguration(level: level)
            }
        }

        public var description: String {
            switch self {
            case let .translated(host, size, rights):
                "translated to 0x\(String(host, radix: 16)) (\(size), rights \(rights))"
            case let .violation(qualification, level): "EPT violation \(qualification) at \(levelName(level))"
            case let .misconfiguration(level): "EPT misconfiguration at \(levelName(level))"
            }
        }
    }

    /// The outcome, the path's entries afterwards and how many were read.
    public struct Verdict: Sendable, CustomStringConvertible {
        public var outcome: Outcome
        public var entriesAfter: [UInt64]
        public var entriesUsed: Int
        public var reason: String
        public var description: String { "\(outcome) because \(reason)" }
    }

    /// Decides `access` to the guest-physical `address` (below 2^48 for a
    /// 4-level walk); `path` holds the entries a walk reads, root first.
    public func decide(address: UInt64, access: AccessType, userLinear: Bool, path: [UInt64]) -> Verdict {
        let levels = controls.pointer.mode?.levels ?? 4
        let accessBit: EPTViolationQualification = access == .read ? .read : access == .write ? .write : .fetch
        var readable = true, writable = true, executable = true, userExecutable = true
        var leafIndex: Int?
        for index in 0..<levels {
            precondition(index < path.count, "the path ends before the walk reaches a leaf")
            let level = levels - index
            let entry = path[index]
            // §29.3.2: an entry is present when bit 0, 1 or 2 is set (or bit 10 under MBEC).
            let presentBits: UInt64 = controls.modeBasedExecute ? 0x407 : 0x7
            if entry & presentBits == 0 {
                // Not present: the AND of the rights includes this entry's zeros.
                return Verdict(outcome: .violation(accessBit, level: level), entriesAfter: path, entriesUsed: index + 1,
                               reason: "the \(levelName(level))E is not present (§29.3.3.2)")
            }
            let isLeaf = level == 1 || ((level == 2 || level == 3) && entry & (1 << 7) != 0)
            if let why = misconfiguration(entry, level: level, isLeaf: isLeaf) {
                return Verdict(outcome: .misconfiguration(level: level), entriesAfter: path, entriesUsed: index + 1,
                               reason: "the \(levelName(level))E \(why) (§29.3.3.1)")
            }
            readable = readable && entry & 1 != 0
            writable = writable && entry & 2 != 0
            executable = executable && entry & 4 != 0
            userExecutable = userExecutable && entry & (1 << 10) != 0
            if isLeaf {
                leafIndex = index
                break
            }
        }
        guard let leafIndex else { preconditionFailure("a walk always ends at a leaf or an exit") }
        let leafLevel = levels - leafIndex

        // Table 29-7: bits 3-5 are the AND of bits 0-2 over the entries used;
        // bit 6 the AND of bit 10 when mode-based execute control is on.
        var rights: EPTViolationQualification = []
        if readable { rights.insert(.readable) }
        if writable { rights.insert(.writable) }
        if executable { rights.insert(.executable) }
        if controls.modeBasedExecute && userExecutable { rights.insert(.userExecutable) }
        let allowed: Bool
        switch access {
        case .read: allowed = readable
        case .write: allowed = writable
        case .fetch: allowed = controls.modeBasedExecute && userLinear ? userExecutable : executable
        }
        guard allowed else {
            return Verdict(outcome: .violation(rights.union(accessBit), level: leafLevel), entriesAfter: path,
                           entriesUsed: leafIndex + 1, reason: "the rights \(rights) deny a \(access) (§29.3.3.2)")
        }

        // §29.3.5: with A/D enabled, A (bit 8) in every entry used, D (bit 9) in the leaf of a write.
        var after = path
        if controls.pointer.accessedDirtyEnabled {
            for index in 0...leafIndex { after[index] |= 1 << 8 }
            if access == .write { after[leafIndex] |= 1 << 9 }
        }
        let pageShift = UInt64(12 + 9 * (leafLevel - 1))
        let pageMask: UInt64 = (1 << pageShift) - 1
        let base = path[leafIndex] & ((1 << 52) - 1) & ~pageMask
        guard let size = PageSize(leafLevel: leafLevel) else { preconditionFailure("a leaf sits at level 1, 2 or 3") }
        return Verdict(outcome: .translated(hostPhysical: base | (address & pageMask), pageSize: size, rights: rights),
                       entriesAfter: after, entriesUsed: leafIndex + 1, reason: "the rights allow the access")
    }

    /// Why a present entry is an EPT misconfiguration, or nil.
    func misconfiguration(_ entry: UInt64, level: Int, isLeaf: Bool) -> String? {
        let permissions = entry & 7
        if permissions == 0b010 || permissions == 0b110 { return "allows writes without reads" }
        if permissions == 0b100 && !controls.executeOnly { return "is execute-only, which is unsupported" }
        var reserved: UInt64 = 0
        for bit in controls.maxPhysicalAddressBits..<52 { reserved |= 1 << UInt64(bit) }
        switch level {
        case 5, 4:
            for bit in 3...7 { reserved |= 1 << UInt64(bit) }
        case 3 where isLeaf:
            if !controls.supports1GPages { return "maps a 1 GiB page, which is unsupported" }
            for bit in 12...29 { reserved |= 1 << UInt64(bit) }
        case 2 where isLeaf:
            for bit in 12...20 { reserved |= 1 << UInt64(bit) }
        case 3, 2:
            for bit in 3...6 { reserved |= 1 << UInt64(bit) }
        default:
            break
        }
        if entry & reserved != 0 { return "sets reserved bits 0x\(String(entry & reserved, radix: 16))" }
        if isLeaf {
            let memoryType = (entry >> 3) & 7
            if memoryType == 2 || memoryType == 3 || memoryType == 7 { return "has reserved memory type \(memoryType)" }
        }
        return nil
    }
}
