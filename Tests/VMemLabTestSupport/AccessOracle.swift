import Translation

/// An independent decision procedure for one x86-64 linear-address access
/// under 4-level or 5-level paging, written from the Intel SDM vol. 3A ch. 4
/// (section numbers below) and the AMD APM vol. 2 ch. 5. It is the yardstick
/// for `PageWalker`: it shares none of the walker's code, reads the entries of
/// a walk as a plain list, and answers each architectural question with its
/// own named rule, so a mismatch says which rule disagrees.
///
/// It follows three modelling choices that `PageWalker` documents:
/// - the PK error-code bit is set whenever the key denies the access, even
///   when the paging rights deny it too (as KVM reports it);
/// - a faulting walk sets no A or D bit;
/// - I/D is reported only when EFER.NXE or CR4.SMEP is set (§4.7).
public struct AccessOracle: Sendable {
    /// The paging controls the access runs under.
    public var controls: PagingControls

    public init(controls: PagingControls) { self.controls = controls }

    /// Decides `access` to the linear `address`. `path` holds the entries a
    /// walk reads, root first (index 0 is the PML5E or PML4E); it may run
    /// past the leaf, and entries after the one where the walk stops are
    /// ignored.
    public func decide(address: UInt64, access: MemoryAccess, path: [UInt64]) -> AccessVerdict {
        // §4.5 (and §3.3.7.1): a non-canonical address never reaches paging.
        guard isCanonical(address) else {
            return AccessVerdict(outcome: .nonCanonical, entriesAfter: path, entriesUsed: 0,
                                 reasons: ["address is not canonical for \(controls.mode) paging (§4.5)"])
        }

        // §4.5: the walk, one entry per level, top down. Each entry is first
        // checked for P, then for reserved bits, then asked whether it maps
        // the page.
        let levels = controls.mode.levels
        var leafIndex: Int?
        for index in 0..<levels {
            precondition(index < path.count, "the path ends before the walk reaches a leaf")
            let level = levels - index
            let entry = path[index]
            if entry & 1 == 0 {
                return fault(notPresentCode(access), level: level, path: path, used: index + 1,
                             reason: "\(levelName(level))E has P = 0 (§4.5, §4.7)")
            }
            let reserved = reservedBits(of: entry, level: level)
            if reserved != 0 {
                return fault(reservedCode(access), level: level, path: path, used: index + 1,
                             reason: "\(levelName(level))E sets reserved bits 0x\(String(reserved, radix: 16)) (§4.5, §4.7)")
            }
            if mapsPage(entry, level: level) {
                leafIndex = index
                break
            }
        }
        guard let leafIndex else { preconditionFailure("a walk always ends at a leaf or a fault") }
        let leafLevel = levels - leafIndex
        let used = Array(path[0...leafIndex])

        // §4.6: rights over the entries used.
        let judgement = judge(access, used: used)
        if judgement.pagingDenials.isEmpty && judgement.keyDenial == nil {
            return translated(address: address, access: access, path: path, used: used, leafLevel: leafLevel)
        }
        var code: PageFaultErrorCode = [.present]
        code.formUnion(accessBits(access))
        if judgement.keyDenial != nil { code.insert(.protectionKey) }
        let reasons = judgement.pagingDenials + (judgement.keyDenial.map { [$0] } ?? [])
        return AccessVerdict(outcome: .fault(PageFault(errorCode: code, level: leafLevel)), entriesAfter: path,
                             entriesUsed: leafIndex + 1, reasons: reasons)
    }

    // MARK: §4.5: structure and reserved bits

    /// A linear address is canonical when bits 63 down to the width of the
    /// address (47 or 56) all equal.
    func isCanonical(_ address: UInt64) -> Bool {
        let width = controls.mode == .fiveLevel ? 57 : 48
        let top = address >> UInt64(width - 1)
        let allOnes: UInt64 = (1 << UInt64(64 - width + 1)) - 1
        return top == 0 || top == allOnes
    }

