import CKVM

/// The KVM capabilities the runner asks about (`KVM_CHECK_EXTENSION`).
public struct KVMCapability: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `KVM_CAP_USER_MEMORY`: memslots backed by user memory.
    public static let userMemory = KVMCapability(rawValue: KVM_CAP_USER_MEMORY)
    /// `KVM_CAP_BINARY_STATS_FD`: `KVM_GET_STATS_FD`.
    public static let binaryStatistics = KVMCapability(rawValue: KVM_CAP_BINARY_STATS_FD)
    /// `KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2`: `KVM_CLEAR_DIRTY_LOG` (bit 0 of the answer).
    public static let manualDirtyLogProtect = KVMCapability(rawValue: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)
    /// `KVM_CAP_DIRTY_LOG_RING`: the largest dirty ring in bytes (ask the VM).
    public static let dirtyLogRing = KVMCapability(rawValue: KVM_CAP_DIRTY_LOG_RING)
}

extension KVMDevice {
    /// The value of `capability`. The corresponding ioctl is `KVM_CHECK_EXTENSION`.
    public func capability(_ capability: KVMCapability) throws(KVMError) -> Int32 { try self.capability(capability.rawValue) }
}

extension VirtualMachine {
    /// The value of `capability` for this VM. The corresponding ioctl is `KVM_CHECK_EXTENSION`.
    public func capability(_ capability: KVMCapability) throws(KVMError) -> Int32 { try self.capability(capability.rawValue) }

    /// Turns on manual dirty-log protection, so that `KVM_GET_DIRTY_LOG`
    /// leaves pages protected until `clearDirtyLog`. The corresponding ioctl
    /// is `KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)`.
    public func enableManualDirtyLogProtect() throws(KVMError) {
        try enableCapability(UInt32(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2), argument: UInt64(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE))
    }
}
