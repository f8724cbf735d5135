import Translation

/// The role of a shadow page, part of its key beside the guest frame
/// (KVM's `kvm_mmu_page_role`): the level it sits at, whether it is direct
/// (it splits a guest large page into smaller host-sized leaves, and has no
/// guest table behind it) or indirect (it shadows a guest table), and the
/// access rights the guest's upper levels grant to everything below it.
@frozen public struct ShadowRole: Hashable, Sendable, CustomStringConvertible {
    /// Bits 2:0 level, bit 3 direct, bits 6:4 access (W, U, X).
    public var raw: UInt8

    @inlinable public init(level: Int, direct: Bool, access: EffectiveRights) {
        raw = UInt8(truncatingIfNeeded: level) | (direct ? 8 : 0) | (access.rawValue & 7) << 4
    }

    /// The paging level of the shadow table (1 = PT).
    @inlinable public var level: Int { Int(raw & 7) }
    /// Whether the page splits a guest large page instead of shadowing a guest table.
    @inlinable public var direct: Bool { raw & 8 != 0 }
    /// The rights the guest's upper levels grant below this page.
    @inlinable public var access: EffectiveRights { EffectiveRights(rawValue: (raw >> 4) & 7) }

    public var description: String {
        "\(levelName(level)) \(direct ? "direct" : "indirect") \(access)"
    }
}

/// What the shadow MMU knows about one shadow page, for inspection.
public struct ShadowPageInfo: Hashable, Sendable {
    /// The guest frame number it shadows (indirect) or the first frame it
    /// maps (direct).
    public var guestFrame: UInt64
    public var role: ShadowRole
    /// Whether stores into the guest table are allowed without a trap, and
    /// the shadow may be stale until the next sync.
    public var unsync: Bool
    /// How many root-cache entries hold it.
    public var rootCount: Int
}
