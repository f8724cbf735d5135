import Experiments
import Foundation
import TLB
import Translation

/// The results of `simulate` as text, JSON and CSV.
struct SimulationReport {
    var statistics: SimulationStatistics
    var paging: String
    var guestPage: PageSize
    var hostPage: PageSize
    /// The NUMA placement, when the run has one.
    var numa: SimulationNUMAPlan? = nil
    /// With `numa`: the accesses the data-line model sends to memory.
    var dataMemoryAccesses: UInt64 = 0

    static func references(_ table: [WalkDimension: [Int: UInt64]]) -> [String: [String: UInt64]] {
        var result: [String: [String: UInt64]] = [:]
        for (dimension, levels) in table {
            result[dimension.description] = Dictionary(uniqueKeysWithValues: levels.map { ("L\($0.key)", $0.value) })
        }
        return result
    }

    func json() throws -> String {
        let s = statistics
        var object: [String: Any] = [
            "accesses": s.accesses,
            "paging": paging,
            "guest_page": guestPage.name,
            "host_page": hostPage.name,
            "levels": s.levels.map { ["name": $0.name, "hits": $0.hits, "misses": $0.misses] as [String: Any] },
            "walks": s.walks,
            "walk_refs": s.walkReferences,
            "walk_refs_made": s.walkReferencesMade,
            "refs_per_walk": s.referencesPerWalk,
            "walk_refs_by_level": Self.references(s.memoryReferences),
            "walk_refs_made_by_level": Self.references(s.referencesMade),
            "pwc_hits": s.pwcHits,
            "translation_cache_hits": s.translationCacheHits,
            "skipped_refs": s.skippedReferences,
            "nested_tlb_hits": s.nestedTLBHits,
            "nested_tlb_misses": s.nestedTLBMisses,
            "pte_line_hits": ["l1": s.lineHits.l1, "l2": s.lineHits.l2, "llc": s.lineHits.llc, "dram": s.lineHits.dram],
            "lookup_cycles": s.lookupCycles,
            "walk_cycles": s.walkCycles,
            "predicted_cycles": s.predictedCycles,
            "cycles_per_access": s.cyclesPerAccess,
        ]
        if let numa { object["numa"] = numa.object(s, dataMemoryAccesses: dataMemoryAccesses) }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    var text: String {
        let s = statistics
        var lines = ["accesses          \(s.accesses)  (\(paging), guest \(guestPage), host \(hostPage))"]
        for level in s.levels {
            let lookups = level.hits + level.misses
            let rate = lookups == 0 ? 0 : Double(level.hits) / Double(lookups) * 100
            lines.append(level.name.padding(toLength: 18, withPad: " ", startingAt: 0)
                + "hits \(level.hits)  misses \(level.misses)  (" + String(format: "%.2f", rate) + "% hit)")
        }
        lines.append("walks             \(s.walks)")
        lines.append("walk refs         \(s.walkReferences) to memory of \(s.walkReferencesMade) made ("
            + String(format: "%.3f", s.referencesPerWalk) + " per walk)")
        lines.append("walk caches       pwc hits \(s.pwcHits), translation-cache hits \(s.translationCacheHits), "
            + "nested-TLB hits \(s.nestedTLBHits), skipped refs \(s.skippedReferences)")
        lines.append("PTE lines         L1 \(s.lineHits.l1), L2 \(s.lineHits.l2), LLC \(s.lineHits.llc), DRAM \(s.lineHits.dram)")
        lines.append("predicted cycles  " + String(format: "%.0f (%.3f per access; walks %.0f)", s.predictedCycles,
                                                   s.cyclesPerAccess, s.walkCycles))
        if let numa { lines.append(numa.text(s, dataMemoryAccesses: dataMemoryAccesses)) }
        return lines.joined(separator: "\n")
    }

    var csv: CSVTable {
        let s = statistics
        var columns = ["paging", "guest_page", "host_page", "accesses"]
        var row = [paging, guestPage.name, hostPage.name, "\(s.accesses)"]
        for level in s.levels {
            columns += ["\(level.name)_hits", "\(level.name)_misses"]
            row += ["\(level.hits)", "\(level.misses)"]
        }
        columns += ["walks", "walk_refs", "walk_refs_made", "pwc_hits", "translation_cache_hits", "nested_tlb_hits",
                    "lookup_cycles", "walk_cycles", "predicted_cycles"]
        row += ["\(s.walks)", "\(s.walkReferences)", "\(s.walkReferencesMade)", "\(s.pwcHits)", "\(s.translationCacheHits)",
                "\(s.nestedTLBHits)", String(format: "%.1f", s.lookupCycles), String(format: "%.1f", s.walkCycles),
                String(format: "%.1f", s.predictedCycles)]
        var table = CSVTable(columns: columns)
        table.append(row)
        return table
    }
}
