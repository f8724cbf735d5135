import Translation

/// What `AccessOracle` predicts for one access.
public struct AccessVerdict: Hashable, Sendable, CustomStringConvertible {
    /// How the access ends.
    public enum Outcome: Hashable, Sendable, CustomStringConvertible {
        case translated(physicalAddress: UInt64, pageSize: PageSize, rights: EffectiveRights, protectionKey: UInt8)
        case fault(PageFault)
        case nonCanonical

        /// The outcome of a `PageWalker` walk, in the oracle's terms (the
        /// leaf entry's address is left out: the oracle sees values only).
        public init(_ result: WalkResult) {
            switch result {
            case let .translated(translation):
                self = .translated(physicalAddress: translation.physicalAddress, pageSize: translation.pageSize,
                                   rights: translation.rights, protectionKey: translation.protectionKey)
            case let .fault(fault): self = .fault(fault)
            case .nonCanonical: self = .nonCanonical
            }
        }

        public var description: String {
            switch self {
            case let .translated(physical, size, rights, key):
                "translated to 0x\(String(physical, radix: 16)) (\(size) page, \(rights), key \(key))"
            case let .fault(fault): "\(fault)"
            case .nonCanonical: "non-canonical (#GP)"
            }
        }
    }

    public var outcome: Outcome
    /// The entries of the path after the access, root first, with the A and
    /// D bits the access leaves in them.
    public var entriesAfter: [UInt64]
    /// How many entries, from the root, the walk read.
    public var entriesUsed: Int
    /// The rules that decided the outcome, each with its SDM section.
    public var reasons: [String]

    public var description: String {
        "\(outcome) because " + reasons.joined(separator: "; ")
    }
}