    /// A PDE or PDPTE with PS = 1 maps a page; a PTE always does. PS in a
    /// PML5E or PML4E is a reserved bit, caught before this is asked.
    func mapsPage(_ entry: UInt64, level: Int) -> Bool {
        switch level {
        case 1: true
        case 2, 3: entry & (1 << 7) != 0
        default: false
        }
    }

    /// The reserved bits set in a present `entry` at `level` (SDM §4.5, the
    /// entry-format tables for PML5E to PTE; AMD APM §5.3).
    func reservedBits(of entry: UInt64, level: Int) -> UInt64 {
        var mask: UInt64 = 0
        // Every format: address bits 51:MAXPHYADDR are reserved.
        for bit in controls.maxPhysicalAddressBits..<52 { mask |= 1 << UInt64(bit) }
        // Every format: bit 63 is XD only when EFER.NXE = 1, reserved otherwise.
        if !controls.noExecute { mask |= 1 << 63 }
        let pageSizeBit = entry & (1 << 7) != 0
        switch level {
        case 5, 4:
            // PML5E and PML4E: bit 7 (PS) must be 0.
            mask |= 1 << 7
        case 3 where pageSizeBit:
            if controls.supports1GPages {
                // PDPTE mapping a 1 GiB page: bits 29:13 are reserved (bit 12 is PAT).
                for bit in 13...29 { mask |= 1 << UInt64(bit) }
            } else {
                // Without CPUID 80000001H:EDX.Page1GB, PS in a PDPTE is reserved.
                mask |= 1 << 7
            }
        case 2 where pageSizeBit:
            // PDE mapping a 2 MiB page: bits 20:13 are reserved (bit 12 is PAT).
            for bit in 13...20 { mask |= 1 << UInt64(bit) }
        default:
            break
        }
        return entry & mask
    }

    // MARK: §4.6: access rights

    /// The outcome of the rights rules for a walk that reached its leaf.
    struct Judgement {
        /// The paging-rights rules that deny the access (§4.6.1).
        var pagingDenials: [String] = []
        /// The protection-key rule that denies it, if one does (§4.6.2).
        var keyDenial: String?
    }

    func judge(_ access: MemoryAccess, used: [UInt64]) -> Judgement {
        // A linear address is a user-mode address when U/S = 1 in every entry
        // used, and writable when R/W = 1 in every entry used; it is
        // execute-disabled when XD = 1 in any of them (§4.6.1).
        let userModeAddress = used.allSatisfy { $0 & (1 << 2) != 0 }
        let readWriteEverywhere = used.allSatisfy { $0 & (1 << 1) != 0 }
        let executeDisableAnywhere = used.contains { $0 & (1 << 63) != 0 }
        let isUserAccess = access.privilege == .user
        var judgement = Judgement()

        switch access.type {
        case .fetch:
            if isUserAccess {
                if !userModeAddress {
                    judgement.pagingDenials.append("user fetch from a supervisor-mode address (§4.6.1)")
                }
            } else if controls.smep && userModeAddress {
                judgement.pagingDenials.append("CR4.SMEP: supervisor fetch from a user-mode address (§4.6.1)")
            }
            if controls.noExecute && executeDisableAnywhere {
                judgement.pagingDenials.append("EFER.NXE = 1 and XD = 1 at some level (§4.6.1)")
            }
        case .read, .write:
            let isWrite = access.type == .write
            if isUserAccess {
                if !userModeAddress {
                    judgement.pagingDenials.append("user data access to a supervisor-mode address (§4.6.1)")
                }
                if isWrite && !readWriteEverywhere {
                    judgement.pagingDenials.append("user write with R/W = 0 at some level (§4.6.1)")
                }
            } else {
                // SMAP: explicit supervisor accesses may touch user-mode
                // addresses only with EFLAGS.AC = 1; implicit ones never.
                let acRelaxes = access.privilege == .supervisor && controls.alignmentCheck
                if controls.smap && userModeAddress && !acRelaxes {
                    judgement.pagingDenials.append(
                        "CR4.SMAP: supervisor data access to a user-mode address without explicit EFLAGS.AC (§4.6.1)")
                }
                if isWrite && controls.writeProtect && !readWriteEverywhere {
                    judgement.pagingDenials.append("CR0.WP = 1: supervisor write with R/W = 0 at some level (§4.6.1)")
                }
            }
            // Protection keys govern data accesses to user-mode addresses,
            // at any privilege; they never affect instruction fetches.
            if controls.protectionKeys && userModeAddress, let leaf = used.last {
                let key = UInt32((leaf >> 59) & 0xF)
                let accessDisable = (controls.pkru >> (2 * key)) & 1 != 0
                let writeDisable = (controls.pkru >> (2 * key + 1)) & 1 != 0
                if accessDisable {
                    judgement.keyDenial = "PKRU.AD\(key) = 1 disables data access (§4.6.2)"
                } else if isWrite && writeDisable && (isUserAccess || controls.writeProtect) {
                    judgement.keyDenial = "PKRU.WD\(key) = 1 disables this write (§4.6.2)"
                }
            }
        }
        return judgement
    }

