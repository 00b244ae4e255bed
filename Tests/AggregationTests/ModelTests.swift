import BigNum
import Foundation
import Testing
import VaultAggregation
import VaultAudit
import VaultModel
import VaultPolicy
import VaultStore

/// `eduvault analyze` through the engine: exact block sums, and each model-output rule with a model that trips it
/// and the same model passing (or tripping another rule) once the rule is off.
@Suite("Models: block sums and model-output rules", .serialized)
struct ModelTests {
    static func defaultPolicy() throws -> String {
        try String(contentsOf: TestVault.root.appendingPathComponent("Policies/default.yaml"), encoding: .utf8)
    }

    /// Schools S (rural, programme yes), T (urban, no), U (rural, no): `perCell` records per (school, sex, residence).
    func makeVault(perCell: Int = 12, policy: String? = nil, extraSchool: Int = 0) async throws -> TestVault {
        var records: [PlainRecord] = []
        var i = 0
        for school in ["S", "T", "U"] {
            for sex in ["F", "M"] {
                for residence in ["rural", "urban"] {
                    for _ in 0..<perCell {
                        i += 1
                        records.append(
                            PlainRecord(
                                school: school, student: "st\(i)", subject: "math",
                                score: (i * 37) % 1001, attributes: ["sex": sex, "residence": residence]))
                    }
                }
            }
        }
        for j in 0..<extraSchool {
            records.append(
                PlainRecord(
                    school: "V", student: "x\(j)", subject: "math", score: 400 + j,
                    attributes: ["sex": j % 2 == 0 ? "M" : "F", "residence": "rural"]))
        }
        var schools = [
            "S": ["region": "rural", "program": "yes"], "T": ["region": "urban", "program": "no"],
            "U": ["region": "rural", "program": "no"],
        ]
        if extraSchool > 0 { schools["V"] = ["region": "urban", "program": "no"] }
        return try await TestVault(
            schools: schools,
            records: records, policyYAML: policy)
    }

    func expectRefusal(
        _ vault: TestVault, _ spec: ModelSpec, rule: String, sourceLocation: SourceLocation = #_sourceLocation
    )
        throws
    {
        let before = try vault.vault.auditEntries().count
        do {
            _ = try ModelEngine(vault: vault.vault).run(spec)
            Issue.record("the model was released; expected a refusal under \(rule)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .refused && error.rule == rule, "\(error)", sourceLocation: sourceLocation)
        }
        let entries = try vault.vault.auditEntries()
        #expect(entries.count == before + 1, sourceLocation: sourceLocation)
        #expect(
            entries.last?.kind.rawValue == "query.refused" && entries.last?.details["rule"] == rule,
            sourceLocation: sourceLocation)
    }

    @Test("Block sums are exact: the total, every level and every group equal the plaintext sums")
    func exactBlocks() async throws {
        let vault = try await makeVault()
        let spec = ModelSpec(formula: "score ~ sex + residence + program", random: "school")
        let outcome = try ModelEngine(vault: vault.vault).run(spec)
        let release = try ModelRelease.decode(try outcome.release.jsonData())
        #expect(release == outcome.release)
        let decrypted = try await DecryptedModel.decrypt(release, key: TestVault.privateKey)
        #expect(release.numeric == ["score"])
        #expect(release.categorical.map(\.name) == ["sex", "residence", "program"])
        #expect(release.categorical.map(\.levels) == [["F", "M"], ["rural", "urban"], ["no", "yes"]])
        #expect(release.random?.groups == ["S", "T", "U"])
        // Plaintext truth per atom: recompute from the atoms the vault stored.
        let atoms = try vault.vault.atoms()
        let program = ["S": "yes", "T": "no", "U": "no"]
        func truth(_ keep: (Atom) -> Bool) -> (Int, Int, Int) {
            atoms.filter(keep).reduce((0, 0, 0)) { acc, atom in
                let t = vault.truth[atom.id]!
                return (acc.0 + t.count, acc.1 + t.sum, acc.2 + t.sumOfSquares)
            }
        }
        func check(_ block: DecryptedModel.Block, _ expected: (Int, Int, Int)) {
            #expect(block.count == expected.0)
            #expect(block.product("y")?.decimalString == String(expected.1))
            #expect(block.product("y2")?.decimalString == String(expected.2))
        }
        check(decrypted.total, truth { _ in true })
        for (l, level) in ["F", "M"].enumerated() {
            check(decrypted.levels[0][l], truth { $0.attributes["sex"] == level })
        }
        for (l, level) in ["rural", "urban"].enumerated() {
            check(decrypted.levels[1][l], truth { $0.attributes["residence"] == level })
        }
        for (l, level) in ["no", "yes"].enumerated() {
            check(decrypted.levels[2][l], truth { program[$0.schoolID] == level })
        }
        for (g, school) in ["S", "T", "U"].enumerated() { check(decrypted.groups[g], truth { $0.schoolID == school }) }
        // Public counts: sex × residence is 36 each; program × sex is 24 (yes) and 48 (no).
        #expect(release.pairCounts[0] == [[36, 36], [36, 36]])
        #expect(release.pairCounts[1] == [[48, 24], [48, 24]])
        #expect(release.random?.levelCounts[0] == [[24, 24], [24, 24], [0, 48]])
        // The blocks are released rows: the audit's stored state equals a rebuild from the history, no violation.
        let report = try DisclosureAudit.check(vault.vault)
        #expect(report.storedStateMatches == true && report.violations.isEmpty && report.releases == 1)
        let entry = try vault.vault.auditEntries().last
        #expect(entry?.kind.rawValue == "query.released" && entry?.details["release_kind"] == "model")
        #expect(entry?.details["cells"] == String(release.allBlocks.count))
    }

