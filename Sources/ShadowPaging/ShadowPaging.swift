// The ShadowPaging module. See docs/ARCHITECTURE.md.
