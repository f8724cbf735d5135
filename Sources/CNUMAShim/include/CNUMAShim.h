#ifndef VMEMLAB_CNUMASHIM_H
#define VMEMLAB_CNUMASHIM_H
// C helpers for GuestMemory that Swift cannot reach through Glibc: glibc
// declares memfd_create only under _GNU_SOURCE, which Swift's Glibc module
// does not define.

/// memfd_create(2): an anonymous file, here one backed by hugetlbfs pages.
int vmemlab_memfd_create(const char *name, unsigned int flags);

/// MFD_CLOEXEC and MFD_HUGETLB from <linux/memfd.h>.
extern const unsigned int vmemlab_MFD_CLOEXEC;
extern const unsigned int vmemlab_MFD_HUGETLB;
#endif