    @Test("The response must be score; unknown terms, a random record attribute and a one-level term are refused")
    func malformed() async throws {
        let vault = try await makeVault()
        for (formula, random) in [
            ("prior ~ sex", nil), ("score ~ shoe_size", nil), ("score ~ sex", "residence"),
            ("score ~ school", "school"),
        ] as [(String, String?)] {
            #expect(throws: AggregationError.self) {
                try ModelEngine(vault: vault.vault).run(ModelSpec(formula: formula, random: random))
            }
        }
        #expect(throws: AggregationError.self) {
            try ModelEngine(vault: vault.vault).run(ModelSpec(formula: "score ~ program", filters: ["school": "S"]))
        }
    }

    @Test("MODEL-DP: a differential-privacy vault releases no model")
    func modelDP() async throws {
        let dp = try String(
            contentsOf: TestVault.root.appendingPathComponent("Policies/differential-privacy.yaml"),
            encoding: .utf8)
        let vault = try await makeVault(policy: dp)
        try expectRefusal(vault, ModelSpec(formula: "score ~ sex"), rule: "MODEL-DP")
        let exact = try await makeVault()
        _ = try ModelEngine(vault: exact.vault).run(ModelSpec(formula: "score ~ sex"))
    }

    @Test("MODEL-LEVEL-K: a level or a random group below k refuses the model; without the rule K-MIN still does")
    func levelK() async throws {
        // School V has 4 records: as a level of school, or as a random group, it is below k.
        let vault = try await makeVault(extraSchool: 4)
        try expectRefusal(vault, ModelSpec(formula: "score ~ school"), rule: "MODEL-LEVEL-K")
        try expectRefusal(vault, ModelSpec(formula: "score ~ sex", random: "school"), rule: "MODEL-LEVEL-K")
        let off = try Self.defaultPolicy().replacingOccurrences(
            of: "holds at least k records.\n    enabled: true", with: "holds at least k records.\n    enabled: false")
        #expect(off != (try Self.defaultPolicy()))
        let without = try await makeVault(policy: off, extraSchool: 4)
        try expectRefusal(without, ModelSpec(formula: "score ~ school"), rule: "K-MIN")
    }

    @Test("MODEL-SATURATED: collinear categorical terms (a school attribute next to school) are refused")
    func saturated() async throws {
        let vault = try await makeVault()
        try expectRefusal(vault, ModelSpec(formula: "score ~ school + program"), rule: "MODEL-SATURATED")
        try expectRefusal(vault, ModelSpec(formula: "score ~ region + program + school"), rule: "MODEL-SATURATED")
        let off = try Self.defaultPolicy().replacingOccurrences(
            of: "which are public).\n    enabled: true", with: "which are public).\n    enabled: false")
        #expect(off != (try Self.defaultPolicy()))
        let without = try await makeVault(policy: off)
        _ = try ModelEngine(vault: without.vault).run(ModelSpec(formula: "score ~ school + program"))
    }

    @Test("MODEL-DF: too few residual degrees of freedom refuse the model; the threshold is the policy's")
    func degreesOfFreedom() async throws {
        // 144 records, score ~ school + sex + residence: 5 columns, 139 residual df.
        let strict = try Self.defaultPolicy().replacingOccurrences(of: "min_df_resid: 10", with: "min_df_resid: 140")
        #expect(strict != (try Self.defaultPolicy()))
        let vault = try await makeVault(policy: strict)
        try expectRefusal(vault, ModelSpec(formula: "score ~ school + sex + residence"), rule: "MODEL-DF")
        _ = try ModelEngine(vault: vault.vault).run(ModelSpec(formula: "score ~ school + sex"))  // 140 df
    }

    /// An earlier release of the F and M cells at school S, then a late batch of 3 records at S.
    func lateBatchVault(policy: String?) async throws -> TestVault {
        let vault = try await makeVault(policy: policy)
        _ = try await vault.ask(Query(by: ["sex"], filters: ["school": "S"]))
        try await vault.ingest(
            (0..<3).map {
                PlainRecord(
                    school: "S", student: "late\($0)", subject: "math", score: 900 + $0,
                    attributes: ["sex": "F", "residence": "rural"])
            })
        return vault
    }

    @Test("DIFF-GUARD: a block whose records differ from an earlier released cell by fewer than k is refused")
    func differencing() async throws {
        let vault = try await lateBatchVault(policy: nil)
        try expectRefusal(
            vault, ModelSpec(formula: "score ~ residence", filters: ["school": "S", "sex": "F"]),
            rule: "DIFF-GUARD")
        // Without DIFF-GUARD, LIN-AUDIT still refuses it: the difference is the late batch's 3 records.
        let linearOnly = try Self.defaultPolicy().replacingOccurrences(
            of: "fewer than threshold records.\n    enabled: true",
            with: "fewer than threshold records.\n    enabled: false")
        let without = try await lateBatchVault(policy: linearOnly)
        try expectRefusal(
            without, ModelSpec(formula: "score ~ residence", filters: ["school": "S", "sex": "F"]),
            rule: "LIN-AUDIT")
    }

    @Test("LIN-AUDIT: blocks are audited like cells; with the audit off the disclosive model is released")
    func linearAudit() async throws {
        let neither = try Self.defaultPolicy()
            .replacingOccurrences(
                of: "fewer than threshold records.\n    enabled: true",
                with: "fewer than threshold records.\n    enabled: false")
        let vault = try await lateBatchVault(policy: neither)
        let spec = ModelSpec(formula: "score ~ residence", filters: ["school": "S", "sex": "F"])
        try expectRefusal(vault, spec, rule: "LIN-AUDIT")
        let off = neither.replacingOccurrences(
            of: "modulo a prime).\n    enabled: true",
            with: "modulo a prime).\n    enabled: false")
        let without = try await lateBatchVault(policy: off)
        _ = try ModelEngine(vault: without.vault).run(spec)
        // And a model's blocks constrain later queries: after the model, the late records' cell is withheld.
        let audited = try await makeVault()
        _ = try ModelEngine(vault: audited.vault).run(ModelSpec(formula: "score ~ residence", filters: ["school": "S"]))
        try await audited.ingest(
            (0..<3).map {
                PlainRecord(
                    school: "S", student: "late\($0)", subject: "math", score: 900 + $0,
                    attributes: ["sex": "F", "residence": "rural"])
            })
        let later = try await audited.ask(Query(by: ["residence"], filters: ["school": "S"]))
        #expect(
            later.release.suppressed.map(\.rule) == ["LIN-AUDIT"]
                || later.release.suppressed.map(\.rule) == ["DIFF-GUARD"])
    }
}

