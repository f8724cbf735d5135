import Testing
import Translation
import VMemLabTestSupport

/// The exhaustive permission suite, in the spirit of kvm-unit-tests'
/// x86/access.c but decided by `AccessOracle`, an independent reading of
/// SDM vol. 3A §4.5–§4.8: every case compares `PageWalker`'s outcome, error
/// code, fault level and A/D bits afterwards with the oracle's.
@Suite("Permission suite: PageWalker against the access oracle")
struct PermissionSuiteTests {
    /// Part 1, on every layout: every combination of P, R/W, U/S, A, D, XD and
    /// a reserved bit at the leaf (65 entries) and of P, R/W, U/S, A, XD and a
    /// reserved bit at the upper level (33), under every access (9) and four
    /// control profiles. The 120 profiles rotate over the entry combinations
    /// so that each profile meets each layout about 70 times.
    @Test("entry flags at the leaf and one upper level × every access", arguments: PermissionLayout.all)
    func entryFlags(layout: PermissionLayout) throws {
        var runner = try PermissionRunner(layout: layout)
        let leaves = EntryFlags.combinations([\.writable, \.user, \.accessed, \.dirty, \.executeDisable, \.reserved])
        let uppers = EntryFlags.combinations([\.writable, \.user, \.accessed, \.executeDisable, \.reserved])
        let profiles = ControlProfile.all
        var combination = 0
        for leaf in leaves {
            for upper in uppers {
                for rotation in 0..<4 {
                    let index = (combination &* 37 &+ rotation &* 31 &+ layout.pageSize.leafLevel &* 11) % profiles.count
                    for access in allAccesses {
                        runner.run(leaf: leaf, upper: upper, access: access, profile: profiles[index])
                    }
                }
                combination += 1
            }
        }
        print("permission suite [entry flags, \(layout)]: \(runner.cases) cases, \(runner.agreements) agree")
        #expect(runner.cases == 65 * 33 * 4 * 9)
        #expect(runner.agreements == runner.cases, "\(runner.mismatches.joined(separator: "\n"))")
    }

    /// Part 2, for every access: every combination of P, R/W, U/S and XD at
    /// the leaf and at the upper level (9 × 9 entries) under all 120 control
    /// profiles, on a 4-level 4K layout whose upper level is the PD and on a
    /// 5-level 2M layout whose upper level is the PML5.
    @Test("rights × every control profile", arguments: allAccesses)
    func rightsAndControls(access: MemoryAccess) throws {
        let layouts = [
            PermissionLayout(mode: .fourLevel, pageSize: .size4K, upperLevel: 2),
            PermissionLayout(mode: .fiveLevel, pageSize: .size2M, upperLevel: 5),
        ]
        var cases = 0
        var agreements = 0
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
            cases += runner.cases
            agreements += runner.agreements
            #expect(runner.agreements == runner.cases, "\(runner.mismatches.joined(separator: "\n"))")
        }
        print("permission suite [rights × controls, \(access)]: \(cases) cases, \(agreements) agree")
        #expect(cases == 2 * 9 * 9 * 120)
    }
}
