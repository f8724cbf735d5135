import CKVM

/// One CPUID leaf (function and index) with its four result registers.
public struct CPUIDEntry: Hashable, Sendable {
    public var function: UInt32
    public var index: UInt32
    /// `KVM_CPUID_FLAG_*` bits: whether the index is significant.
    public var flags: UInt32
    public var eax: UInt32
    public var ebx: UInt32
    public var ecx: UInt32
    public var edx: UInt32

    init(_ entry: kvm_cpuid_entry2) {
        function = entry.function
        index = entry.index
        flags = entry.flags
        eax = entry.eax
        ebx = entry.ebx
        ecx = entry.ecx
        edx = entry.edx
    }

    var raw: kvm_cpuid_entry2 {
        var entry = kvm_cpuid_entry2()
        entry.function = function
        entry.index = index
        entry.flags = flags
        entry.eax = eax
        entry.ebx = ebx
        entry.ecx = ecx
        entry.edx = edx
        return entry
    }
}

/// A set of CPUID leaves, as KVM reports and accepts them.
public struct CPUIDTable: Sendable {
    public var entries: [CPUIDEntry]

    public init(entries: [CPUIDEntry]) { self.entries = entries }

    /// The leaf `function` with sub-leaf `index`, if present.
    public func leaf(_ function: UInt32, index: UInt32 = 0) -> CPUIDEntry? {
        entries.first { $0.function == function && $0.index == index }
            ?? entries.first { $0.function == function && $0.flags & UInt32(KVM_CPUID_FLAG_SIGNIFCANT_INDEX) == 0 }
    }

    /// Whether a guest may use 5-level paging: CPUID.(EAX=7,ECX=0):ECX[16] (LA57).
    public var supportsFiveLevelPaging: Bool { (leaf(7)?.ecx ?? 0) & (1 << 16) != 0 }

    /// Whether a guest may use 1 GiB pages: CPUID.80000001H:EDX[26] (Page1GB).
    public var supportsGigabytePages: Bool { (leaf(0x8000_0001)?.edx ?? 0) & (1 << 26) != 0 }
}
