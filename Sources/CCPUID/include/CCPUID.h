#ifndef VMEMLAB_CCPUID_H
#define VMEMLAB_CCPUID_H

#include <stdint.h>

/// Executes CPUID with `leaf` in EAX and `subleaf` in ECX and stores the
/// four result registers. Returns 0, or -1 on a CPU without CPUID (not x86),
/// where the registers are set to 0.
int vmemlab_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx);

#endif
