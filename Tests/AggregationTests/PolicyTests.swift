import Foundation
import Testing
import VaultAggregation
import VaultAudit
import VaultModel
import VaultStore

/// Each policy rule with a query that trips it and one that passes.
@Suite("Policy rules at query time", .serialized)
struct PolicyTests {
    /// School S has `female` F and `male` M records in math; school T has 30 F and 30 M.
    func makeVault(female: Int, male: Int, policy: String? = nil, schema: Schema? = nil) async throws -> TestVault {
        var records: [PlainRecord] = []
        for i in 0..<female { records.append(PlainRecord(school: "S", student: "s\(i)", subject: "math", score: 500 + i, attributes: ["sex": "F"])) }
        for i in 0..<male { records.append(PlainRecord(school: "S", student: "m\(i)", subject: "math", score: 600 + i, attributes: ["sex": "M"])) }
        for i in 0..<60 {
            records.append(PlainRecord(school: "T", student: "t\(i)", subject: "math", score: 700 + i,
                                       attributes: ["sex": i % 2 == 0 ? "F" : "M"]))
        }
        return try await TestVault(schools: ["S": ["region": "rural"], "T": ["region": "urban"]], records: records,
                                   schema: schema, policyYAML: policy)
    }

    /// The default policy with LIN-AUDIT off and the legacy COMP-SUPP cascade on (the rules before LIN-AUDIT).
    static func legacyPolicy() throws -> String {
        let yaml = try String(contentsOf: TestVault.root.appendingPathComponent("Policies/default.yaml"), encoding: .utf8)
        let legacy = yaml
            .replacingOccurrences(of: "modulo a prime).\n    enabled: true", with: "modulo a prime).\n    enabled: false")
            .replacingOccurrences(of: "turn LIN-AUDIT off.\n    enabled: false", with: "turn LIN-AUDIT off.\n    enabled: true")
        precondition(legacy.components(separatedBy: "enabled: false").count == 2, "the default policy changed shape")
        return legacy
    }

    /// The default policy with DIFF-GUARD off: LIN-AUDIT alone stands between the analyst and a small total.
    static func linearOnlyPolicy() throws -> String {
        let yaml = try String(contentsOf: TestVault.root.appendingPathComponent("Policies/default.yaml"), encoding: .utf8)
        let policy = yaml.replacingOccurrences(of: "fewer than threshold records.\n    enabled: true",
                                               with: "fewer than threshold records.\n    enabled: false")
        precondition(policy != yaml, "the default policy changed shape")
        return policy
    }

    @Test("K-MIN: a cell below k is suppressed without a value; a cell of exactly k is released")
    func kMin() async throws {
        let vault = try await makeVault(female: 10, male: 4)
        let result = try await vault.ask(Query(by: ["school", "sex"]))
        #expect(result.cells.contains { $0.by == ["school": "S", "sex": "F"] && $0.statistics.count == 10 })
        let suppressed = result.release.suppressed.first { $0.by == ["school": "S", "sex": "M"] }
        #expect(suppressed?.rule == "K-MIN")
        #expect(result.cells.contains { $0.by == ["school": "T", "sex": "F"] && $0.statistics.count == 30 })
        let raw = String(decoding: try JSONEncoder().encode(result.release.suppressed), as: UTF8.self)
        #expect(!raw.contains("sum") && !raw.contains("count"))
    }

    @Test("No cascade: one small cell costs one cell; the margin that would reveal it is withheld by LIN-AUDIT later")
    func noCascade() async throws {
        let vault = try await makeVault(female: 12, male: 3, policy: try Self.linearOnlyPolicy())
        let table = try await vault.ask(Query(by: ["school", "sex"]))
        #expect(table.release.suppressed.map(\.rule) == ["K-MIN"])
        #expect(table.cells.count == 3)
        // School S's total would be its released women plus the withheld men: withheld. T's total is released.
        let margin = try await vault.ask(Query(by: ["school"]))
        #expect(margin.release.suppressed.map { [$0.by["school"]!, $0.rule] } == [["S", "LIN-AUDIT"]])
        #expect(margin.cells.map { $0.by["school"]! } == ["T"])
        // And the men of both schools: T's men are released, so S's three would follow.
        let men = try await vault.ask(Query(by: ["region"], filters: ["sex": "M"]))
        #expect(men.release.suppressed.map { [$0.by["region"]!, $0.rule] } == [["rural", "K-MIN"]])
        let all = try await vault.ask(Query(by: ["sex"]))
        #expect(all.release.suppressed.map { [$0.by["sex"]!, $0.rule] } == [["M", "LIN-AUDIT"]])
        // With DIFF-GUARD on (the default), the same margin is withheld by that rule first: S's total differs
        // from its released women by three records. DIFF-GUARD is the one-step special case of LIN-AUDIT.
        let guarded = try await makeVault(female: 12, male: 3)
        _ = try await guarded.ask(Query(by: ["school", "sex"]))
        let guardedMargin = try await guarded.ask(Query(by: ["school"]))
        #expect(guardedMargin.release.suppressed.map { [$0.by["school"]!, $0.rule] } == [["S", "DIFF-GUARD"]])
    }

