import BigNum
import Foundation
import Testing
import VaultAggregation
import VaultStore

/// A curious bureau analyst (issue 8): knows every record's public attributes (school, subject, sex, residence,
/// age as `grade`), asks only queries the policy allows, and adds and subtracts the released sums with exact
/// arithmetic. Its linear algebra is its own (modulo 2^61 − 1, independent of the vault's audit code): it finds
/// every atom of fewer than k records whose Σx the releases determine, recovers the value and checks it against
/// the truth, and counts every pair of small atoms with a determined combination (a gap between two students).
final class Attacker {
    static let p: UInt64 = (1 << 61) - 1

    let vault: TestVault
    private(set) var rows: [(atoms: Set<Int64>, sum: BigNum, sumOfSquares: BigNum)] = []
    private(set) var queries = 0
    private(set) var refused = 0
    private(set) var withheldByRule: [String: Int] = [:]

    init(_ vault: TestVault) { self.vault = vault }

    /// Asks a query; a whole-query refusal counts as asked.
    func ask(_ query: Query) async throws {
        queries += 1
        let result: DecryptedRelease
        do { result = try await vault.ask(query) } catch let error as AggregationError where error.code == .refused {
            refused += 1
            return
        }
        for cell in result.release.suppressed { withheldByRule[cell.rule, default: 0] += 1 }
        var atomsByKey: [String: [Int64]] = [:]
        try vault.vault.forEachReleasedCell { if $0.releaseID == result.release.id { atomsByKey[$0.cell.key] = $0.cell.atoms } }
        for cell in result.cells {
            let key = query.cellAttributes.map { cell.by[$0] ?? "" }.joined(separator: "\u{1F}")
            guard let atoms = atomsByKey[key] else { Issue.record("a released cell has no atom set"); continue }
            rows.append((Set(atoms), cell.sum, cell.sumOfSquares))
        }
    }

    struct Findings {
        /// Small atoms whose Σx and Σx² were recovered exactly (each checked against the truth).
        var recovered: [(atom: Int64, records: Int)] = []
        /// Pairs of small atoms (fewer than k records together) with a determined non-trivial combination.
        var pairs = 0
    }

    // Arithmetic modulo p.
    static func mul(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let w = a.multipliedFullWidth(by: b)
        return p.dividingFullWidth((w.high, w.low)).remainder
    }
    static func sub(_ a: UInt64, _ b: UInt64) -> UInt64 { a >= b ? a - b : a + (p - b) }
    static func add(_ a: UInt64, _ b: UInt64) -> UInt64 { let s = a + b; return s >= p ? s - p : s }
    static func inverse(_ a: UInt64) -> UInt64 {
        var result: UInt64 = 1, base = a, e = p - 2
        while e > 0 {
            if e & 1 == 1 { result = mul(result, base) }
            base = mul(base, base)
            e >>= 1
        }
        return result
    }
    static func reduce(_ x: BigNum) -> UInt64 {
        UInt64(((x % BigNum(p) + BigNum(p)) % BigNum(p)).decimalString)!  // safe: a residue below p
    }
    static func residue(_ x: Int) -> UInt64 { x >= 0 ? UInt64(x) % p : p - UInt64(-x) % p }

