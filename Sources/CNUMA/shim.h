#ifndef VMEMLAB_CNUMA_SHIM_H
#define VMEMLAB_CNUMA_SHIM_H
// libnuma, from the libnuma-dev package (installed by `make deps`).
#include <numa.h>
#include <numaif.h>
#endif
