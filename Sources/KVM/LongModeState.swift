import CKVM
import Translation

/// The special-register state of a CPL3 long-mode vCPU.
enum LongModeState {
    static let cr0ProtectionEnable: UInt64 = 1 << 0
    static let cr0MonitorCoprocessor: UInt64 = 1 << 1
    static let cr0ExtensionType: UInt64 = 1 << 4
    static let cr0NumericError: UInt64 = 1 << 5
    static let cr0WriteProtect: UInt64 = 1 << 16
    static let cr0Paging: UInt64 = 1 << 31
    static let cr4PhysicalAddressExtension: UInt64 = 1 << 5
    static let cr4OSFXSR: UInt64 = 1 << 9
    static let cr4OSXMMEXCPT: UInt64 = 1 << 10
    static let cr4FiveLevelPaging: UInt64 = 1 << 12
    static let eferLongModeEnable: UInt64 = 1 << 8
    static let eferLongModeActive: UInt64 = 1 << 10
    static let eferNoExecuteEnable: UInt64 = 1 << 11

    /// The user code selector: GDT index 3, RPL 3.
    static let userCodeSelector: UInt16 = (3 << 3) | 3
    /// The user data selector: GDT index 4, RPL 3.
    static let userDataSelector: UInt16 = (4 << 3) | 3

    static func apply(to sregs: inout kvm_sregs, root: UInt64, mode: PagingMode) {
        var code = kvm_segment()
        code.base = 0
        code.limit = 0xFFFF_FFFF
        code.selector = userCodeSelector
        code.type = 0xB  // execute/read, accessed
        code.present = 1
        code.dpl = 3
        code.db = 0
        code.s = 1
        code.l = 1  // 64-bit code segment
        code.g = 1

        var data = code
        data.selector = userDataSelector
        data.type = 0x3  // read/write, accessed
        data.db = 1
        data.l = 0

        sregs.cs = code
        sregs.ss = data
        sregs.ds = data
        sregs.es = data
        sregs.fs = data
        sregs.gs = data

        // A busy 64-bit TSS and an unusable LDT, which VM entry checks require.
        var task = kvm_segment()
        task.limit = 0x67
        task.selector = 1 << 3
        task.type = 0xB
        task.present = 1
        sregs.tr = task
        var ldt = kvm_segment()
        ldt.type = 0x2
        ldt.unusable = 1
        sregs.ldt = ldt

        sregs.cr0 = cr0ProtectionEnable | cr0MonitorCoprocessor | cr0ExtensionType | cr0NumericError
            | cr0WriteProtect | cr0Paging
        sregs.cr3 = root
        sregs.cr4 = cr4PhysicalAddressExtension | cr4OSFXSR | cr4OSXMMEXCPT
            | (mode == .fiveLevel ? cr4FiveLevelPaging : 0)
        sregs.efer = eferLongModeEnable | eferLongModeActive | eferNoExecuteEnable
    }
}
