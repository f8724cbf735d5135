// Measurement kernels that run in the guest at CPL3 in 64-bit mode, and the
// host-side pointer chase that is their native baseline.
//
// Each guest kernel is position-independent: the runner copies the bytes
// between its _begin and _end symbols into guest RAM and starts the vCPU at
// the first byte with the inputs in registers (see CKVMKernelABI.h). A kernel
// times its loop with rdtsc and leaves through `out` to the exit port, which
// KVM reports as KVM_EXIT_IO because RFLAGS.IOPL = 3.

#include "CKVMKernelABI.h"

        .intel_syntax noprefix
        .text

// Start of the timed region: R8 = rdtsc. Clobbers RAX and RDX.
.macro TIMER_START
        lfence
        rdtsc
        shl     rdx, 32
        or      rax, rdx
        mov     r8, rax
        lfence
.endm

// End of the timed region: R8 = rdtsc - R8. Clobbers RAX and RDX.
.macro TIMER_STOP
        lfence
        rdtsc
        shl     rdx, 32
        or      rax, rdx
        sub     rax, r8
        mov     r8, rax
.endm

// Leave to the runner: a one-byte store to the doorbell page, which the
// guest maps to a guest-physical address with no memslot, so that KVM
// reports KVM_EXIT_MMIO. (`out` at CPL3 with IOPL = 3 would be KVM_EXIT_IO,
// but PVM runs guest user mode at hardware IOPL 0 and the `out` faults.)
// The runner never resumes after it; the ud2 only guards against running
// into the next kernel.
.macro EXIT_TO_RUNNER
        mov     eax, CKVM_KERNEL_DOORBELL_VIRTUAL
        mov     byte ptr [rax], 1
        ud2
.endm

// The 64-bit LCG of Knuth's MMIX: state = state * A + C, in RCX, with A in
// R12 and C in R13. The runner replays it to check GUPS and random loads.
.macro LCG_CONSTANTS
        movabs  r12, 6364136223846793005
        movabs  r13, 1442695040888963407
.endm

.macro KERNEL name
        .globl  ckvm_kernel_\name\()_begin
        .hidden ckvm_kernel_\name\()_begin
ckvm_kernel_\name\()_begin:
.endm

.macro KERNEL_END name
        .globl  ckvm_kernel_\name\()_end
        .hidden ckvm_kernel_\name\()_end
ckvm_kernel_\name\()_end:
.endm

// Dependent pointer chase. RDI = first pointer, RSI = steps (> 0).
// R9 = the last pointer loaded, R10 = the sum of the pointers loaded.
KERNEL pointer_chase
        xor     r10d, r10d
        TIMER_START
1:      mov     rdi, [rdi]
        add     r10, rdi
        dec     rsi
        jnz     1b
        TIMER_STOP
        mov     r9, rdi
        EXIT_TO_RUNNER
KERNEL_END pointer_chase

// Independent random loads. RDI = base, RSI = loads (> 0), RDX = byte mask
// of the working set (a power of two minus one), RCX = LCG seed. Each load
// reads the 8-byte word at base + ((state >> 20) & mask & ~7), where state
// is the LCG after one step. R9 = the final LCG state, R10 = the sum of the
// loaded words.
KERNEL random_loads
        LCG_CONSTANTS
        mov     r11, rdx
        and     r11, -8
        xor     r10d, r10d
        TIMER_START
1:      imul    rcx, r12
        add     rcx, r13
        mov     rax, rcx
        shr     rax, 20
        and     rax, r11
        add     r10, [rdi + rax]
        dec     rsi
        jnz     1b
        TIMER_STOP
        mov     r9, rcx
        EXIT_TO_RUNNER
KERNEL_END random_loads

// Strided sweep. RDI = base, RSI = loads (> 0), RDX = stride in bytes,
// RCX = length in bytes (a multiple of the stride); the offset wraps to 0 at
// the length. R9 = the final offset, R10 = the sum of the loaded words.
KERNEL strided_sweep
        mov     r11, rdx
        xor     r9d, r9d
        xor     r10d, r10d
        TIMER_START
1:      add     r10, [rdi + r9]
        add     r9, r11
        cmp     r9, rcx
        jb      2f
        xor     r9d, r9d
2:      dec     rsi
        jnz     1b
        TIMER_STOP
        EXIT_TO_RUNNER
KERNEL_END strided_sweep

// GUPS read-modify-write. RDI = table of 64-bit words, RSI = updates (> 0),
// RDX = index mask (words - 1, words a power of two), RCX = LCG seed. Each
// update steps the LCG and does table[(state >> 20) & mask] ^= state.
// R9 = the final LCG state, R10 = the number of updates.
KERNEL gups
        LCG_CONSTANTS
        mov     r11, rdx
        mov     r10, rsi
        TIMER_START
1:      imul    rcx, r12
        add     rcx, r13
        mov     rax, rcx
        shr     rax, 20
        and     rax, r11
        xor     [rdi + rax * 8], rcx
        dec     rsi
        jnz     1b
        TIMER_STOP
        mov     r9, rcx
        EXIT_TO_RUNNER
KERNEL_END gups

// Store loop: the same 8-byte store repeated, for example into one of the
// guest's own page-table pages. RDI = target, RSI = stores (> 0),
// RDX = value. R9 = the target, R10 = the number of stores.
KERNEL store_loop
        mov     r11, rdx
        mov     r10, rsi
        TIMER_START
1:      mov     [rdi], r11
        dec     rsi
        jnz     1b
        TIMER_STOP
        mov     r9, rdi
        EXIT_TO_RUNNER
KERNEL_END store_loop

// First-touch sweep: writes the address of each page into its first word.
// RDI = base, RSI = pages (> 0), RDX = stride (the page size).
// R9 = the address after the last page, R10 = the number of pages.
KERNEL first_touch
        mov     r11, rdx
        mov     r10, rsi
        mov     r9, rdi
        TIMER_START
1:      mov     [r9], r9
        add     r9, r11
        dec     rsi
        jnz     1b
        TIMER_STOP
        EXIT_TO_RUNNER
KERNEL_END first_touch

// Dirty-logging write sweep: writes a tag into the first word of each page.
// RDI = base, RSI = pages (> 0), RDX = stride, RCX = tag.
// R9 = the address after the last page, R10 = the number of pages.
KERNEL write_sweep
        mov     r11, rdx
        mov     r10, rsi
        mov     r9, rdi
        TIMER_START
1:      mov     [r9], rcx
        add     r9, r11
        dec     rsi
        jnz     1b
        TIMER_STOP
        EXIT_TO_RUNNER
KERNEL_END write_sweep

// An endless loop, for the watchdog.
KERNEL spin
1:      pause
        jmp     1b
KERNEL_END spin

// uint64_t ckvm_native_chase(const void *start, uint64_t steps,
//                            uint64_t *final, uint64_t *checksum)
// The pointer-chase loop above, as a SysV function in the host process.
        .globl  ckvm_native_chase
        .type   ckvm_native_chase, @function
ckvm_native_chase:
        push    r12
        mov     r11, rdx                // final
        mov     r12, rcx                // checksum
        xor     r10d, r10d
        xor     r8d, r8d
        test    rsi, rsi
        jz      2f
        TIMER_START
1:      mov     rdi, [rdi]
        add     r10, rdi
        dec     rsi
        jnz     1b
        TIMER_STOP
2:      mov     [r11], rdi
        mov     [r12], r10
        mov     rax, r8
        pop     r12
        ret
        .size   ckvm_native_chase, . - ckvm_native_chase

        .section .note.GNU-stack, "", @progbits
