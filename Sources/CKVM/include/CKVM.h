#ifndef VMEMLAB_CKVM_H
#define VMEMLAB_CKVM_H
// A small shim over <linux/kvm.h>: see Sources/KVM.
#endif
