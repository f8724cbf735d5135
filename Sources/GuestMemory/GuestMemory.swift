// The GuestMemory module. See docs/ARCHITECTURE.md.
