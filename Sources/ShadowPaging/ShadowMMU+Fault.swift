import Translation

/// Records the guest entries a walk reads, one per level.
struct GuestPathRecorder: WalkObserver {
    var entries = SIMD8<UInt64>()
    mutating func observe(_ reference: WalkReference) {
        entries[reference.level] = reference.entry
    }
}

extension ShadowMMU {
    /// The fault handler (KVM's `FNAME(page_fault)`): walks the guest's
    /// tables, and either returns the guest's own fault or builds the
    /// missing shadow entries down to the leaf.
    mutating func handleFault(_ address: UInt64, _ type: AccessType, prefetch: Bool = false) -> PageFault? {
        makePagesAvailable()
        var guest = guestMemory
        var path = GuestPathRecorder()
        let walk = guestWalker.walk(address, access: MemoryAccess(type, .user), root: guestRoot, memory: &guest, observer: &path)
        let translation: WalkTranslation
        switch walk {
        case let .translated(result): translation = result
        case let .fault(fault): return fault
        case .nonCanonical: return PageFault(errorCode: guestWalker.notPresentCode(MemoryAccess(type, .user)), level: configuration.mode.levels)
        }
        if currentRoot < 0 { reloadRoot() }
        let guestSize = translation.pageSize
        let guestPage = translation.physicalAddress & ~guestSize.offsetMask
        var hostMemory = memory
        if !host.isBacked(translation.physicalAddress) {
            host.back(translation.physicalAddress & ~host.pageSize.offsetMask, bytes: host.pageSize.bytes, memory: &hostMemory)
        }
        guard let hostTranslation = host.translate(translation.physicalAddress, memory: &hostMemory) else {
            return PageFault(errorCode: .user, level: 1)
        }
        let shadowSize = min(guestSize, hostTranslation.pageSize)
        let leafLevel = shadowSize.leafLevel

        var slot = currentRoot
        var level = configuration.mode.levels
        var rights = RightsAccumulator()
        pages[Int(slot)].writeFlooding = 0
        let guestLeaf = guest.load64(translation.leafEntryAddress)
        // A clean guest leaf grants no write below it: the first write must
        // fault to set D (KVM's `FNAME(protect_clean_gpte)`).
        var leafRights = translation.rights
        if guestLeaf & (1 << 6) == 0 { leafRights.remove(.writable) }
        while level > leafLevel {
            if level > guestSize.leafLevel { rights.add(path.entries[level]) }
            let childLevel = level - 1
            let frame: UInt64, role: ShadowRole
            if childLevel >= guestSize.leafLevel {
                frame = (path.entries[level] & PageTableEntry.addressMask) >> 12
                role = ShadowRole(level: childLevel, direct: false, access: rights.effective)
            } else {
                let span: UInt64 = 1 << (12 + 9 * UInt64(level - 1))
                frame = (guestPage + (address & guestSize.offsetMask & ~(span - 1))) >> 12
                role = ShadowRole(level: childLevel, direct: true, access: leafRights)
            }
            let entryAddress = Self.table(slot) &+ PagingMode.index(of: address, at: level) &* 8
            let entry = memory.load64(entryAddress)
            if entry & 1 != 0 {
                // Follow an entry only to the page this path needs (KVM's
                // `validate_direct_spte`); drop it otherwise.
                let existing = Self.slot(ofTable: entry & PageTableEntry.addressMask)
                if entry & (1 << 7) == 0 && pages[Int(existing)].key == frame &<< 8 | UInt64(role.raw) {
                    slot = existing
                    pages[Int(slot)].writeFlooding = 0
                    level -= 1
                    continue
                }
                zapEntry(in: slot, at: entryAddress)
            }
            let child = shadowPage(frame: frame, role: role)
            link(child, from: entryAddress, in: slot)
            slot = child
            level -= 1
        }
        let entryAddress = Self.table(slot) &+ PagingMode.index(of: address, at: leafLevel) &* 8
        let hostPage = hostTranslation.hostPhysical & ~shadowSize.offsetMask
        let frame = (translation.physicalAddress & ~PageSize.size4K.offsetMask) >> 12
        var writable = leafRights.contains(.writable)
        if writable && pagesByFrame[frame] != nil { writable = tryUnsync(frame) }
        memory.store64(entryAddress, leafEntry(hostPage, size: shadowSize, rights: translation.rights, writable: writable,
                                               dirty: writable && type == .write))
        if prefetch { counters.prefetchedEntries += 1 } else { counters.shadowFaults += 1 }
        if configuration.prefetch && leafLevel == 1 {
            prefetchNeighbours(slot, index: PagingMode.index(of: address, at: 1))
        }
        return nil
    }

