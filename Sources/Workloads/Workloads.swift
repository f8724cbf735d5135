// The Workloads module. See docs/ARCHITECTURE.md.