    /// Everything the released sums determine about atoms of fewer than `k` records.
    func findings(k: Int) -> Findings {
        let truth = vault.truth
        let small = truth.filter { $0.value.count > 0 && $0.value.count < k }.map(\.key).sorted()
        var columns: [Int64: Int] = [:]
        for atom in Set(rows.flatMap(\.atoms)).union(small).sorted() { columns[atom] = columns.count }
        let width = columns.count, n = rows.count
        // Echelon basis of the released rows, each with its combination of released rows (λ over rows).
        var basis: [(vector: [UInt64], pivot: Int, combination: [UInt64])] = []
        for (i, row) in rows.enumerated() {
            var v = [UInt64](repeating: 0, count: width)
            for atom in row.atoms { v[columns[atom]!] = 1 }
            var c = [UInt64](repeating: 0, count: n)
            c[i] = 1
            reduceAgainst(basis, &v, &c)
            guard let pivot = v.firstIndex(where: { $0 != 0 }) else { continue }
            let inv = Self.inverse(v[pivot])
            basis.append((v.map { Self.mul($0, inv) }, pivot, c.map { Self.mul($0, inv) }))
        }
        var findings = Findings()
        var residuals: [(atom: Int64, residual: [UInt64])] = []
        for atom in small {
            var v = [UInt64](repeating: 0, count: width)
            v[columns[atom]!] = 1
            var c = [UInt64](repeating: 0, count: n)
            reduceAgainst(basis, &v, &c)
            if v.allSatisfy({ $0 == 0 }) {
                // 0 = e_atom + Σ c_i · row_i, so Σx(atom) = −Σ c_i · Σx(row_i): recover Σx and Σx².
                c = c.map { $0 == 0 ? 0 : Self.p - $0 }
                var sum: UInt64 = 0, squares: UInt64 = 0
                for i in 0..<n where c[i] != 0 {
                    sum = Self.add(sum, Self.mul(c[i], Self.reduce(rows[i].sum)))
                    squares = Self.add(squares, Self.mul(c[i], Self.reduce(rows[i].sumOfSquares)))
                }
                let t = truth[atom]!
                #expect(sum == Self.residue(t.sum) && squares == Self.residue(t.sumOfSquares),
                        "the attacker's recovered value is wrong: its algebra is broken")
                findings.recovered.append((atom, t.count))
            } else {
                let lead = v.firstIndex { $0 != 0 }!
                let inv = Self.inverse(v[lead])
                residuals.append((atom, v.map { Self.mul($0, inv) }))
            }
        }
        // α·e_a + β·e_b is determined exactly when the residuals of e_a and e_b are parallel.
        for i in residuals.indices {
            for j in residuals.indices where j > i && residuals[i].residual == residuals[j].residual {
                if truth[residuals[i].atom]!.count + truth[residuals[j].atom]!.count < k { findings.pairs += 1 }
            }
        }
        return findings
    }

    private func reduceAgainst(_ basis: [(vector: [UInt64], pivot: Int, combination: [UInt64])], _ v: inout [UInt64],
                               _ c: inout [UInt64]) {
        for b in basis where v[b.pivot] != 0 {
            let f = v[b.pivot]
            for j in b.pivot..<v.count where b.vector[j] != 0 { v[j] = Self.sub(v[j], Self.mul(f, b.vector[j])) }
            for j in 0..<c.count where b.combination[j] != 0 { c[j] = Self.sub(c[j], Self.mul(f, b.combination[j])) }
        }
    }
}

@Suite("Reconstruction attacks: LIN-AUDIT stops them, the rules before it did not", .serialized)
struct ReconstructionTests {
    /// The default policy with LIN-AUDIT off and COMP-SUPP on: the rules the issue's analyst defeated.
    static let legacyPolicy: String = {
        // safe: the policy file is part of the checkout
        let yaml = try! String(contentsOf: TestVault.root.appendingPathComponent("Policies/default.yaml"), encoding: .utf8)
        return yaml
            .replacingOccurrences(of: "modulo a prime).\n    enabled: true", with: "modulo a prime).\n    enabled: false")
            .replacingOccurrences(of: "turn LIN-AUDIT off.\n    enabled: false", with: "turn LIN-AUDIT off.\n    enabled: true")
    }()

    static func uciRecords() throws -> [PlainRecord] {
        var records: [PlainRecord] = []
        for (file, subject) in [("student-mat.csv", "math"), ("student-por.csv", "portuguese")] {
            for (i, row) in try UCI.load(file).enumerated() {
                records.append(PlainRecord(school: row.school, student: "\(subject)-\(i)", subject: subject,
                                           score: row.g3 * 10,
                                           attributes: ["sex": row.sex, "residence": row.residence, "grade": row.age]))
            }
        }
        return records
    }

