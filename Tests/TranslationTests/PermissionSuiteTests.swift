import Testing
import Translation
import VMemLabTestSupport

/// The exhaustive permission suite, in the spirit of kvm-unit-tests'
/// x86/access.c but decided by `AccessOracle`, an independent reading of
/// SDM vol. 3A §4.5–§4.8: every case compares `PageWalker`'s outcome, error
/// code, fault level and A/D bits afterwards with the oracle's.
@Suite("Permission suite: PageWalker against the access oracle")
struct PermissionSuiteTests {
    /// What one part of the suite ran.
    struct PartResult: Sendable {
        var label: String
        var cases: Int
        var agreements: Int
        var mismatches: [String]
    }

    /// Part 1, on every layout: every combination of P, R/W, U/S, A, D, XD and
    /// a reserved bit at the leaf (65 entries) and of P, R/W, U/S, A, XD and a
    /// reserved bit at the upper level (33), under every access (9) and two
    /// control profiles. The 120 profiles rotate over the entry combinations
    /// so that each profile meets each layout about 36 times.
    static func entryFlags(layout: PermissionLayout) throws -> PartResult {
        var runner = try PermissionRunner(layout: layout)
        let leaves = EntryFlags.combinations([\.writable, \.user, \.accessed, \.dirty, \.executeDisable, \.reserved])
        let uppers = EntryFlags.combinations([\.writable, \.user, \.accessed, \.executeDisable, \.reserved])
        let profiles = ControlProfile.all
        var combination = 0
        for leaf in leaves {
            for upper in uppers {
                for rotation in 0..<2 {
                    let index = (combination &* 37 &+ rotation &* 61 &+ layout.pageSize.leafLevel &* 11) % profiles.count
                    for access in allAccesses {
                        runner.run(leaf: leaf, upper: upper, access: access, profile: profiles[index])
                    }
                }
                combination += 1
            }
        }
        return PartResult(label: "entry flags, \(layout)", cases: runner.cases, agreements: runner.agreements,
                          mismatches: runner.mismatches)
    }

    /// Part 2, for one access: every combination of P, R/W, U/S and XD at the
    /// leaf and at the upper level (9 × 9 entries) under all 120 control
    /// profiles, on a 4-level 4K layout whose upper level is the PD and on a
    /// 5-level 2M layout whose upper level is the PML5.
    static func rightsAndControls(access: MemoryAccess) throws -> PartResult {
        let layouts = [
            PermissionLayout(mode: .fourLevel, pageSize: .size4K, upperLevel: 2),
            PermissionLayout(mode: .fiveLevel, pageSize: .size2M, upperLevel: 5),
        ]
        var result = PartResult(label: "rights × controls, \(access)", cases: 0, agreements: 0, mismatches: [])
        for layout in layouts {
            var runner = try PermissionRunner(layout: layout)
            let entries = EntryFlags.combinations([\.writable, \.user, \.executeDisable])
            for leaf in entries {
                for upper in entries {
                    for profile in ControlProfile.all {
                        runner.run(leaf: leaf, upper: upper, access: access, profile: profile)
                    }
                }
            }
            result.cases += runner.cases
            result.agreements += runner.agreements
            result.mismatches += runner.mismatches
        }
        return result
    }

    /// 6 layouts × 65 × 33 × 2 × 9, and 9 accesses × 2 layouts × 9 × 9 × 120.
    static let intendedCases = 6 * 65 * 33 * 2 * 9 + 9 * 2 * 9 * 9 * 120

    @Test("every part, walker against oracle, with the case count")
    func permissionSuite() async throws {
        let parts = try await withThrowingTaskGroup(of: PartResult.self) { group in
            for layout in PermissionLayout.all {
                group.addTask { try Self.entryFlags(layout: layout) }
            }
            for access in allAccesses {
                group.addTask { try Self.rightsAndControls(access: access) }
            }
            var parts: [PartResult] = []
            for try await part in group { parts.append(part) }
            return parts
        }
        for part in parts.sorted(by: { $0.label < $1.label }) {
            print("permission suite [\(part.label)]: \(part.cases) cases, \(part.agreements) agree")
            #expect(part.agreements == part.cases, "\(part.label):\n\(part.mismatches.joined(separator: "\n"))")
        }
        let cases = parts.reduce(0) { $0 + $1.cases }
        let agreements = parts.reduce(0) { $0 + $1.agreements }
        print("permission suite: \(cases) cases, \(agreements) agree")
        #expect(parts.count == PermissionLayout.all.count + allAccesses.count)
        #expect(cases == Self.intendedCases)
        #expect(agreements == cases)
    }
}
