// The TLB module. See docs/ARCHITECTURE.md.
