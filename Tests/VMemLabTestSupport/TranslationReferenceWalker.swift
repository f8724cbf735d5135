import Translation

/// A slow, obviously correct 1D walker for differential tests. It gathers
/// the entries a walk can meet by following table addresses blindly, one per
/// level down to a PTE, and lets `AccessOracle` decide what the walk does
/// with them. It never writes: the caller compares its prediction with the
/// memory a real walker leaves behind.
public struct ReferencePageWalker: Sendable {
    public var oracle: AccessOracle

    public init(controls: PagingControls) { oracle = AccessOracle(controls: controls) }

    /// The prediction for one access, with the address of each entry the
    /// verdict's `entriesAfter` describes.
    public struct Prediction: Sendable {
        public var verdict: AccessVerdict
        /// The address of each gathered entry, root first.
        public var entryAddresses: [UInt64]
        /// The address of the leaf entry, when the access translates.
        public var leafEntryAddress: UInt64? {
            guard case .translated = verdict.outcome else { return nil }
            return entryAddresses[verdict.entriesUsed - 1]
        }
    }

    /// Predicts `access` to `address` through the tables rooted at `root`.
    public func predict<Memory: PhysicalMemory>(
        address: UInt64, access: MemoryAccess, root: UInt64, memory: Memory
    ) -> Prediction {
        let addressField: UInt64 = 0x000F_FFFF_FFFF_F000
        var table = root & addressField
        var addresses: [UInt64] = []
        var entries: [UInt64] = []
        for level in stride(from: oracle.controls.mode.levels, through: 1, by: -1) {
            let index = (address >> UInt64(12 + 9 * (level - 1))) & 511
            let entryAddress = table + index * 8
            let entry = memory.load64(entryAddress)
            addresses.append(entryAddress)
            entries.append(entry)
            table = entry & addressField
        }
        let verdict = oracle.decide(address: address, access: access, path: entries)
        return Prediction(verdict: verdict, entryAddresses: addresses)
    }
}
