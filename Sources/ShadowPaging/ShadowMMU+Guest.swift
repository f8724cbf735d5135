import Translation

extension ShadowMMU {
    // MARK: Guest page-table stores

    /// The guest stores `value` into its page-table entry at the
    /// guest-physical `address`. A frame no shadow page shadows takes a plain
    /// store. A frame shadowed only as leaf tables takes one write fault that
    /// marks them unsync, then plain stores. Any other shadowed frame traps:
    /// the store is emulated and the shadow entries at that offset zapped.
    public mutating func storePageTableEntry(_ address: UInt64, _ value: UInt64) {
        let frame = address >> 12
        var guest = guestMemory
        guard let first = pagesByFrame[frame] else {
            guest.store64(address & ~7, value)
            return
        }
        var onlyLeaves = true, allUnsync = true
        var slot = first
        while slot >= 0 {
            if pages[Int(slot)].role.level > 1 { onlyLeaves = false }
            if !pages[Int(slot)].unsync { allUnsync = false }
            slot = pages[Int(slot)].nextSameFrame
        }
        if onlyLeaves && configuration.unsync {
            if !allUnsync {
                counters.unsyncFaults += 1
                _ = tryUnsync(frame)
            }
            guest.store64(address & ~7, value)
            return
        }
        counters.pageTableWriteTraps += 1
        guest.store64(address & ~7, value)
        let offset = address & 0xFF8
        slot = first
        while slot >= 0 {
            let next = pages[Int(slot)].nextSameFrame
            if pages[Int(slot)].role.level > 1 {
                pages[Int(slot)].writeFlooding += 1
                if pages[Int(slot)].writeFlooding >= Int32(configuration.writeFloodThreshold) {
                    counters.flooded += 1
                    zap(slot)
                    slot = next
                    continue
                }
            }
            if memory.load64(Self.table(slot) &+ offset) & 1 != 0 {
                counters.entryZaps += 1
                zapEntry(in: slot, at: Self.table(slot) &+ offset)
            }
            slot = next
        }
    }

    /// The guest zeroes a frame it will use as a page table: 512 stores,
    /// each handled like any page-table store while the frame is shadowed.
    public mutating func zeroPageTable(_ address: UInt64) {
        let frame = address & ~0xFFF
        var guest = guestMemory
        var word: UInt64 = 0
        while word < 512 {
            if pagesByFrame[frame >> 12] == nil { break }
            storePageTableEntry(frame &+ word &* 8, 0)
            word += 1
        }
        while word < 512 {
            guest.store64(frame &+ word &* 8, 0)
            word += 1
        }
    }

    /// Marks the leaf shadow pages of `frame` unsync, so the guest may store
    /// into the frame. Returns false (nothing changes) when a non-leaf page
    /// shadows it or unsync is off (KVM's `mmu_try_to_unsync_pages`).
    mutating func tryUnsync(_ frame: UInt64) -> Bool {
        guard configuration.unsync else { return false }
        var slot = pagesByFrame[frame] ?? -1
        while slot >= 0 {
            if pages[Int(slot)].role.level > 1 { return false }
            slot = pages[Int(slot)].nextSameFrame
        }
        slot = pagesByFrame[frame] ?? -1
        while slot >= 0 {
            if !pages[Int(slot)].unsync {
                pages[Int(slot)].unsync = true
                counters.unsyncs += 1
                var link = pages[Int(slot)].firstParent
                while link >= 0 {
                    markUnsync(parentLinks[Int(link)].entry)
                    link = parentLinks[Int(link)].next
                }
            }
            slot = pages[Int(slot)].nextSameFrame
        }
        return true
    }

    /// Marks the shadow entry at `entryAddress` as leading to unsync pages,
    /// and its page's parents in turn (KVM's `mark_unsync`).
    mutating func markUnsync(_ entryAddress: UInt64) {
        let slot = Self.slot(ofTable: entryAddress)
        let bit = Int((entryAddress & 0xFFF) >> 3)
        let word = Int(slot) &* 8 &+ bit >> 6
        let mask: UInt64 = 1 << UInt64(bit & 63)
        if unsyncChildBits[word] & mask != 0 { return }
        unsyncChildBits[word] |= mask
        pages[Int(slot)].unsyncChildren += 1
        if pages[Int(slot)].unsyncChildren > 1 { return }
        var link = pages[Int(slot)].firstParent
        while link >= 0 {
            markUnsync(parentLinks[Int(link)].entry)
            link = parentLinks[Int(link)].next
        }
    }

    // MARK: Syncing

    /// Brings an unsync leaf page back in sync with the guest table (KVM's
    /// `kvm_sync_page`): each present entry whose guest entry is gone, not
    /// accessed, or points elsewhere is zapped; the others get the guest's
    /// current rights.
    mutating func syncPage(_ slot: Int32) {
        let table = Self.table(slot)
        for word in 0..<UInt64(512) {
            syncEntry(slot, at: table &+ word &* 8)
        }
        pages[Int(slot)].unsync = false
        counters.syncs += 1
    }