/// The model release decoder: a release that decodes is consistent; every inconsistency found is refused.
@Suite("Model release decoding")
struct ModelReleaseValidationTests {
    static func block(_ count: Int) -> ModelRelease.Block { ModelRelease.Block(count: count, sums: ["12345"]) }

    /// score ~ sex + residence, random school: 40 records, 2 schools.
    static func valid() -> ModelRelease {
        ModelRelease(
            format: ModelRelease.formatTag, id: "abc", vault: "v", keyID: "k",
            model: ModelSpec(
                formula: "score ~ sex + residence", filters: ["subject": "math"], random: "school",
                contrast: "sex"),
            policy: PolicyReference(id: "p", version: 4, sha256: "00"), created: "2026-12-05T00:00:00Z", logIndex: 7,
            scale: 1,
            layout: .init(
                slotBits: 96, slotsPerCiphertext: 2, ciphertextCount: 1,
                products: [.init(name: "y", ciphertext: 0, slot: 0), .init(name: "y2", ciphertext: 0, slot: 1)]),
            numeric: ["score"],
            categorical: [
                .init(name: "sex", levels: ["F", "M"]), .init(name: "residence", levels: ["rural", "urban"]),
            ],
            total: block(40), levels: [[block(22), block(18)], [block(25), block(15)]],
            pairCounts: [[[12, 10], [13, 5]]],
            random: .init(
                name: "school", groups: ["A", "B"], blocks: [block(20), block(20)],
                levelCounts: [[[10, 10], [15, 5]], [[12, 8], [10, 10]]]))
    }

