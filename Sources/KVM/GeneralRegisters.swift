import CKVM

/// The general-purpose registers, RIP and RFLAGS of a vCPU (`kvm_regs`).
public struct GeneralRegisters: Hashable, Sendable {
    public var rax: UInt64 = 0, rbx: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0
    public var rsi: UInt64 = 0, rdi: UInt64 = 0, rsp: UInt64 = 0, rbp: UInt64 = 0
    public var r8: UInt64 = 0, r9: UInt64 = 0, r10: UInt64 = 0, r11: UInt64 = 0
    public var r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0, r15: UInt64 = 0
    public var rip: UInt64 = 0
    /// RFLAGS; bit 1 is always set.
    public var rflags: UInt64 = 0x2

    public init() {}

    /// RFLAGS with IOPL = 3, so that CPL3 code may use `in`/`out`.
    public static let flagsIOPL3: UInt64 = 0x2 | (3 << 12)

    init(_ regs: kvm_regs) {
        rax = regs.rax; rbx = regs.rbx; rcx = regs.rcx; rdx = regs.rdx
        rsi = regs.rsi; rdi = regs.rdi; rsp = regs.rsp; rbp = regs.rbp
        r8 = regs.r8; r9 = regs.r9; r10 = regs.r10; r11 = regs.r11
        r12 = regs.r12; r13 = regs.r13; r14 = regs.r14; r15 = regs.r15
        rip = regs.rip; rflags = regs.rflags
    }

    var raw: kvm_regs {
        kvm_regs(rax: rax, rbx: rbx, rcx: rcx, rdx: rdx, rsi: rsi, rdi: rdi, rsp: rsp, rbp: rbp,
                 r8: r8, r9: r9, r10: r10, r11: r11, r12: r12, r13: r13, r14: r14, r15: r15,
                 rip: rip, rflags: rflags)
    }
}
