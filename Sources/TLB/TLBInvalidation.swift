import Translation

/// The INVPCID types (SDM vol. 2A, INVPCID).
@frozen public enum INVPCIDType: Int, Hashable, Sendable, CaseIterable {
    /// Type 0: the given address in the given PCID, except global translations.
    case individualAddress = 0
    /// Type 1: every non-global translation of the given PCID.
    case singleContext = 1
    /// Type 2: every translation, global ones included.
    case allContextsIncludingGlobal = 2
    /// Type 3: every non-global translation.
    case allContextsExceptGlobal = 3
}

/// The architectural invalidations (SDM vol. 3A §4.10.4), applied to the
/// TLB entries of the current VPID. Paging-structure caches are invalidated
/// by `TranslationCaches`, which calls these.
extension TLBHierarchy {
    /// INVLPG: the entries of every page size that cover `address` in the
    /// current PCID, global ones included.
    public func invalidatePage(_ address: UInt64) {
        let vpid = context.vpid, pcid = context.pcid
        invalidate { page, size, owner in
            owner.vpid == vpid && (owner.isGlobal || owner.pcid == pcid) && address & ~size.offsetMask == page
        }
    }

    /// A MOV to CR3. With CR4.PCIDE = 0 it invalidates every non-global
    /// entry (of PCID 0). With CR4.PCIDE = 1 it switches to the PCID in bits
    /// 11:0 and, unless bit 63 (no-flush) is set, invalidates that PCID's
    /// non-global entries.
    public func writeCR3(_ value: UInt64) {
        let vpid = context.vpid
        guard pcidEnabled else {
            setContext(TLBContext(vpid: vpid, pcid: 0))
            invalidate { _, _, owner in owner.vpid == vpid && !owner.isGlobal }
            return
        }
        let pcid = UInt16(truncatingIfNeeded: value & 0xFFF)
        setContext(TLBContext(vpid: vpid, pcid: pcid))
        if value & (1 << 63) == 0 {
            invalidate { _, _, owner in owner.vpid == vpid && !owner.isGlobal && owner.pcid == pcid }
        }
    }

    /// INVPCID of `type` with the descriptor's PCID and address.
    public func invalidatePCID(_ type: INVPCIDType, pcid: UInt16 = 0, address: UInt64 = 0) {
        let vpid = context.vpid
        let target = pcid & 0xFFF
        switch type {
        case .individualAddress:
            invalidate { page, size, owner in
                owner.vpid == vpid && !owner.isGlobal && owner.pcid == target && address & ~size.offsetMask == page
            }
        case .singleContext:
            invalidate { _, _, owner in owner.vpid == vpid && !owner.isGlobal && owner.pcid == target }
        case .allContextsIncludingGlobal:
            invalidate { _, _, owner in owner.vpid == vpid }
        case .allContextsExceptGlobal:
            invalidate { _, _, owner in owner.vpid == vpid && !owner.isGlobal }
        }
    }

    /// INVVPID single-context: every entry of `vpid`.
    public func invalidateVPID(_ vpid: UInt16) {
        invalidate { _, _, owner in owner.vpid == vpid }
    }

    /// Every entry of every context.
    public func flushAll() {
        invalidate { _, _, _ in true }
    }
}
