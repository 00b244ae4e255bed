import Foundation
import Testing
import VaultAggregation

/// An analyst tries to learn one student's score by differencing releases: overlapping filters, complementary
/// cells, repeated queries, totals minus parts. Nothing the vault releases pins down a single student.
@Suite("Differencing attacks on generated data", .serialized)
struct AttackTests {
    @Test("No sequence of the attacker's queries isolates the lone male student of school S")
    func attacks() async throws {
        var records: [PlainRecord] = []
        // Target: school S has 14 women and one man (the target, score 99.5).
        for i in 0..<14 {
            records.append(PlainRecord(school: "S", student: "f\(i)", subject: "math", score: 600 + 7 * i,
                                       attributes: ["sex": "F", "grade": i % 2 == 0 ? "10" : "11"]))
        }
        records.append(PlainRecord(school: "S", student: "target", subject: "math", score: 995, attributes: ["sex": "M", "grade": "10"]))
        for i in 0..<40 {
            records.append(PlainRecord(school: "T", student: "t\(i)", subject: "math", score: 500 + 5 * i,
                                       attributes: ["sex": i % 2 == 0 ? "F" : "M", "grade": i % 3 == 0 ? "10" : "11"]))
        }
        let vault = try await TestVault(schools: ["S": ["region": "rural", "province": "Gansu"],
                                                  "T": ["region": "urban", "province": "Gansu"]], records: records)
        let queries: [Query] = [
            Query(by: ["school"]),                                   // S total (15)
            Query(by: ["school"], filters: ["sex": "F"]),            // overlapping filter: S without the target
            Query(by: ["school", "sex"]),                            // complementary cells
            Query(by: ["sex"], filters: ["school": "S"]),            // the same split, filtered
            Query(by: ["province"]),                                 // S + T total
            Query(by: ["province"], filters: ["region": "urban"]),   // T alone (to subtract from the total)
            Query(by: ["province", "sex"]),                          // totals per sex
            Query(by: ["school", "grade"]),                          // another partition of S
            Query(by: ["grade"], filters: ["sex": "F"]),             // and its overlap
            Query(by: ["school"]),                                   // repeated query
        ]
        var released: [(count: Int, sum: Double)] = []
        var suppressedCount = 0
        for query in queries {
            let result = try await vault.ask(query)
            suppressedCount += result.release.suppressed.count
            for cell in result.cells {
                #expect(cell.statistics.count >= 10, "a released cell has fewer than k records")
                released.append((cell.statistics.count, cell.statistics.mean * Double(cell.statistics.count)))
            }
        }
        // The vault's own record of every released cell: no two differ by 1…k−1 records.
        let sets = try vault.releasedMemberSets()
        for i in sets.indices {
            for j in sets.indices where j > i {
                let d = Set(sets[i]).symmetricDifference(sets[j]).count
                #expect(d == 0 || d >= 10, "two released cells differ by \(d) records")
            }
        }
        // Totals minus parts: no released cell minus two disjoint released cells inside it leaves 1…k−1 records.
        for a in sets {
            let inside = sets.filter { $0.count < a.count && Set($0).isSubset(of: Set(a)) }
            for i in inside.indices {
                for j in inside.indices where j > i && Set(inside[i]).isDisjoint(with: Set(inside[j])) {
                    let rest = a.count - inside[i].count - inside[j].count
                    #expect(rest == 0 || rest >= 10, "a total minus two released parts leaves \(rest) records")
                }
            }
        }
        // And no single released value equals the target's score.
        #expect(!released.contains { $0.count == 1 })
        // The attack was real: the policy had to withhold cells to stop it, and still released useful ones.
        #expect(suppressedCount > 0)
        #expect(released.count > 0)
    }
}