    @Test("COMP-SUPP (legacy, when a policy turns LIN-AUDIT off): the siblings of a suppressed cell are withheld too")
    func complementary() async throws {
        let vault = try await makeVault(female: 12, male: 3, policy: try Self.legacyPolicy())
        let result = try await vault.ask(Query(by: ["school", "sex"]))
        let rules = Dictionary(uniqueKeysWithValues: result.release.suppressed.map { ($0.by["school"]! + $0.by["sex"]!, $0.rule) })
        #expect(rules["SM"] == "K-MIN")
        #expect(rules["SF"] == "COMP-SUPP")
        // Along the other attribute (school), T's cells are also siblings of S's: at least one more is withheld
        // for each sex, so S = total − T cannot be formed either.
        #expect(result.release.suppressed.count >= 3)
        // Passing case: when no cell is small, nothing is suppressed.
        let clean = try await makeVault(female: 12, male: 12, policy: try Self.legacyPolicy())
        #expect(try await clean.ask(Query(by: ["school", "sex"])).release.suppressed.isEmpty)
    }

    @Test("DIFF-GUARD: a cell differing from an earlier release by 1…k−1 records is withheld; by ≥ k it is released")
    func differencing() async throws {
        let vault = try await makeVault(female: 12, male: 1)
        let first = try await vault.ask(Query(by: ["school"]))
        #expect(first.cells.contains { $0.by["school"] == "S" && $0.statistics.count == 13 })
        // S's women are S minus one man: withheld.
        let attack = try await vault.ask(Query(by: ["school"], filters: ["sex": "F"]))
        #expect(attack.release.suppressed.contains { $0.by["school"] == "S" && $0.rule == "DIFF-GUARD" })
        // T's women are released: nothing released so far isolates fewer than k records with them.
        #expect(attack.cells.map { $0.by["school"] } == ["T"])
        // "All women" minus T's women would be S's women, and S minus those the one man: LIN-AUDIT withholds both
        // sexes' totals (T's men follow from T minus T's women).
        let bySex = try await vault.ask(Query(by: ["sex"]))
        #expect(bySex.cells.isEmpty)
        #expect(Set(bySex.release.suppressed.map(\.rule)) == ["LIN-AUDIT"])
        // Passing case: a cell that differs from an earlier one by ≥ k records is released.
        let other = try await makeVault(female: 12, male: 12)
        _ = try await other.ask(Query(by: ["school"]))
        let women = try await other.ask(Query(by: ["school"], filters: ["sex": "F"]))
        #expect(women.release.suppressed.isEmpty)
        #expect(women.cells.map(\.statistics.count).sorted() == [12, 30])
        // Repeating a released query is allowed (difference 0) and gives the same numbers.
        let again = try await vault.ask(Query(by: ["school"]))
        #expect(again.cells.map(\.statistics) == first.cells.map(\.statistics))
        #expect(again.release.cells.map(\.sum) != first.release.cells.map(\.sum))  // fresh re-randomisation
    }

    @Test("ATTR-ALLOW: grouping by an attribute the policy does not list is refused and logged")
    func attributeAllowList() async throws {
        let root = TestVault.root.appendingPathComponent("Policies/default.yaml")
        let yaml = try String(contentsOf: root, encoding: .utf8)
            .replacingOccurrences(of: "program, grade, term, sex, residence", with: "program, grade, term, residence")
        let vault = try await makeVault(female: 12, male: 12, policy: yaml)
        let error = await #expect(throws: AggregationError.self) { _ = try await vault.ask(Query(by: ["sex"])) }
        #expect(error?.rule == "ATTR-ALLOW")
        #expect(try vault.vault.auditEntries().last?.kind.rawValue == "query.refused")
        // Passing: an allowed attribute.
        #expect(try await vault.ask(Query(by: ["school"])).cells.count == 2)
        // Unknown attributes are a query error, not a policy refusal.
        let unknown = await #expect(throws: AggregationError.self) { _ = try await vault.ask(Query(by: ["shoe_size"])) }
        #expect(unknown?.code == .invalidQuery)
    }

    @Test("Slot overflow is ruled out from counts and bounds before any sum is computed")
    func overflow() async throws {
        // 16-bit slots with scores up to 100: x² ≤ 10,000, so 7 records could exceed 65,535.
        let schema = try Schema(scale: 0, minScore: 0, maxScore: 100, slotBits: 16)
        var records: [PlainRecord] = []
        for i in 0..<7 { records.append(PlainRecord(school: "S", student: "s\(i)", subject: "math", score: 90, attributes: [:])) }
        let vault = try await TestVault(schools: ["S": [:]], records: records, schema: schema)
        let error = await #expect(throws: AggregationError.self) { _ = try await vault.ask(Query(by: ["school"])) }
        #expect(error?.code == .overflow)
        // Passing: 6 records of 100² = 60,000 fit.
        let fits = try await TestVault(schools: ["S": [:]], records: Array(records.prefix(6)), schema: schema)
        #expect(throws: Never.self) { _ = try QueryEngine(vault: fits.vault).run(Query(by: ["school"])) }
    }
}