    /// The box attack: the analyst computes, from the public attributes, every box (school, subject, sex,
    /// residence and age each fixed or free) that holds at least k records, and asks each as a single-cell query,
    /// largest first: no sibling cell for COMP-SUPP to cascade to, every cell ≥ k for K-MIN.
    static func boxQueries(_ records: [PlainRecord], k: Int = 10) -> [Query] {
        let attributes = ["school", "subject", "sex", "residence", "grade"]
        func value(_ r: PlainRecord, _ a: String) -> String {
            a == "school" ? r.school : a == "subject" ? r.subject : r.attributes[a]!
        }
        let values = attributes.map { a in Array(Set(records.map { value($0, a) })).sorted() }
        var boxes: [(filters: [String: String], size: Int)] = []
        func visit(_ i: Int, _ filters: [String: String], _ members: [PlainRecord]) {
            guard members.count >= k else { return }
            if i == attributes.count {
                boxes.append((filters, members.count))
                return
            }
            visit(i + 1, filters, members)
            for v in values[i] {
                var f = filters
                f[attributes[i]] = v
                visit(i + 1, f, members.filter { value($0, attributes[i]) == v })
            }
        }
        visit(0, [:], records)
        // One cell per query: group by an attribute the box fixes (or by school when it fixes none).
        func canonical(_ f: [String: String]) -> String { f.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
        return boxes.sorted { ($0.size, canonical($0.filters)) > ($1.size, canonical($1.filters)) }.map { box in
            let by = attributes.first { box.filters[$0] != nil } ?? "school"
            var filters = box.filters
            if let value = filters.removeValue(forKey: by) { filters[by] = value }
            return box.filters.isEmpty ? Query(by: ["region"], filters: [:]) : Query(by: [by], filters: filters)
        }
    }

    @Test("UCI data: the box attack (every allowed single-cell box) recovers single students only without LIN-AUDIT")
    func uci() async throws {
        let records = try Self.uciRecords()
        let queries = Self.boxQueries(records)
        var results: [String: Attacker.Findings] = [:]
        for (name, policy) in [("legacy", Self.legacyPolicy), ("default", nil)] {
            let vault = try await TestVault(schools: ["GP": ["region": "urban"], "MS": ["region": "rural"]],
                                            records: records, policyYAML: policy)
            let attacker = Attacker(vault)
            for query in queries { try await attacker.ask(query) }
            results[name] = attacker.findings(k: 10)
            #expect(attacker.rows.count > 0)
        }
        let legacy = results["legacy"]!, audited = results["default"]!
        print("UCI attack: \(queries.count) queries; recovered without LIN-AUDIT: \(legacy.recovered.count) small atoms "
              + "(\(legacy.recovered.filter { $0.records == 1 }.count) single students), \(legacy.pairs) pairs; with it: "
              + "\(audited.recovered.count), \(audited.pairs)")
        // Without LIN-AUDIT, single students' exact scores (and squares) fall out of allowed releases.
        #expect(legacy.recovered.contains { $0.records == 1 }, "the attack should work against the old rules")
        // With it, nothing of fewer than k records is determined: no atom, no pair of atoms.
        #expect(audited.recovered.isEmpty, "LIN-AUDIT let \(audited.recovered.count) small totals through")
        #expect(audited.pairs == 0)
    }

    @Test("Generated data: complements against a total, contrasts, and a late batch of one student")
    func generated() async throws {
        var rng = Seeded(state: 8)
        var records: [PlainRecord] = []
        let schools = ["A": ["region": "rural", "province": "Gansu"], "B": ["region": "urban", "province": "Gansu"],
                       "C": ["region": "rural", "province": "Sichuan"], "D": ["region": "urban", "province": "Sichuan"]]
        for school in schools.keys.sorted() {
            for i in 0..<(30 + Int(rng.next() % 20)) {
                records.append(PlainRecord(
                    school: school, student: "\(school)\(i)", subject: i % 3 == 0 ? "chinese" : "math",
                    score: Int(rng.next() % 1001),
                    attributes: ["sex": rng.next() % 2 == 0 ? "F" : "M", "grade": ["10", "11", "12"][Int(rng.next() % 3)]]))
            }
        }
        let late = PlainRecord(school: "A", student: "late", subject: "math", score: 777, attributes: ["sex": "F", "grade": "11"])
        var results: [String: Attacker.Findings] = [:]
        for (name, policy) in [("legacy", Self.legacyPolicy), ("default", nil)] {
            let vault = try await TestVault(schools: schools, records: records, policyYAML: policy)
            let attacker = Attacker(vault)
            let before: [Query] = [
                Query(by: ["province"]), Query(by: ["school"]), Query(by: ["school", "subject"]),
                Query(by: ["school", "sex"]), Query(by: ["region"], filters: ["sex": "F"]),
                Query(by: ["school"], filters: ["grade": "11"]), Query(by: ["subject"], contrast: "sex"),
                Query(by: ["school", "grade"], filters: ["subject": "math"]),
                Query(by: ["province", "subject"], contrast: "region"),
            ]
            for query in before { try await attacker.ask(query) }
            // One student arrives in a late batch; the analyst knows, asks the same questions again, and new ones
            // whose cells are unions of earlier cells plus the newcomer.
            try await vault.ingest([late])
            let after: [Query] = [
                Query(by: ["subject"], filters: ["province": "Gansu"]), Query(by: ["region"], filters: ["subject": "math"]),
                Query(by: ["province"], filters: ["grade": "11"]), Query(by: ["sex"], filters: ["school": "A"]),
            ]
            for query in before + after { try await attacker.ask(query) }
            results[name] = attacker.findings(k: 10)
        }
        let legacy = results["legacy"]!, audited = results["default"]!
        #expect(legacy.recovered.contains { $0.records == 1 }, "the late student should be exposed without LIN-AUDIT")
        #expect(audited.recovered.isEmpty && audited.pairs == 0)
    }
}
