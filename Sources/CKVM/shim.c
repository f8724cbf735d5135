#include "CKVM.h"

#include <cpuid.h>
#include <stdlib.h>
#include <string.h>

// MARK: ioctl request codes

const unsigned long CKVM_GET_API_VERSION = KVM_GET_API_VERSION;
const unsigned long CKVM_CREATE_VM = KVM_CREATE_VM;
const unsigned long CKVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
const unsigned long CKVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
const unsigned long CKVM_GET_SUPPORTED_CPUID = KVM_GET_SUPPORTED_CPUID;
const unsigned long CKVM_CREATE_VCPU = KVM_CREATE_VCPU;
const unsigned long CKVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
const unsigned long CKVM_GET_DIRTY_LOG = KVM_GET_DIRTY_LOG;
const unsigned long CKVM_CLEAR_DIRTY_LOG = KVM_CLEAR_DIRTY_LOG;
const unsigned long CKVM_ENABLE_CAP = KVM_ENABLE_CAP;
const unsigned long CKVM_GET_STATS_FD = KVM_GET_STATS_FD;
const unsigned long CKVM_SET_TSS_ADDR = KVM_SET_TSS_ADDR;
const unsigned long CKVM_SET_IDENTITY_MAP_ADDR = KVM_SET_IDENTITY_MAP_ADDR;
const unsigned long CKVM_RESET_DIRTY_RINGS = KVM_RESET_DIRTY_RINGS;
const unsigned long CKVM_RUN = KVM_RUN;
const unsigned long CKVM_GET_REGS = KVM_GET_REGS;
const unsigned long CKVM_SET_REGS = KVM_SET_REGS;
const unsigned long CKVM_GET_SREGS = KVM_GET_SREGS;
const unsigned long CKVM_SET_SREGS = KVM_SET_SREGS;
const unsigned long CKVM_SET_CPUID2 = KVM_SET_CPUID2;

int ckvm_ioctl_pointer(int fd, unsigned long request, void *argument) { return ioctl(fd, request, argument); }

int ckvm_ioctl_value(int fd, unsigned long request, unsigned long value) { return ioctl(fd, request, value); }

// MARK: kvm_cpuid2

struct kvm_cpuid2 *ckvm_cpuid2_allocate(uint32_t capacity) {
    struct kvm_cpuid2 *cpuid =
        calloc(1, sizeof(struct kvm_cpuid2) + (size_t)capacity * sizeof(struct kvm_cpuid_entry2));
    if (cpuid != NULL) cpuid->nent = capacity;
    return cpuid;
}

void ckvm_cpuid2_free(struct kvm_cpuid2 *cpuid) { free(cpuid); }

struct kvm_cpuid_entry2 *ckvm_cpuid2_entry(struct kvm_cpuid2 *cpuid, uint32_t index) {
    return &cpuid->entries[index];
}

// MARK: kvm_stats_desc

size_t ckvm_stats_desc_stride(uint32_t name_size) { return sizeof(struct kvm_stats_desc) + name_size; }

const struct kvm_stats_desc *ckvm_stats_desc_at(const void *block, uint32_t name_size, uint32_t index) {
    return (const struct kvm_stats_desc *)((const char *)block + (size_t)index * ckvm_stats_desc_stride(name_size));
}

const char *ckvm_stats_desc_name(const struct kvm_stats_desc *desc) { return desc->name; }

// MARK: Dirty ring

uint64_t ckvm_dirty_ring_mmap_offset(long page_size) { return (uint64_t)KVM_DIRTY_LOG_PAGE_OFFSET * (uint64_t)page_size; }

