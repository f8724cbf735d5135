// The KVM module. See docs/ARCHITECTURE.md.