    // MARK: §4.7: error codes

    /// W/R, U/S and I/D, the bits that describe the access itself.
    func accessBits(_ access: MemoryAccess) -> PageFaultErrorCode {
        var code: PageFaultErrorCode = []
        if access.type == .write { code.insert(.write) }
        // U/S reports a user-mode access: CPL 3 and not an implicit supervisor access.
        if access.privilege == .user { code.insert(.user) }
        if access.type == .fetch && (controls.noExecute || controls.smep) { code.insert(.instructionFetch) }
        return code
    }

    func notPresentCode(_ access: MemoryAccess) -> PageFaultErrorCode { accessBits(access) }

    func reservedCode(_ access: MemoryAccess) -> PageFaultErrorCode {
        accessBits(access).union([.present, .reservedBit])
    }

    func fault(_ code: PageFaultErrorCode, level: Int, path: [UInt64], used: Int, reason: String) -> AccessVerdict {
        AccessVerdict(outcome: .fault(PageFault(errorCode: code, level: level)), entriesAfter: path, entriesUsed: used,
                      reasons: [reason])
    }

    // MARK: §4.8: accessed and dirty flags, and the translation

    func translated(address: UInt64, access: MemoryAccess, path: [UInt64], used: [UInt64], leafLevel: Int)
        -> AccessVerdict
    {
        var after = path
        // A is set in every entry used; D only in the entry that maps the page, for a write.
        for index in used.indices { after[index] |= 1 << 5 }
        if access.type == .write { after[used.count - 1] |= 1 << 6 }

        let leaf = used[used.count - 1]
        let pageShift = UInt64(12 + 9 * (leafLevel - 1))
        let pageMask: UInt64 = (1 << pageShift) - 1
        let addressField: UInt64 = (1 << 52) - 1
        let physical = (leaf & addressField & ~pageMask) | (address & pageMask)
        var rights: EffectiveRights = []
        if used.allSatisfy({ $0 & (1 << 1) != 0 }) { rights.insert(.writable) }
        if used.allSatisfy({ $0 & (1 << 2) != 0 }) { rights.insert(.user) }
        if !used.contains(where: { $0 & (1 << 63) != 0 }) { rights.insert(.executable) }
        guard let size = PageSize(leafLevel: leafLevel) else { preconditionFailure("a leaf sits at level 1, 2 or 3") }
        let outcome = AccessVerdict.Outcome.translated(
            physicalAddress: physical, pageSize: size, rights: rights,
            protectionKey: UInt8(truncatingIfNeeded: (leaf >> 59) & 0xF))
        return AccessVerdict(outcome: outcome, entriesAfter: after, entriesUsed: used.count,
                             reasons: ["every rule allows the access (§4.6)"])
    }
}