uint32_t ckvm_dirty_ring_harvest(struct kvm_dirty_gfn *ring, uint32_t count, uint32_t *fetch_index,
                                 uint32_t *slots, uint64_t *offsets, uint32_t max) {
    uint32_t harvested = 0;
    while (harvested < max) {
        struct kvm_dirty_gfn *entry = &ring[*fetch_index & (count - 1)];
        uint32_t flags = __atomic_load_n(&entry->flags, __ATOMIC_ACQUIRE);
        if (!(flags & KVM_DIRTY_GFN_F_DIRTY)) break;
        slots[harvested] = entry->slot;
        offsets[harvested] = entry->offset;
        __atomic_store_n(&entry->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
        harvested++;
        (*fetch_index)++;
    }
    return harvested;
}

// MARK: kvm_run

void ckvm_run_set_immediate_exit(struct kvm_run *run, uint8_t value) {
    __atomic_store_n(&run->immediate_exit, value, __ATOMIC_RELEASE);
}

uint8_t ckvm_run_immediate_exit(const struct kvm_run *run) {
    return __atomic_load_n(&run->immediate_exit, __ATOMIC_ACQUIRE);
}

void ckvm_run_io(const struct kvm_run *run, uint8_t *direction, uint8_t *size, uint16_t *port,
                 uint32_t *count, uint64_t *data_offset) {
    *direction = run->io.direction;
    *size = run->io.size;
    *port = run->io.port;
    *count = run->io.count;
    *data_offset = run->io.data_offset;
}

void ckvm_run_mmio(const struct kvm_run *run, uint64_t *physical_address, uint32_t *length, uint8_t *is_write) {
    *physical_address = run->mmio.phys_addr;
    *length = run->mmio.len;
    *is_write = run->mmio.is_write;
}

uint64_t ckvm_run_fail_entry_reason(const struct kvm_run *run) {
    return run->fail_entry.hardware_entry_failure_reason;
}

uint32_t ckvm_run_internal_suberror(const struct kvm_run *run) { return run->internal.suberror; }

uint64_t ckvm_run_hardware_exit_reason(const struct kvm_run *run) { return run->hw.hardware_exit_reason; }

uint32_t ckvm_run_system_event_type(const struct kvm_run *run) { return run->system_event.type; }

// MARK: Signals

static void ckvm_kick_handler(int signal) { (void)signal; }

int ckvm_install_kick_handler(int signal) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = ckvm_kick_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
    return sigaction(signal, &action, NULL);
}

int ckvm_unblock_signal(int signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int ckvm_pthread_kick(pthread_t thread, int signal) { return pthread_kill(thread, signal); }

// MARK: Timing

uint64_t ckvm_rdtsc(void) {
    uint32_t low, high;
    __asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(low), "=d"(high)::"memory");
    return ((uint64_t)high << 32) | low;
}

void ckvm_host_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx) {
    __cpuid_count(leaf, subleaf, *eax, *ebx, *ecx, *edx);
}

// MARK: Kernel code

#define CKVM_KERNEL_SYMBOLS(name)                                                                          \
    extern const uint8_t ckvm_kernel_##name##_begin[];                                                     \
    extern const uint8_t ckvm_kernel_##name##_end[];

CKVM_KERNEL_SYMBOLS(pointer_chase)
CKVM_KERNEL_SYMBOLS(random_loads)
CKVM_KERNEL_SYMBOLS(strided_sweep)
CKVM_KERNEL_SYMBOLS(gups)
CKVM_KERNEL_SYMBOLS(store_loop)
CKVM_KERNEL_SYMBOLS(first_touch)
CKVM_KERNEL_SYMBOLS(write_sweep)
CKVM_KERNEL_SYMBOLS(spin)

static const uint8_t *const ckvm_kernel_begins[CKVM_KERNEL_COUNT] = {
    ckvm_kernel_pointer_chase_begin, ckvm_kernel_random_loads_begin, ckvm_kernel_strided_sweep_begin,
    ckvm_kernel_gups_begin,          ckvm_kernel_store_loop_begin,   ckvm_kernel_first_touch_begin,
    ckvm_kernel_write_sweep_begin,   ckvm_kernel_spin_begin,
};

static const uint8_t *const ckvm_kernel_ends[CKVM_KERNEL_COUNT] = {
    ckvm_kernel_pointer_chase_end, ckvm_kernel_random_loads_end, ckvm_kernel_strided_sweep_end,
    ckvm_kernel_gups_end,          ckvm_kernel_store_loop_end,   ckvm_kernel_first_touch_end,
    ckvm_kernel_write_sweep_end,   ckvm_kernel_spin_end,
};

const uint8_t *ckvm_kernel_code(ckvm_kernel_id kernel) {
    return (unsigned)kernel < CKVM_KERNEL_COUNT ? ckvm_kernel_begins[kernel] : NULL;
}

size_t ckvm_kernel_size(ckvm_kernel_id kernel) {
    if ((unsigned)kernel >= CKVM_KERNEL_COUNT) return 0;
    return (size_t)(ckvm_kernel_ends[kernel] - ckvm_kernel_begins[kernel]);
}
