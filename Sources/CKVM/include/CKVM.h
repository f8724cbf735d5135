#ifndef VMEMLAB_CKVM_H
#define VMEMLAB_CKVM_H
// A small shim over <linux/kvm.h> for the KVM module. Swift imports the KVM
// structs and constants directly, but not the ioctl request codes built with
// the _IO* macros, nor flexible-array structs; those are re-exported here
// with a ckvm_ prefix.

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>

#include "CKVMKernelABI.h"

// MARK: ioctl request codes

// On /dev/kvm.
extern const unsigned long CKVM_GET_API_VERSION;
extern const unsigned long CKVM_CREATE_VM;
extern const unsigned long CKVM_CHECK_EXTENSION;
extern const unsigned long CKVM_GET_VCPU_MMAP_SIZE;
extern const unsigned long CKVM_GET_SUPPORTED_CPUID;
// On a VM.
extern const unsigned long CKVM_CREATE_VCPU;
extern const unsigned long CKVM_SET_USER_MEMORY_REGION;
extern const unsigned long CKVM_GET_DIRTY_LOG;
extern const unsigned long CKVM_CLEAR_DIRTY_LOG;
extern const unsigned long CKVM_ENABLE_CAP;
extern const unsigned long CKVM_GET_STATS_FD;
extern const unsigned long CKVM_SET_TSS_ADDR;
extern const unsigned long CKVM_SET_IDENTITY_MAP_ADDR;
extern const unsigned long CKVM_RESET_DIRTY_RINGS;
// On a vCPU.
extern const unsigned long CKVM_RUN;
extern const unsigned long CKVM_GET_REGS;
extern const unsigned long CKVM_SET_REGS;
extern const unsigned long CKVM_GET_SREGS;
extern const unsigned long CKVM_SET_SREGS;
extern const unsigned long CKVM_SET_CPUID2;

/// ioctl with a pointer argument (Swift cannot call the variadic ioctl).
/// Returns its result; errno is left as ioctl set it.
int ckvm_ioctl_pointer(int fd, unsigned long request, void *argument);
/// ioctl with an integer argument.
int ckvm_ioctl_value(int fd, unsigned long request, unsigned long value);

// MARK: kvm_cpuid2 (flexible array of kvm_cpuid_entry2)

/// Allocates a zeroed kvm_cpuid2 with room for `capacity` entries; nent is
/// set to `capacity`. Free with ckvm_cpuid2_free. NULL when out of memory.
struct kvm_cpuid2 *ckvm_cpuid2_allocate(uint32_t capacity);
void ckvm_cpuid2_free(struct kvm_cpuid2 *cpuid);
/// The entry at `index` (< nent).
struct kvm_cpuid_entry2 *ckvm_cpuid2_entry(struct kvm_cpuid2 *cpuid, uint32_t index);

// MARK: kvm_stats_desc (followed by a name of header.name_size bytes)

/// The size of one descriptor in the descriptor block, name included.
size_t ckvm_stats_desc_stride(uint32_t name_size);
/// The descriptor at `index` in a descriptor block read from a stats fd.
const struct kvm_stats_desc *ckvm_stats_desc_at(const void *block, uint32_t name_size, uint32_t index);
/// The name of a descriptor (NUL-terminated within name_size bytes).
const char *ckvm_stats_desc_name(const struct kvm_stats_desc *desc);

// MARK: Dirty ring (kvm_dirty_gfn entries in a vCPU's mapping)

/// The byte offset of the dirty ring in a vCPU fd's mapping.
uint64_t ckvm_dirty_ring_mmap_offset(long page_size);
/// Harvests up to `max` dirty entries from a ring of `count` entries (a power
/// of two), starting at `*fetch_index`: each entry with the DIRTY flag is
/// copied out (slot, page offset) and marked RESET, with acquire/release
/// ordering. Advances `*fetch_index`; returns the number harvested.
uint32_t ckvm_dirty_ring_harvest(struct kvm_dirty_gfn *ring, uint32_t count, uint32_t *fetch_index,
                                 uint32_t *slots, uint64_t *offsets, uint32_t max);

// MARK: kvm_run

/// Sets kvm_run->immediate_exit with a release store, so that another
/// thread can ask a vCPU to leave KVM_RUN.
void ckvm_run_set_immediate_exit(struct kvm_run *run, uint8_t value);
/// Reads kvm_run->immediate_exit with an acquire load.
uint8_t ckvm_run_immediate_exit(const struct kvm_run *run);
/// The port-I/O exit fields of kvm_run (valid when exit_reason is KVM_EXIT_IO).
void ckvm_run_io(const struct kvm_run *run, uint8_t *direction, uint8_t *size, uint16_t *port,
                 uint32_t *count, uint64_t *data_offset);
/// The MMIO exit fields (valid for KVM_EXIT_MMIO).
void ckvm_run_mmio(const struct kvm_run *run, uint64_t *physical_address, uint32_t *length, uint8_t *is_write);
/// The hardware entry-failure reason (KVM_EXIT_FAIL_ENTRY).
uint64_t ckvm_run_fail_entry_reason(const struct kvm_run *run);
/// The suberror of KVM_EXIT_INTERNAL_ERROR.
uint32_t ckvm_run_internal_suberror(const struct kvm_run *run);
/// The hardware exit reason of KVM_EXIT_UNKNOWN.
uint64_t ckvm_run_hardware_exit_reason(const struct kvm_run *run);
/// The type of KVM_EXIT_SYSTEM_EVENT.
uint32_t ckvm_run_system_event_type(const struct kvm_run *run);

// MARK: Signals used to kick a vCPU out of KVM_RUN

/// Installs a handler that does nothing for `signal` (without SA_RESTART),
/// so that the signal interrupts KVM_RUN with EINTR instead of killing the
/// process. Returns 0, or -1 with errno set.
int ckvm_install_kick_handler(int signal);
/// Unblocks `signal` in the calling thread (threads inherit the creator's
/// mask, and dispatch worker threads block most signals). Returns 0 or an
/// error number.
int ckvm_unblock_signal(int signal);
/// pthread_kill, returning its error number (0 on success).
int ckvm_pthread_kick(pthread_t thread, int signal);

// MARK: Timing and the host-side baseline

/// Executes cpuid in the calling (host) process.
void ckvm_host_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx);

/// The time-stamp counter (rdtsc, ordered by lfence on both sides).
uint64_t ckvm_rdtsc(void);
/// Follows `steps` dependent pointers from `start` in the host process,
/// exactly like the guest's pointer-chase kernel. Returns the elapsed rdtsc
/// cycles; `*final` is the last pointer, `*checksum` the sum of visited ones.
uint64_t ckvm_native_chase(const void *start, uint64_t steps, uint64_t *final, uint64_t *checksum);

// MARK: Kernel code

/// The first byte of a measurement kernel's code (position-independent).
const uint8_t *ckvm_kernel_code(ckvm_kernel_id kernel);
/// The size in bytes of a kernel's code.
size_t ckvm_kernel_size(ckvm_kernel_id kernel);

#endif
