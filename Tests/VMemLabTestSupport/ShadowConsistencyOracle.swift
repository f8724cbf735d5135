import Translation

/// A slow, obviously correct check of a shadow page table against the
/// guest's tables composed with the host mapping.
///
/// It visits every present leaf of a shadow tree. A leaf in an unsync page
/// may be stale (unless the root is checked strictly: the guest has flushed
/// since its last change). Any other leaf must map exactly what the guest
/// walk composed with the host mapping gives: the same host page, at the
/// smaller of the guest and host page sizes, with no more rights than the
/// guest grants, writable only if the guest entry is dirty, and the guest
/// entry accessed.
public enum ShadowConsistencyOracle {
    /// One shadow tree to check.
    public struct Root {
        public var guestRoot: UInt64
        public var shadowRoot: UInt64
        /// Check unsync pages too.
        public var strict: Bool
        public init(guestRoot: UInt64, shadowRoot: UInt64, strict: Bool) {
            self.guestRoot = guestRoot
            self.shadowRoot = shadowRoot
            self.strict = strict
        }
    }

    /// The violations found, described; empty when the shadow is consistent.
    public static func violations(
        mode: PagingMode, roots: [Root], guestLoad: (UInt64) -> UInt64, hostLoad: (UInt64) -> UInt64,
        hostTranslate: (UInt64) -> (UInt64, PageSize)?, isUnsync: (UInt64) -> Bool, limit: Int = 8
    ) -> [String] {
        var found: [String] = []
        for root in roots {
            visit(table: root.shadowRoot, level: mode.levels, base: 0, root: root, mode: mode, guestLoad: guestLoad,
                  hostLoad: hostLoad, hostTranslate: hostTranslate, isUnsync: isUnsync, found: &found, limit: limit)
        }
        return found
    }

    static func visit(
        table: UInt64, level: Int, base: UInt64, root: Root, mode: PagingMode, guestLoad: (UInt64) -> UInt64,
        hostLoad: (UInt64) -> UInt64, hostTranslate: (UInt64) -> (UInt64, PageSize)?, isUnsync: (UInt64) -> Bool,
        found: inout [String], limit: Int
    ) {
        let unsync = isUnsync(table)
        for index in 0..<UInt64(512) where found.count < limit {
            let entry = hostLoad(table + index * 8)
            guard entry & 1 != 0 else { continue }
            let address = base | index << (12 + 9 * UInt64(level - 1))
            if level > 1 && entry & 0x80 == 0 {
                visit(table: entry & 0x000F_FFFF_FFFF_F000, level: level - 1, base: address, root: root, mode: mode,
                      guestLoad: guestLoad, hostLoad: hostLoad, hostTranslate: hostTranslate, isUnsync: isUnsync,
                      found: &found, limit: limit)
                continue
            }
            if unsync && !root.strict { continue }
            if let problem = check(address: address, shadowEntry: entry, shadowLevel: level, guestRoot: root.guestRoot,
                                   mode: mode, guestLoad: guestLoad, hostTranslate: hostTranslate) {
                found.append("root 0x\(String(root.guestRoot, radix: 16)) va 0x\(String(address, radix: 16)): \(problem)")
            }
        }
    }

    /// The guest's translation of `address`, walked without side effects.
    public static func guestWalk(_ address: UInt64, root: UInt64, mode: PagingMode, guestLoad: (UInt64) -> UInt64)
        -> (physical: UInt64, size: PageSize, writable: Bool, user: Bool, executable: Bool, leaf: UInt64)?
    {
        var table = root & 0x000F_FFFF_FFFF_F000
        var writable = true, user = true, executable = true
        for level in stride(from: mode.levels, through: 1, by: -1) {
            let entry = guestLoad(table + ((address >> (12 + 9 * UInt64(level - 1))) & 511) * 8)
            guard entry & 1 != 0 else { return nil }
            writable = writable && entry & 2 != 0
            user = user && entry & 4 != 0
            executable = executable && entry >> 63 == 0
            if level == 1 || (level <= 3 && entry & 0x80 != 0) {
                let size = PageSize(leafLevel: level)!
                let physical = (entry & 0x000F_FFFF_FFFF_F000 & ~size.offsetMask) | (address & size.offsetMask)
                return (physical, size, writable, user, executable, entry)
            }
            table = entry & 0x000F_FFFF_FFFF_F000
        }
        return nil
    }

    static func check(
        address: UInt64, shadowEntry: UInt64, shadowLevel: Int, guestRoot: UInt64, mode: PagingMode,
        guestLoad: (UInt64) -> UInt64, hostTranslate: (UInt64) -> (UInt64, PageSize)?
    ) -> String? {
        guard let guest = guestWalk(address, root: guestRoot, mode: mode, guestLoad: guestLoad) else {
            return "the shadow maps it but the guest does not"
        }
        guard let (hostPhysical, hostSize) = hostTranslate(guest.physical) else { return "the host does not map gPA" }
        let size = min(guest.size, hostSize)
        if size.leafLevel != shadowLevel { return "shadow leaf at level \(shadowLevel), expected \(size)" }
        let shadowPage = shadowEntry & 0x000F_FFFF_FFFF_F000 & ~size.offsetMask
        if shadowPage != hostPhysical & ~size.offsetMask {
            return "maps 0x\(String(shadowPage, radix: 16)), expected 0x\(String(hostPhysical & ~size.offsetMask, radix: 16))"
        }
        if shadowEntry & 2 != 0 && !(guest.writable && guest.leaf & 0x40 != 0) { return "writable but the guest entry is read-only or clean" }
        if (shadowEntry & 4 != 0) != guest.user { return "U/S differs from the guest" }
        if shadowEntry >> 63 == 0 && !guest.executable { return "executable but the guest forbids it" }
        if guest.leaf & 0x20 == 0 { return "the guest entry's A bit is clear" }
        return nil
    }
}
