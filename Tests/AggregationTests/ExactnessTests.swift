import BigNum
import Foundation
import Paillier
import Testing
import VaultAggregation

@Suite("Aggregates computed on ciphertexts equal the plaintext computation", .serialized)
struct ExactnessTests {
    @Test("UCI data set: count, mean and SD per subject and residence, and the rural–urban contrast")
    func uci() async throws {
        var records: [PlainRecord] = []
        for (file, subject) in [("student-mat.csv", "math"), ("student-por.csv", "portuguese")] {
            for (i, row) in try UCI.load(file).enumerated() {
                records.append(PlainRecord(school: row.school, student: "\(subject)-\(i)", subject: subject,
                                           score: row.g3 * 10, attributes: ["sex": row.sex, "residence": row.residence]))
            }
        }
        #expect(records.count == 395 + 649)
        let vault = try await TestVault(schools: ["GP": ["region": "urban"], "MS": ["region": "rural"]], records: records)
        let result = try await vault.ask(Query(by: ["subject"], contrast: "residence"))
        #expect(result.release.suppressed.isEmpty)
        #expect(result.cells.count == 4)
        for cell in result.cells {
            let subject = cell.by["subject"]!, residence = cell.by["residence"]!
            let scores = records.filter { $0.subject == subject && $0.attributes["residence"] == residence }.map(\.score)
            let reference = Reference(scores)
            #expect(cell.statistics.count == reference.count)
            #expect(abs(cell.statistics.mean - reference.mean) < 1e-9, "\(subject) \(residence)")
            #expect(abs(cell.statistics.sd - reference.sd) < 1e-9, "\(subject) \(residence)")
            // The exact sums are integers equal to the plaintext sums.
            #expect(cell.sum == BigNum(UInt64(scores.reduce(0, +))))
            #expect(cell.sumOfSquares == BigNum(UInt64(scores.map { $0 * $0 }.reduce(0, +))))
        }
        // The data set's README: mean G3 mat U 10.6743 (n=307), R 9.5114 (n=88).
        let matU = result.cells.first { $0.by["subject"] == "math" && $0.by["residence"] == "urban" }!
        #expect(matU.statistics.count == 307 && abs(matU.statistics.mean - 10.6743) < 5e-5)
        let matR = result.cells.first { $0.by["subject"] == "math" && $0.by["residence"] == "rural" }!
        #expect(matR.statistics.count == 88 && abs(matR.statistics.mean - 9.5114) < 5e-5)
        // Contrast: gap = urban − rural, d with pooled SD.
        let contrast = result.contrasts.first { $0.by["subject"] == "math" }!
        #expect(contrast.values == ["rural", "urban"])
        #expect(abs(contrast.contrast.gap - (matU.statistics.mean - matR.statistics.mean)) < 1e-12)
        let n1 = 88.0, n2 = 307.0
        let pooled = (((n1 - 1) * pow(matR.statistics.sd, 2) + (n2 - 1) * pow(matU.statistics.sd, 2)) / (n1 + n2 - 2)).squareRoot()
        #expect(abs(contrast.contrast.d - contrast.contrast.gap / pooled) < 1e-12)
        #expect(contrast.contrast.ci95.0 < contrast.contrast.d && contrast.contrast.d < contrast.contrast.ci95.1)
    }

    @Test("Generated data with decimals, grouped by school attribute and record attribute, filtered")
    func generated() async throws {
        var rng = Seeded(state: 77)
        var records: [PlainRecord] = []
        let schools = ["A": ["province": "Gansu", "region": "rural"], "B": ["province": "Gansu", "region": "urban"],
                       "C": ["province": "Sichuan", "region": "rural"]]
        for school in schools.keys.sorted() {
            // 90 students: 15 boys and 30 girls in grade 10 per school, so every cell clears k = 10 and is compared.
            // (With 40, Sichuan's 7 boys were withheld and COMP-SUPP withheld every other cell with them: the test
            // compared nothing and still passed.)
            for s in 0..<90 {
                for subject in ["math", "chinese"] {
                    records.append(PlainRecord(school: school, student: "\(school)-\(s)", subject: subject,
                                               score: Int.random(in: 0...1000, using: &rng),
                                               attributes: ["sex": s % 3 == 0 ? "M" : "F", "grade": s % 2 == 0 ? "10" : "11"]))
                }
            }
        }
        let vault = try await TestVault(schools: schools, records: records)
        let result = try await vault.ask(Query(by: ["province", "sex"], filters: ["subject": "math", "grade": "10"]))
        #expect(result.cells.count == 4, "expected all four province × sex cells to be released and compared")
        for cell in result.cells {
            let scores = records.filter {
                schools[$0.school]!["province"] == cell.by["province"] && $0.attributes["sex"] == cell.by["sex"]
                    && $0.subject == "math" && $0.attributes["grade"] == "10"
            }.map(\.score)
            let reference = Reference(scores)
            #expect(cell.statistics.count == reference.count)
            #expect(abs(cell.statistics.mean - reference.mean) < 1e-9)
            #expect(abs(cell.statistics.sd - reference.sd) < 1e-9)
        }
        #expect(result.release.suppressed.isEmpty)
        #expect(result.cells.map(\.statistics.count).reduce(0, +) == 135)
    }
}
