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

    @Test("K-MIN: a cell below k is suppressed without a value; a cell of exactly k is released")
    func kMin() async throws {
        // COMP-SUPP off, to see K-MIN alone (with it on, a 2×2 table with one small cell is withheld whole).
        let yaml = try String(contentsOf: TestVault.root.appendingPathComponent("Policies/default.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "cannot be recovered from totals.\n    enabled: true",
                                  with: "cannot be recovered from totals.\n    enabled: false")
        #expect(yaml.contains("enabled: false"))
        let vault = try await makeVault(female: 10, male: 4, policy: yaml)
        let result = try await vault.ask(Query(by: ["school", "sex"]))
        #expect(result.cells.contains { $0.by == ["school": "S", "sex": "F"] && $0.statistics.count == 10 })
        let suppressed = result.release.suppressed.first { $0.by == ["school": "S", "sex": "M"] }
        #expect(suppressed?.rule == "K-MIN")
        #expect(result.cells.contains { $0.by == ["school": "T", "sex": "F"] && $0.statistics.count == 30 })
        let raw = String(decoding: try JSONEncoder().encode(result.release.suppressed), as: UTF8.self)
        #expect(!raw.contains("sum") && !raw.contains("count"))
    }

    @Test("COMP-SUPP: the sibling of a suppressed cell is withheld too, so totals cannot recover it")
    func complementary() async throws {
        let vault = try await makeVault(female: 12, male: 3)
        let result = try await vault.ask(Query(by: ["school", "sex"]))
        let rules = Dictionary(uniqueKeysWithValues: result.release.suppressed.map { ($0.by["school"]! + $0.by["sex"]!, $0.rule) })
        #expect(rules["SM"] == "K-MIN")
        #expect(rules["SF"] == "COMP-SUPP")
        // Along the other attribute (school), T's cells are also siblings of S's: at least one more is withheld
        // for each sex, so S = total − T cannot be formed either.
        #expect(result.release.suppressed.count >= 3)
        // Passing case: when no cell is small, nothing is suppressed.
        let clean = try await makeVault(female: 12, male: 12)
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
        // T's women would be released on their own (30 records from T), but with S's cell withheld COMP-SUPP
        // withholds T's too: otherwise "all women" from another query minus T's women would give S's.
        #expect(attack.cells.isEmpty)
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
