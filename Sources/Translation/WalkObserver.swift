/// Which page-table hierarchy a walk reference reads.
@frozen public enum WalkDimension: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// A one-dimensional walk of a single hierarchy (native, or a shadow table).
    case native
    /// The guest's own tables, during a 2D walk.
    case guest
    /// The nested (EPT or NPT) tables, during a 2D walk.
    case nested
    public var description: String {
        switch self {
        case .native: "native"
        case .guest: "guest"
        case .nested: "nested"
        }
    }
}

/// One paging-structure read made by a walker.
@frozen public struct WalkReference: Hashable, Sendable, CustomStringConvertible {
    /// The hierarchy read.
    public var dimension: WalkDimension
    /// The level of the entry read (5 = PML5 … 1 = PT).
    public var level: Int
    /// For a nested reference, the guest level whose entry it locates, or 0
    /// when it translates the final guest-physical address. For other
    /// references, equal to `level`.
    public var step: Int
    /// The (host-)physical address of the entry read.
    public var address: UInt64
    /// The entry's value when it was read.
    public var entry: UInt64

    @inlinable public init(dimension: WalkDimension, level: Int, step: Int, address: UInt64, entry: UInt64) {
        self.dimension = dimension
        self.level = level
        self.step = step
        self.address = address
        self.entry = entry
    }

    public var description: String {
        let what = dimension == .nested ? "nested L\(level) for " + (step == 0 ? "data" : "guest L\(step)")
            : "\(dimension) L\(level) (\(levelName(level)))"
        return what + " @0x" + String(address, radix: 16) + " = 0x" + String(entry, radix: 16)
    }
}

/// Receives every paging-structure read of a walk, in order. Walkers are
/// generic over it, so `NoWalkObserver` costs nothing.
public protocol WalkObserver {
    mutating func observe(_ reference: WalkReference)
}

/// Ignores the references.
@frozen public struct NoWalkObserver: WalkObserver {
    @inlinable public init() {}
    @inlinable @inline(__always) public mutating func observe(_ reference: WalkReference) {}
}

/// Keeps every reference in order: the walk's log.
public struct WalkLog: WalkObserver, Sendable {
    public private(set) var references: [WalkReference] = []
    public init() {}
    public mutating func observe(_ reference: WalkReference) { references.append(reference) }
    /// The number of references in `dimension`.
    public func count(_ dimension: WalkDimension) -> Int { references.reduce(0) { $0 + ($1.dimension == dimension ? 1 : 0) } }
}

/// Counts references by dimension without storing them.
@frozen public struct WalkReferenceCounter: WalkObserver, Sendable {
    public var guest: Int = 0
    public var nested: Int = 0
    public var native: Int = 0
    @inlinable public init() {}
    @inlinable public var total: Int { guest &+ nested &+ native }
    @inlinable @inline(__always) public mutating func observe(_ reference: WalkReference) {
        switch reference.dimension {
        case .guest: guest &+= 1
        case .nested: nested &+= 1
        case .native: native &+= 1
        }
    }
}