    /// Resyncs one entry of a leaf page from the guest entry it shadows.
    mutating func syncEntry(_ slot: Int32, at entryAddress: UInt64) {
        let entry = memory.load64(entryAddress)
        guard entry & 1 != 0 else { return }
        counters.syncedEntries += 1
        let page = pages[Int(slot)]
        let guestEntry = guestMemory.load64(page.frame << 12 | (entryAddress & 0xFF8))
        var hostMemory = memory
        let accessed: UInt64 = 1 << 5
        guard guestEntry & 1 != 0, guestEntry & accessed != 0,
              let hostTranslation = host.translate(guestEntry & PageTableEntry.addressMask, memory: &hostMemory),
              hostTranslation.hostPhysical & PageTableEntry.addressMask == entry & PageTableEntry.addressMask
        else {
            memory.store64(entryAddress, 0)
            requestFlush()
            return
        }
        var rights = RightsAccumulator()
        rights.add(guestEntry)
        var granted = rights.effective
        granted.formIntersection(page.role.access.union(.executable))
        if !page.role.access.contains(.executable) { granted.remove(.executable) }
        var writable = granted.contains(.writable) && guestEntry & (1 << 6) != 0
        let frame = (guestEntry & PageTableEntry.addressMask) >> 12
        if writable && pagesByFrame[frame] != nil { writable = tryUnsync(frame) }
        let updated = leafEntry(entry & PageTableEntry.addressMask, size: .size4K, rights: granted, writable: writable,
                                dirty: writable && entry & (1 << 6) != 0)
        let ignored: UInt64 = (1 << 5) | (1 << 6)
        if updated & ~ignored != entry & ~ignored {
            memory.store64(entryAddress, updated)
            requestFlush()
        }
    }

    /// Syncs every unsync page below `slot` that the unsync-children bits
    /// lead to (KVM's `mmu_sync_children`), clearing the bits on the way.
    mutating func syncChildren(_ slot: Int32) {
        guard pages[Int(slot)].unsyncChildren > 0 else { return }
        let table = Self.table(slot)
        for word in 0..<8 {
            let index = Int(slot) &* 8 &+ word
            while unsyncChildBits[index] != 0 {
                let bit = unsyncChildBits[index].trailingZeroBitCount
                unsyncChildBits[index] &= unsyncChildBits[index] &- 1
                pages[Int(slot)].unsyncChildren -= 1
                let entry = memory.load64(table &+ UInt64(word &* 64 &+ bit) &* 8)
                guard entry & 1 != 0, entry & (1 << 7) == 0 else { continue }
                let child = Self.slot(ofTable: entry & PageTableEntry.addressMask)
                if pages[Int(child)].unsync { syncPage(child) }
                syncChildren(child)
            }
        }
    }

    // MARK: CR3, INVLPG, flushes

    /// The guest loads CR3 (an exit). The root comes from the root cache
    /// when it is there; then the unsync pages under it are synced.
    public mutating func loadCR3(_ root: UInt64) {
        counters.cr3Loads += 1
        guestRoot = root & PageTableEntry.addressMask
        hasRoot = true
        if let index = roots.firstIndex(where: { $0.guestRoot == guestRoot }) {
            counters.rootCacheHits += 1
            let entry = roots.remove(at: index)
            roots.insert(entry, at: 0)
            currentRoot = entry.slot
        } else {
            counters.rootCacheMisses += 1
            installRoot()
        }
        syncChildren(currentRoot)
    }

    /// Finds or builds the shadow root for the current guest root, and puts
    /// it first in the root cache.
    mutating func installRoot() {
        let role = ShadowRole(level: configuration.mode.levels, direct: false, access: [.writable, .user, .executable])
        let slot = shadowPage(frame: guestRoot >> 12, role: role)
        pages[Int(slot)].rootCount += 1
        roots.insert((guestRoot, slot), at: 0)
        if roots.count > configuration.rootCacheSize {
            let evicted = roots.removeLast()
            pages[Int(evicted.slot)].rootCount -= 1
        }
        currentRoot = slot
    }

    /// Rebuilds the current root after it was zapped (KVM's root reload).
    @usableFromInline
    mutating func reloadRoot() {
        installRoot()
    }

    /// The guest's INVLPG (an exit): the shadow entry for `address` in an
    /// unsync leaf page is resynced from the guest.
    public mutating func invalidatePage(_ address: UInt64) {
        counters.invlpgs += 1
        guard currentRoot >= 0 else { return }
        var slot = currentRoot
        var level = configuration.mode.levels
        while level >= 1 {
            let entryAddress = Self.table(slot) &+ PagingMode.index(of: address, at: level) &* 8
            let entry = memory.load64(entryAddress)
            if level == 1 {
                if pages[Int(slot)].unsync && entry & 1 != 0 {
                    counters.invlpgSyncs += 1
                    syncEntry(slot, at: entryAddress)
                }
                return
            }
            guard entry & 1 != 0, entry & (1 << 7) == 0 else { return }
            slot = Self.slot(ofTable: entry & PageTableEntry.addressMask)
            level -= 1
        }
    }

    /// A full flush of the guest's TLB (an exit): the unsync pages under the
    /// current root are synced.
    public mutating func flushGuestTLB() {
        counters.guestFlushes += 1
        if currentRoot >= 0 { syncChildren(currentRoot) }
    }

    /// Backs guest frames with host pages (no cost: the host pre-faults).
    public mutating func backGuestFrames(_ address: UInt64, bytes: UInt64) {
        var hostMemory = memory
        host.back(address, bytes: bytes, memory: &hostMemory)
    }

    // MARK: Inspection

    /// The root cache, most recent first: each guest root table and the
    /// host-physical address of its shadow root.
    public var cachedRoots: [(guestRoot: UInt64, shadowRoot: UInt64)] {
        roots.map { ($0.guestRoot, Self.table($0.slot)) }
    }

    /// What the MMU knows about the shadow page whose table is at `table`.
    public func shadowPageInfo(tableAt table: UInt64) -> ShadowPageInfo? {
        guard table >= Self.shadowTableBase else { return nil }
        let slot = Int(Self.slot(ofTable: table))
        guard slot < pages.count, pages[slot].live else { return nil }
        let page = pages[slot]
        return ShadowPageInfo(guestFrame: page.frame, role: page.role, unsync: page.unsync, rootCount: Int(page.rootCount))
    }
}