    /// Maps the missing neighbours of a new 4K shadow leaf in its aligned
    /// group of 8 (KVM's `FNAME(pte_prefetch)` and `direct_pte_prefetch`,
    /// `PTE_PREFETCH_NUM`): guest entries that are present and accessed
    /// (indirect pages), or the next frames of the guest large page (direct
    /// pages). A prefetched leaf is writable only if its guest entry is dirty
    /// and its frame is not shadowed (a prefetch never unsyncs).
    mutating func prefetchNeighbours(_ slot: Int32, index: UInt64) {
        let page = pages[Int(slot)]
        let table = Self.table(slot)
        let guest = guestMemory
        var hostMemory = memory
        let first = index & ~7
        for neighbour in first..<(first + 8) where neighbour != index {
            let entryAddress = table &+ neighbour &* 8
            if memory.load64(entryAddress) & 1 != 0 { continue }
            let guestPhysical: UInt64, rights: EffectiveRights, dirty: Bool
            if page.role.direct {
                guestPhysical = (page.frame &+ neighbour) << 12
                rights = page.role.access
                dirty = rights.contains(.writable)
            } else {
                let guestEntry = guest.load64(page.frame << 12 | neighbour &* 8)
                guard guestEntry & 0x21 == 0x21,
                      guestEntry & guestWalker.reservedBits(level: 1, entry: guestEntry, base: guestWalker.baseReservedBits) == 0
                else { continue }
                var accumulated = RightsAccumulator()
                accumulated.add(guestEntry)
                rights = accumulated.effective.intersection(page.role.access)
                guestPhysical = guestEntry & PageTableEntry.addressMask
                dirty = guestEntry & (1 << 6) != 0
            }
            guard host.isBacked(guestPhysical), let hostTranslation = host.translate(guestPhysical, memory: &hostMemory) else { continue }
            let writable = rights.contains(.writable) && dirty && pagesByFrame[guestPhysical >> 12] == nil
            memory.store64(entryAddress, leafEntry(hostTranslation.hostPhysical & PageTableEntry.addressMask, size: .size4K,
                                                   rights: rights, writable: writable, dirty: false))
            counters.faultPrefetches += 1
        }
    }

    /// Fills the shadow entries for `address` from the current root without
    /// a fault, as a VMM rebuilding a subtree does. Returns false when the
    /// guest does not map the address.
    public mutating func prefetch(_ address: UInt64) -> Bool {
        guard hasRoot else { return false }
        if currentRoot < 0 { reloadRoot() }
        return handleFault(address, .read, prefetch: true) == nil
    }

    /// A shadow leaf entry.
    func leafEntry(_ hostPage: UInt64, size: PageSize, rights: EffectiveRights, writable: Bool, dirty: Bool) -> UInt64 {
        var flags: PageTableEntry.Flags = [.present, .accessed]
        if writable { flags.insert(.writable) }
        if dirty { flags.insert(.dirty) }
        if rights.contains(.user) { flags.insert(.user) }
        if !rights.contains(.executable) { flags.insert(.executeDisable) }
        if size != .size4K { flags.insert(.pageSize) }
        return hostPage | flags.rawValue
    }

