// The Experiments module. See docs/ARCHITECTURE.md.
