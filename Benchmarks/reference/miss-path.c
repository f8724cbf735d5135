// A straightforward C model of the simulator's miss path, to measure what
// plain C does on this host with the same model as
// `vmemlab simulate --trace T --trace-format raw64 --tlb C`, where C is
// Benchmarks' miss configuration (see docs/SIMULATOR.md, "Speed"):
//
//   - L1 TLB 64 entries, 4 ways, LRU; L2 TLB 1536 entries, 12 ways, LRU
//     (4K pages only: the native engine maps the trace with 4K pages);
//   - a 4-level walk of real radix tables, mapped on first touch;
//   - an AMD-style PWC of 32 entries, fully associative, LRU, keyed by the
//     physical address of non-leaf entries;
//   - the default page-table-line model: LRU caches of 48 KiB/12 ways,
//     1 MiB/16 ways and 32 MiB/16 ways of 64-byte lines, at 5, 14, 50 and
//     250 cycles (DRAM).
//
// It prefetches as the simulator does (the leaf entry and its line-model
// sets eight accesses ahead). It prints the counts, which equal the JSON
// fields of `vmemlab simulate` on the same trace, and the rate.
//
// Build and run: cc -O2 -o miss-path miss-path.c && ./miss-path TRACE.raw64
//
// Built with -DWITHOUT_LINE_MODEL, every reference that reaches memory
// costs DRAM's latency and no line is looked up, to measure what the rest
// of the miss path costs; the line counts and walk cycles then differ.

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

// The lookups are inlined into the loop, as the simulator's are.
#define INLINE static inline __attribute__((always_inline))

// Every array here has a power-of-two number of sets: the set of a key is
// its low bits.

// A set-associative LRU TLB of page numbers, with use stamps.
typedef struct {
    int sets, ways;
    uint64_t *tags, *stamps, clock, hits, misses;
} tlb;

static void tlb_init(tlb *t, int entries, int ways) {
    t->sets = entries / ways;
    t->ways = ways;
    t->tags = malloc(8 * (size_t)entries);
    memset(t->tags, 0xff, 8 * (size_t)entries);
    t->stamps = calloc((size_t)entries, 8);
    t->clock = t->hits = t->misses = 0;
}

INLINE int tlb_lookup(tlb *t, uint64_t page) {
    size_t base = (page & (uint64_t)(t->sets - 1)) * (size_t)t->ways;
    for (int way = 0; way < t->ways; way++) {
        if (t->tags[base + way] == page) {
            t->stamps[base + way] = ++t->clock;
            t->hits++;
            return 1;
        }
    }
    t->misses++;
    return 0;
}

// Fills a page known to be absent: the oldest way (empty ways have stamp 0).
INLINE void tlb_fill(tlb *t, uint64_t page) {
    size_t base = (page & (uint64_t)(t->sets - 1)) * (size_t)t->ways, victim = base;
    uint64_t oldest = t->stamps[base];
    for (size_t slot = base + 1; slot < base + (size_t)t->ways; slot++) {
        if (t->stamps[slot] < oldest) {
            oldest = t->stamps[slot];
            victim = slot;
        }
    }
    t->tags[victim] = page;
    t->stamps[victim] = ++t->clock;
}

// A set-associative LRU array of keys, each set most recent first.
typedef struct {
    int sets, ways;
    uint64_t *keys;
} lru_keys;

static void lru_init(lru_keys *a, int entries, int ways) {
    a->sets = entries / ways;
    a->ways = ways;
    a->keys = malloc(8 * (size_t)entries);
    memset(a->keys, 0xff, 8 * (size_t)entries);
}

INLINE uint64_t *lru_set(const lru_keys *a, uint64_t key) {
    return a->keys + (key & (uint64_t)(a->sets - 1)) * (size_t)a->ways;
}

INLINE int lru_access(lru_keys *a, uint64_t key) {
    uint64_t *set = lru_set(a, key);
    if (set[0] == key) return 1;
    int way = 1;
    while (way < a->ways && set[way] != key) way++;
    int hit = way < a->ways;
    memmove(set + 1, set, 8 * (size_t)(hit ? way : a->ways - 1));
    set[0] = key;
    return hit;
}

// Page tables: 4 GiB of table frames from physical 16 MiB, data from 1 TiB.
enum { TABLE_BASE = 1 << 24 };
static const uint64_t ADDRESS_MASK = 0xFFFFFFFFFF000ull, BITS = 0x67;  // P, W, U, A, D
static uint8_t *tables;
static uint64_t next_table = TABLE_BASE, next_frame = 1ull << 40, root;

static uint64_t *entry_at(uint64_t physical) { return (uint64_t *)(tables + physical - TABLE_BASE); }
static uint64_t slot_of(uint64_t table, uint64_t address, int level) {
    return table + ((address >> (12 + 9 * (level - 1))) & 511) * 8;
}
static uint64_t new_table(void) { return (next_table += 4096) - 4096; }