    @Test("A consistent model release round-trips")
    func roundTrip() throws {
        let release = Self.valid()
        #expect(try ModelRelease.decode(try release.jsonData()) == release)
        #expect(ModelRelease.isModelRelease(try release.jsonData()))
        #expect(!ModelRelease.isModelRelease(Data("{\"format\":\"eduvault-release/1\"}".utf8)))
    }

    @Test("Tampered or inconsistent model releases are refused", arguments: 0..<16)
    func tampered(_ which: Int) throws {
        var r = Self.valid()
        switch which {
        case 0: r.total.count = 41  // levels no longer add up
        case 1: r.levels[0][0].count = 23  // one level changed
        case 2: r.pairCounts[0][0][0] = 11  // pair table off its margins
        case 3: r.categorical[1].levels = ["urban", "rural"]  // levels out of order
        case 4: r.total.sums = ["1", "2"]  // one sum per ciphertext
        case 5: r.levels[1][1].sums = ["0123"]  // non-canonical decimal
        case 6: r.layout.products.removeLast()  // y² missing
        case 7: r.layout.products[1].slot = 0  // two products in one slot
        case 8: r.random?.levelCounts[0][1] = [14, 6]  // group level counts off the levels
        case 9: r.random?.blocks[1].count = 21  // groups do not add up
        case 10: r.model.contrast = "school"  // contrast not a term
        case 11: r.model.formula = "score ~ sex"  // terms do not match the formula
        case 12: r.numeric = ["prior"]  // response is not score
        case 13: r.random?.groups = ["B", "A"]  // groups out of order
        case 14: r.format = "eduvault-release-model/9"
        default:
            r.categorical[0].levels = ["F"]
            r.levels[0] = [Self.block(40)]  // a one-level term
        }
        #expect(throws: AggregationError.self) { try ModelRelease.decode(try r.jsonData()) }
    }
}

@Suite("Policy: model-output rules")
struct ModelPolicyTests {
    @Test("MODEL-DF, MODEL-SATURATED and MODEL-LEVEL-K load, default when absent, and refuse bad values")
    func rules() throws {
        let yaml = try ModelTests.defaultPolicy()
        let policy = try Policy.parse(Array(yaml.utf8))
        #expect(policy.version == 4 && policy.modelMinDF == 10 && policy.modelRefusesSaturated && policy.modelLevelK)
        // A policy that predates the model rules (main's v3) gets the defaults.
        let start = yaml.range(of: "  - id: MODEL-DF")!.lowerBound
        let end = yaml.range(of: "  - id: ATTR-ALLOW")!.lowerBound
        let old = try Policy.parse(Array((String(yaml[..<start]) + String(yaml[end...])).utf8))
        #expect(old.modelMinDF == Policy.defaultModelMinDF && old.modelRefusesSaturated && old.modelLevelK)
        let custom = try Policy.parse(
            Array(yaml.replacingOccurrences(of: "min_df_resid: 10", with: "min_df_resid: 30").utf8))
        #expect(custom.modelMinDF == 30)
        for bad in ["min_df_resid: 0", "min_df_resid: ten"] {
            #expect(throws: PolicyError.self) {
                try Policy.parse(Array(yaml.replacingOccurrences(of: "min_df_resid: 10", with: bad).utf8))
            }
        }
        #expect(throws: PolicyError.self) {
            try Policy.parse(
                Array(
                    yaml.replacingOccurrences(
                        of: "which are public).\n    enabled: true",
                        with: "which are public).\n    enabled: maybe"
                    ).utf8))
        }
    }
}