    /// The shadow page for `frame` and `role`, found or built (KVM's
    /// `kvm_mmu_get_shadow_page`). A found page that is unsync is synced; a
    /// new non-leaf page zaps unsync pages of the same frame.
    mutating func shadowPage(frame: UInt64, role: ShadowRole) -> Int32 {
        let key = frame &<< 8 | UInt64(role.raw)
        if let slot = pagesByKey[key] {
            if pages[Int(slot)].unsync { syncPage(slot) }
            return slot
        }
        if !role.direct && role.level > 1 {
            var other = pagesByFrame[frame] ?? -1
            while other >= 0 {
                let next = pages[Int(other)].nextSameFrame
                if pages[Int(other)].unsync { zap(other) }
                other = next
            }
        }
        let slot = allocateSlot()
        let table = Self.table(slot)
        for word in 0..<UInt64(512) { memory.store64(table &+ word &* 8, 0) }
        for word in 0..<8 { unsyncChildBits[Int(slot) &* 8 &+ word] = 0 }
        var page = ShadowPage()
        page.key = key
        page.frame = frame
        page.role = role
        page.live = true
        page.older = newest
        if !role.direct {
            page.nextSameFrame = pagesByFrame[frame] ?? -1
            pagesByFrame[frame] = slot
        }
        pages[Int(slot)] = page
        if newest >= 0 { pages[Int(newest)].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
        pagesByKey[key] = slot
        pageCount += 1
        counters.shadowPagesCreated += 1
        return slot
    }

    mutating func allocateSlot() -> Int32 {
        if let slot = freeSlots.popLast() { return slot }
        if pageCount >= configuration.maxShadowPages { zapOldest() }
        if let slot = freeSlots.popLast() { return slot }
        pages.append(ShadowPage())
        unsyncChildBits.append(contentsOf: repeatElement(0, count: 8))
        return Int32(pages.count - 1)
    }

    /// Zaps the oldest pages no root holds until a fault has room for a
    /// whole path (KVM's `make_mmu_pages_available`).
    mutating func makePagesAvailable() {
        while pageCount > configuration.maxShadowPages - configuration.mode.levels, zapOldest() {}
    }

    /// Zaps the oldest page no root holds; false if there is none.
    @discardableResult
    mutating func zapOldest() -> Bool {
        var candidate = oldest
        while candidate >= 0 && pages[Int(candidate)].rootCount > 0 { candidate = pages[Int(candidate)].newer }
        guard candidate >= 0 else { return false }
        counters.recycled += 1
        zap(candidate)
        return true
    }

    /// Points the shadow entry at `entryAddress` (in page `parent`) at `child`.
    mutating func link(_ child: Int32, from entryAddress: UInt64, in parent: Int32) {
        memory.store64(entryAddress, Self.table(child) | Self.nonLeafBits)
        let link = ParentLink(entry: entryAddress, next: pages[Int(child)].firstParent)
        if freeParentLink >= 0 {
            let index = freeParentLink
            freeParentLink = parentLinks[Int(index)].next
            parentLinks[Int(index)] = link
            pages[Int(child)].firstParent = index
        } else {
            parentLinks.append(link)
            pages[Int(child)].firstParent = Int32(parentLinks.count - 1)
        }
        if pages[Int(child)].unsync || pages[Int(child)].unsyncChildren > 0 { markUnsync(entryAddress) }
    }

    /// Removes the link from the shadow entry at `entryAddress` to `child`.
    mutating func unlink(_ child: Int32, from entryAddress: UInt64) {
        var previous: Int32 = -1
        var link = pages[Int(child)].firstParent
        while link >= 0 {
            let next = parentLinks[Int(link)].next
            if parentLinks[Int(link)].entry == entryAddress {
                if previous >= 0 { parentLinks[Int(previous)].next = next } else { pages[Int(child)].firstParent = next }
                parentLinks[Int(link)].next = freeParentLink
                freeParentLink = link
                return
            }
            previous = link
            link = next
        }
    }

    /// Clears one shadow entry, unlinking the page it points at.
    mutating func zapEntry(in slot: Int32, at entryAddress: UInt64) {
        let entry = memory.load64(entryAddress)
        guard entry & 1 != 0 else { return }
        if pages[Int(slot)].role.level > 1 && entry & (1 << 7) == 0 {
            unlink(Self.slot(ofTable: entry & PageTableEntry.addressMask), from: entryAddress)
        }
        memory.store64(entryAddress, 0)
        requestFlush()
    }

    /// Zaps a shadow page (KVM's `kvm_mmu_prepare_zap_page`): its entries
    /// stop pointing at children, every entry pointing at it is cleared, it
    /// leaves the root cache, and its slot is freed.
    mutating func zap(_ slot: Int32) {
        let index = Int(slot)
        let table = Self.table(slot)
        if pages[index].role.level > 1 {
            for word in 0..<UInt64(512) {
                let entryAddress = table &+ word &* 8
                let entry = memory.load64(entryAddress)
                if entry & 1 != 0 && entry & (1 << 7) == 0 {
                    unlink(Self.slot(ofTable: entry & PageTableEntry.addressMask), from: entryAddress)
                }
            }
        }
        var link = pages[index].firstParent
        while link >= 0 {
            memory.store64(parentLinks[Int(link)].entry, 0)
            let next = parentLinks[Int(link)].next
            parentLinks[Int(link)].next = freeParentLink
            freeParentLink = link
            link = next
        }
        if pages[index].rootCount > 0 {
            roots.removeAll { $0.slot == slot }
            if currentRoot == slot { currentRoot = -1 }
        }
        pagesByKey[pages[index].key] = nil
        if !pages[index].role.direct {
            let frame = pages[index].frame
            var previous: Int32 = -1
            var other = pagesByFrame[frame] ?? -1
            while other >= 0 && other != slot {
                previous = other
                other = pages[Int(other)].nextSameFrame
            }
            let next = pages[index].nextSameFrame
            if previous >= 0 {
                pages[Int(previous)].nextSameFrame = next
            } else {
                pagesByFrame[frame] = next >= 0 ? next : nil
            }
        }
        let older = pages[index].older, newer = pages[index].newer
        if older >= 0 { pages[Int(older)].newer = newer } else { oldest = newer }
        if newer >= 0 { pages[Int(newer)].older = older } else { newest = older }
        pages[index] = ShadowPage()
        freeSlots.append(slot)
        pageCount -= 1
        counters.zaps += 1
        requestFlush()
    }

    /// Zaps every shadow page of a guest frame, and every page below them.
    public mutating func zapSubtree(ofGuestFrame frame: UInt64) {
        while let slot = pagesByFrame[frame] { zapSubtree(slot) }
    }

    mutating func zapSubtree(_ slot: Int32) {
        if pages[Int(slot)].role.level > 1 {
            let table = Self.table(slot)
            for word in 0..<UInt64(512) {
                let entry = memory.load64(table &+ word &* 8)
                if entry & 1 != 0 && entry & (1 << 7) == 0 {
                    let child = Self.slot(ofTable: entry & PageTableEntry.addressMask)
                    if pages[Int(child)].live { zapSubtree(child) }
                }
            }
        }
        if pages[Int(slot)].live { zap(slot) }
    }
}