static void map_page(uint64_t address) {
    uint64_t table = root;
    for (int level = 4; level >= 2; level--) {
        uint64_t *entry = entry_at(slot_of(table, address, level));
        if (!(*entry & 1)) *entry = new_table() | BITS;
        table = *entry & ADDRESS_MASK;
    }
    *entry_at(slot_of(table, address, 1)) = next_frame | BITS;
    next_frame += 4096;
}

// Walks `address`, mapping it first if needed; stores the four entry addresses.
static void walk(uint64_t address, uint64_t slots[4]) {
    for (;;) {
        uint64_t table = root;
        int level = 4;
        for (; level >= 1; level--) {
            slots[4 - level] = slot_of(table, address, level);
            uint64_t entry = *entry_at(slots[4 - level]);
            if ((entry & BITS) != BITS) break;
            table = entry & ADDRESS_MASK;
        }
        if (level == 0) return;
        map_page(address);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s TRACE.raw64\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat status;
    if (fd < 0 || fstat(fd, &status) != 0 || status.st_size % 8 != 0 || status.st_size == 0) {
        fprintf(stderr, "%s: cannot read a raw64 trace (a non-empty multiple of 8 bytes)\n", argv[1]);
        return 1;
    }
    size_t count = (size_t)status.st_size / 8;
    const uint64_t *trace = mmap(0, (size_t)status.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    tables = mmap(0, 1ull << 32, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (trace == MAP_FAILED || tables == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    madvise(tables, 1ull << 32, MADV_HUGEPAGE);
    root = new_table();

    tlb l1, l2;
    tlb_init(&l1, 64, 4);
    tlb_init(&l2, 1536, 12);
    lru_keys pwc, line_l1, line_l2, line_llc;
    lru_init(&pwc, 32, 32);
    lru_init(&line_l1, (48 << 10) / 64, 12);
    lru_init(&line_l2, (1 << 20) / 64, 16);
    lru_init(&line_llc, (32 << 20) / 64, 16);
    static const double latency[4] = {5, 14, 50, 250};
    uint64_t walks = 0, memory_refs = 0, pwc_hits = 0, lines[4] = {0};
    double walk_cycles = 0;

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (size_t index = 0; index < count; index++) {
        if (index + 8 < count) {
            // Prefetch the leaf entry of the access 8 ahead and its line-model sets.
            uint64_t ahead = trace[index + 8], table = root;
            int mapped = 1;
            for (int level = 4; level >= 2 && mapped; level--) {
                uint64_t entry = *entry_at(slot_of(table, ahead, level));
                mapped = entry & 1;
                table = entry & ADDRESS_MASK;
            }
            if (mapped) {
                uint64_t leaf = slot_of(table, ahead, 1);
                __builtin_prefetch(entry_at(leaf));
#ifndef WITHOUT_LINE_MODEL
                __builtin_prefetch(lru_set(&line_l2, leaf >> 6));
                __builtin_prefetch(lru_set(&line_llc, leaf >> 6));
#endif
            }
        }
        uint64_t address = trace[index], page = address >> 12;
        if (tlb_lookup(&l1, page)) continue;
        if (tlb_lookup(&l2, page)) {
            tlb_fill(&l1, page);
            continue;
        }
        uint64_t slots[4];
        walk(address, slots);
        walks++;
        for (int reference = 0; reference < 4; reference++) {
            uint64_t slot = slots[reference];
            if (reference < 3 && lru_access(&pwc, slot >> 3)) {
                pwc_hits++;
                walk_cycles += 1;
                continue;
            }
            memory_refs++;
#ifdef WITHOUT_LINE_MODEL
            int where = 3;
#else
            uint64_t line = slot >> 6;
            int where = lru_access(&line_l1, line) ? 0 : lru_access(&line_l2, line) ? 1 : lru_access(&line_llc, line) ? 2 : 3;
#endif
            lines[where]++;
            walk_cycles += latency[where];
        }
        tlb_fill(&l2, page);
        tlb_fill(&l1, page);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("accesses %zu\nL1D hits %llu misses %llu\nL2 hits %llu misses %llu\nwalks %llu\nwalk_refs %llu\npwc_hits %llu\n"
           "pte_line_hits l1 %llu l2 %llu llc %llu dram %llu\nwalk_cycles %.0f\n",
           count, (unsigned long long)l1.hits, (unsigned long long)l1.misses, (unsigned long long)l2.hits,
           (unsigned long long)l2.misses, (unsigned long long)walks, (unsigned long long)memory_refs,
           (unsigned long long)pwc_hits, (unsigned long long)lines[0], (unsigned long long)lines[1],
           (unsigned long long)lines[2], (unsigned long long)lines[3], walk_cycles);
    fprintf(stderr, "miss-path: %zu translations in %.3f s (%.1f M translations/s)\n", count, seconds, count / seconds / 1e6);
    return 0;
}
