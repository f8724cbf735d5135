#ifndef VMEMLAB_CKVM_KERNEL_ABI_H
#define VMEMLAB_CKVM_KERNEL_ABI_H
// The register contract between the runner and the measurement kernels in
// kernels.S. Shared by the assembler and by C/Swift, so it holds only macros
// and (outside the assembler) enum constants.
//
// Inputs: RDI, RSI, RDX, RCX (see each kernel). Outputs when the kernel
// stores to the doorbell: R8 = elapsed rdtsc cycles of the timed loop,
// R9 = the kernel's final state (pointer or counter), R10 = a checksum.

// The guest-virtual page a kernel stores to when it is done; the runner maps
// it to CKVM_KERNEL_DOORBELL_PHYSICAL, where no memslot is, so the store
// leaves through KVM_EXIT_MMIO.
#define CKVM_KERNEL_DOORBELL_VIRTUAL 0x1000
#define CKVM_KERNEL_DOORBELL_PHYSICAL 0xE0000000

#ifndef __ASSEMBLER__
/// The measurement kernels assembled into the shim.
typedef enum {
    CKVM_KERNEL_POINTER_CHASE = 0,
    CKVM_KERNEL_RANDOM_LOADS = 1,
    CKVM_KERNEL_STRIDED_SWEEP = 2,
    CKVM_KERNEL_GUPS = 3,
    CKVM_KERNEL_STORE_LOOP = 4,
    CKVM_KERNEL_FIRST_TOUCH = 5,
    CKVM_KERNEL_WRITE_SWEEP = 6,
    CKVM_KERNEL_SPIN = 7,
    CKVM_KERNEL_COUNT = 8
} ckvm_kernel_id;

static const unsigned long long ckvm_kernel_doorbell_virtual = CKVM_KERNEL_DOORBELL_VIRTUAL;
static const unsigned long long ckvm_kernel_doorbell_physical = CKVM_KERNEL_DOORBELL_PHYSICAL;
#endif

#endif
