#define _GNU_SOURCE
#include <sys/mman.h>
#include "CNUMAShim.h"

int vmemlab_memfd_create(const char *name, unsigned int flags) { return memfd_create(name, flags); }

const unsigned int vmemlab_MFD_CLOEXEC = MFD_CLOEXEC;
const unsigned int vmemlab_MFD_HUGETLB = MFD_HUGETLB;
