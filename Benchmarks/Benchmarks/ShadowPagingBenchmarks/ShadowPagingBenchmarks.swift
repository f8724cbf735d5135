import Benchmark
import ShadowPaging
import Translation
import Workloads

/// A guest kernel on a shadow MMU with `pages` 4K pages of one process
/// touched, so their shadow entries exist.
func warmShadow(pages: UInt64) -> (ShadowMMU, GuestKernel) {
    var mmu = ShadowMMU(configuration: ShadowMMUConfiguration(guestMemoryBytes: 256 << 20))
    var kernel = GuestKernel(memoryBytes: 256 << 20)
    let events: [GuestOSEvent] = [.spawn(1), .mmap(1, start: 0x10_0000_0000, length: pages << 12, writable: true, pageSize: .size4K)]
        + (0..<pages).map { .access(1, address: 0x10_0000_0000 + $0 << 12, .write) }
    for event in events {
        // The fixed set-up above cannot fail.
        try! kernel.apply(event, on: &mmu)
    }
    return (mmu, kernel)
}

/// Shadow MMU events per second, and allocations per event.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    Benchmark("hardware walk of a warm shadow table (4K, 16 MiB)") { benchmark in
        var (mmu, _) = warmShadow(pages: 4096)
        var random = GuestOSRandom(seed: 1)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(mmu.access(0x10_0000_0000 + (random.next() & 0xFF_FFF8), .read) as ShadowAccessResult)
        }
    }

    Benchmark("page-table store into an unsync leaf table") { benchmark in
        var (mmu, kernel) = warmShadow(pages: 512)
        let root = kernel.root(of: 1) ?? 0
        // The PT that maps the region: root → PDPT → PD → PT.
        var table = root
        for level in stride(from: 4, to: 1, by: -1) {
            table = mmu.loadGuestPhysical(table + PagingMode.index(of: 0x10_0000_0000, at: level) * 8) & PageTableEntry.addressMask
        }
        let slot = table + 8
        let value = mmu.loadGuestPhysical(slot)
        mmu.storePageTableEntry(slot, value)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            mmu.storePageTableEntry(slot, value ^ UInt64(index & 1) << 9)
        }
    }

    Benchmark("CR3 switch between two processes (root-cache hit + sync)") { benchmark in
        var (mmu, kernel) = warmShadow(pages: 64)
        try! kernel.apply(.spawn(2), on: &mmu)
        let roots = [kernel.root(of: 1) ?? 0, kernel.root(of: 2) ?? 0]
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            mmu.loadCR3(roots[index & 1])
        }
    }

    for workload in [GuestOSWorkload.gups, .faultStorm] {
        Benchmark("guest-OS events through kernel and shadow MMU: \(workload.rawValue)") { benchmark in
            let events = workload.events(GuestOSWorkloadOptions(seed: 7, events: benchmark.scaledIterations.count + 1,
                                                                footprintBytes: 4 << 20))
            var mmu = ShadowMMU(configuration: ShadowMMUConfiguration(guestMemoryBytes: 512 << 20))
            var kernel = GuestKernel(memoryBytes: 512 << 20)
            benchmark.startMeasurement()
            for event in events.prefix(benchmark.scaledIterations.count) {
                try? kernel.apply(event, on: &mmu)
            }
        }
    }
}
