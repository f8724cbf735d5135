#ifndef VMEMLAB_CGUESTMEMORYTESTSUPPORT_H
#define VMEMLAB_CGUESTMEMORYTESTSUPPORT_H
// Test support for GuestMemory: a real seccomp denial of the NUMA calls.

/// Installs a seccomp filter on the calling thread (and threads it creates
/// later) that fails get_mempolicy, set_mempolicy, mbind and move_pages with
/// EPERM, as a container's policy can. It cannot be removed: call it on a
/// thread made for the purpose. Returns 0, or -1 with errno set.
int vmemlab_test_deny_numa_syscalls_on_this_thread(void);
#endif
