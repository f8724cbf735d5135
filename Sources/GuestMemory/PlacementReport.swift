import Glibc

/// Where a region's pages really are, and how large they are: the node of
/// every base page (from `move_pages`) and the huge-page counters of the
/// region's mappings (from `/proc/self/smaps`).
public struct PlacementReport: Hashable, Sendable {
    /// The region's size over the base page size.
    public var pages: Int
    /// The base page size (4 KiB here).
    public var basePageBytes: Int
    /// Base pages by the node that holds them.
    public var pagesPerNode: [Int: Int]
    /// Base pages not faulted in (`-ENOENT` from `move_pages`).
    public var pagesNotPresent: Int
    /// Base pages for which `move_pages` gave another error, by errno name.
    public var pageErrors: [String: Int]
    /// `KernelPageSize` of the region's mapping: 4 KiB for anonymous and THP
    /// memory (a THP is a huge mapping of 4K pages), the huge page size for hugetlb.
    public var kernelPageBytes: Int
    /// Transparent huge pages mapped (`AnonHugePages` + `ShmemPmdMapped` + `FilePmdMapped`).
    public var transparentHugeBytes: Int
    /// hugetlb pages mapped (`Private_Hugetlb` + `Shared_Hugetlb`).
    public var hugetlbBytes: Int
    /// Resident bytes (`Rss`; hugetlb pages are counted under `hugetlbBytes` instead).
    public var residentBytes: Int
    /// Whether the smaps entries also cover memory outside the region (the
    /// kernel merged it with a neighbour), so the counters may include it.
    public var countersIncludeNeighbours: Bool

    /// Bytes backed by huge pages of any kind.
    public var hugePageBytes: Int { transparentHugeBytes + hugetlbBytes }

    /// The fraction of the region backed by huge pages, from 0 to 1.
    public var hugePageCoverage: Double {
        pages == 0 ? 0 : min(1, Double(hugePageBytes) / Double(pages * basePageBytes))
    }

    /// Base pages whose node is known.
    public var placedPages: Int { pagesPerNode.values.reduce(0, +) }

    /// Whether every base page is present and on `node`.
    public func allPages(on node: Int) -> Bool { pagesPerNode[node] == pages }

    public init(pages: Int, basePageBytes: Int, pagesPerNode: [Int: Int], pagesNotPresent: Int, pageErrors: [String: Int],
                kernelPageBytes: Int, transparentHugeBytes: Int, hugetlbBytes: Int, residentBytes: Int,
                countersIncludeNeighbours: Bool) {
        self.pages = pages
        self.basePageBytes = basePageBytes
        self.pagesPerNode = pagesPerNode
        self.pagesNotPresent = pagesNotPresent
        self.pageErrors = pageErrors
        self.kernelPageBytes = kernelPageBytes
        self.transparentHugeBytes = transparentHugeBytes
        self.hugetlbBytes = hugetlbBytes
        self.residentBytes = residentBytes
        self.countersIncludeNeighbours = countersIncludeNeighbours
    }
}

extension GuestMemoryRegion {
    /// Asks the kernel where every base page of the region is and how the
    /// region is mapped. It moves nothing and faults nothing in.
    /// The corresponding C function is `move_pages` with null nodes; the
    /// counters come from `/proc/self/smaps`.
    public func verifyPlacement() throws(GuestMemoryError) -> PlacementReport {
        try verifyPlacement(of: 0..<size)
    }

    /// The same for the bytes `range` of the region (such as one guest
    /// node's), whose bounds are multiples of the base page size. The smaps
    /// counters cover the mappings that overlap the range.
    public func verifyPlacement(of range: Range<Int>) throws(GuestMemoryError) -> PlacementReport {
        let basePage = Int(sysconf(Int32(_SC_PAGESIZE)))
        precondition(range.lowerBound >= 0 && range.upperBound <= size && range.lowerBound % basePage == 0
                     && range.count % basePage == 0, "\(range) is not a page-aligned range of the region")
        let pages = range.count / basePage
        let first = baseAddress + range.lowerBound
        var perNode: [Int: Int] = [:], notPresent = 0, errors: [String: Int] = [:]
        let chunk = 4096
        var addresses = [UnsafeMutableRawPointer?](repeating: nil, count: chunk)
        var status = [Int32](repeating: 0, count: chunk)
        var done = 0
        do throws(SystemCallError) {
            while done < pages {
                let count = min(chunk, pages - done)
                for index in 0..<count { addresses[index] = first + (done + index) * basePage }
                try addresses.withUnsafeMutableBufferPointer { pointers throws(SystemCallError) in
                    try status.withUnsafeMutableBufferPointer { results throws(SystemCallError) in
                        try NUMASystemCalls.nodes(of: .init(rebasing: pointers[..<count]), status: .init(rebasing: results[..<count]))
                    }
                }
                for value in status[..<count] {
                    if value >= 0 {
                        perNode[Int(value), default: 0] += 1
                    } else if value == -ENOENT {
                        notPresent += 1
                    } else {
                        errors[SystemCallError.name(ofErrno: -value), default: 0] += 1
                    }
                }
                done += count
            }
        } catch {
            throw .system(error)
        }
        let text: String
        do { text = try SystemFiles.read("/proc/self/smaps") } catch { throw .system(error) }
        let start = UInt(bitPattern: first), end = start + UInt(range.count)
        let entries = SmapsEntry.overlapping(SmapsEntry.parse(text), start: start, end: end)
        func sum(_ names: String...) -> Int { entries.reduce(0) { total, entry in names.reduce(total) { $0 + entry[$1] } } }
        return PlacementReport(
            pages: pages, basePageBytes: basePage, pagesPerNode: perNode, pagesNotPresent: notPresent, pageErrors: errors,
            kernelPageBytes: entries.first?["KernelPageSize"] ?? basePage,
            transparentHugeBytes: sum("AnonHugePages", "ShmemPmdMapped", "FilePmdMapped"),
            hugetlbBytes: sum("Private_Hugetlb", "Shared_Hugetlb"),
            residentBytes: sum("Rss"),
            countersIncludeNeighbours: entries.contains { $0.start < start || $0.end > end })
    }

    /// The node of the page holding byte `offset` of the region, faulting it
    /// in if it is absent.
    /// The corresponding C function is `get_mempolicy` with `MPOL_F_NODE|MPOL_F_ADDR`.
    public func node(ofByte offset: Int) throws(GuestMemoryError) -> Int {
        precondition(offset >= 0 && offset < size, "offset \(offset) is outside the region of \(size) bytes")
        do { return try NUMASystemCalls.node(of: baseAddress + offset) } catch { throw .system(error) }
    }
}
