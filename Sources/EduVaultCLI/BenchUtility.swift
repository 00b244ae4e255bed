import BigNum
import Foundation
import Paillier
import Primitives
import VaultAggregation
import VaultModel
import VaultPolicy
import VaultStore

/// `eduvault bench --utility`: how much a sound disclosure policy costs an analyst. An ordinary session of tables
/// runs on the same encrypted data under three policies — K-MIN alone (unsafe: its margins give its own withheld
/// cells away), the default (K-MIN, DIFF-GUARD, LIN-AUDIT) and the old rules (K-MIN, DIFF-GUARD, COMP-SUPP) — and
/// the released cells are counted. Data: the demo's synthetic schools, and the UCI data set when `--uci DIR` is given.
struct UtilityBenchmark {
    struct Record {
        var school: String
        var student: String
        var subject: String
        /// Fixed-point score (scale 1).
        var score: Int
        var attributes: [String: String]
    }

    struct Dataset {
        var name: String
        var schools: [String: [String: String]]
        var records: [Record]
        var session: [Query]
    }

    struct Outcome {
        var dataset: String
        var policy: String
        var released: Int
        var withheld: [String: Int]
        var undecided: Int
        var auditSecondsPerRelease: Double
        /// Released cells that made a total of fewer than k records derivable (LIN-AUDIT's rebuild of the history).
        var disclosive: Int
    }

    /// The demo's data (the generator `eduvault demo` uses, with its small school) and a bureau's ordinary session.
    static func demo(schools: Int, students: Int, seed: UInt64) -> Dataset {
        let (plan, rows) = SampleDataGenerator(schools: schools, students: students, smallSchools: 1, seed: seed).rows()
        let registry = Dictionary(
            uniqueKeysWithValues: plan.map {
                ($0.id, ["region": $0.region, "province": $0.province, "county": $0.county, "program": $0.program])
            })
        let records = rows.map { row in
            Record(
                school: row.school.id, student: row.student, subject: row.subject,
                score: Int((Double(row.score) ?? 0) * 10 + 0.5),
                attributes: ["grade": row.grade, "term": row.term, "sex": row.sex, "residence": row.residence])
        }
        let session: [Query] = [
            Query(by: ["subject"], contrast: "region"), Query(by: ["subject", "region"], contrast: "program"),
            Query(by: ["province", "subject"]), Query(by: ["subject", "sex"]), Query(by: ["subject", "grade"]),
            Query(by: ["subject", "residence"]), Query(by: ["province", "subject", "region"]),
            Query(by: ["school", "subject"]), Query(by: ["province", "subject", "sex"]),
            Query(by: ["subject", "region", "grade"]), Query(by: ["province", "subject"], contrast: "program"),
            Query(by: ["subject", "program", "sex"]), Query(by: ["school", "subject"], contrast: "sex"),
        ]
        return Dataset(name: "demo", schools: registry, records: records, session: session)
    }

    /// The UCI Student Performance data (Cortez & Silva 2008, CC BY 4.0): G3 as the score (×5, on 0–100), school,
    /// sex, residence from `address`, age as `grade`; maths and Portuguese.
    static func uci(directory: URL) throws -> Dataset {
        var records: [Record] = []
        for (file, subject) in [("student-mat.csv", "math"), ("student-por.csv", "portuguese")] {
            let text = String(
                decoding: try Files.read(directory.appendingPathComponent(file).path, what: "UCI data"),
                as: UTF8.self)
            for (i, line) in text.split(separator: "\n").dropFirst().enumerated() {
                let f = line.split(separator: ";", omittingEmptySubsequences: false).map {
                    $0.replacingOccurrences(of: "\"", with: "").trimmingCharacters(in: .whitespaces)
                }
                guard f.count >= 33, let g3 = Int(f[32]), (0...20).contains(g3) else {
                    throw CLIError("\(file) line \(i + 2) is not a UCI student-performance row")
                }
                records.append(
                    Record(
                        school: f[0], student: "\(subject)-\(i)", subject: subject, score: g3 * 50,
                        attributes: ["sex": f[1], "residence": f[3] == "U" ? "urban" : "rural", "grade": f[2]]))
            }
        }
        let session: [Query] = [
            Query(by: ["school", "subject"]), Query(by: ["subject", "sex"]), Query(by: ["subject", "residence"]),
            Query(by: ["school", "subject", "sex"]), Query(by: ["school", "subject", "residence"]),
            Query(by: ["subject"], contrast: "residence"), Query(by: ["school", "subject"], contrast: "sex"),
            Query(by: ["subject", "grade"]), Query(by: ["school", "subject", "residence", "sex"]),
            Query(by: ["subject", "sex"], contrast: "residence"), Query(by: ["school", "subject", "grade"]),
            Query(by: ["subject", "residence"], filters: ["sex": "F"]),
            Query(by: ["subject", "residence"], filters: ["sex": "M"]),
        ]
        return Dataset(name: "uci", schools: ["GP": [:], "MS": [:]], records: records, session: session)
    }

    /// A copy of a policy with the given rules' `enabled` set.
    static func variant(_ yaml: String, id: String, enabled: [String: Bool]) throws -> [UInt8] {
        var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var rule: String? = nil
        var done = Set<String>()
        for i in lines.indices {
            let trimmed = lines[i].trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("- id: ") { rule = String(trimmed.dropFirst(6)) }
            if lines[i].hasPrefix("id: ") { lines[i] = "id: \(id)" }
            if let r = rule, let value = enabled[r], trimmed.hasPrefix("enabled:") {
                lines[i] = lines[i].replacingOccurrences(of: trimmed, with: "enabled: \(value)")
                done.insert(r)
            }
        }
        guard done == Set(enabled.keys) else {
            throw CLIError("the default policy does not have the rules this benchmark toggles")
        }
        return Array(lines.joined(separator: "\n").utf8)
    }

    static let policies: [(name: String, rules: [String: Bool])] = [
        ("K-MIN alone", ["LIN-AUDIT": false, "DIFF-GUARD": false, "COMP-SUPP": false]),
        ("default (LIN-AUDIT)", [:]),
        ("old rules (COMP-SUPP)", ["LIN-AUDIT": false, "COMP-SUPP": true]),
    ]

    func run(_ dataset: Dataset, key: borrowing PrivateKey, log: (String) -> Void) async throws -> [Outcome] {
        let pub = key.publicKey
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("eduvault-utility-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: root) }
        let schema = try Schema()
        let layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount)
        log("\(dataset.name): encrypting \(dataset.records.count) scores")
        let ciphertexts = try await pub.encrypt(
            batch: dataset.records.map {
                try layout.pack([UInt64($0.score), UInt64($0.score * $0.score)])
            })
        // One signed batch per school, ingested into every policy's vault (same vault id, same key).
        var keys: [String: SchoolKeys] = [:]
        var batches: [URL] = []
        for school in dataset.schools.keys.sorted() {
            let id = try SchoolID(school)
            let schoolKeys = try SchoolKeys.generate(schoolID: id, vaultID: "utility")
            keys[school] = schoolKeys
            let mine = dataset.records.indices.filter { dataset.records[$0].school == school }
            guard !mine.isEmpty else { continue }
            let url = root.appendingPathComponent("\(school).batch")
            let writer = try BatchWriter(
                url: url,
                header: BatchHeader(
                    school: id, vault: "utility", keyID: pub.keyID,
                    schemaHash: try schema.schemaHash, records: mine.count))
            for i in mine {
                let r = dataset.records[i]
                try writer.append(
                    BatchRecord(
                        pseudonym: schoolKeys.pseudonym(forStudent: r.student), subject: r.subject,
                        attributes: r.attributes,
                        ciphertext: ciphertexts[i].bytes(width: pub.ciphertextByteCount)))
            }
            try writer.finish(signingKey: try schoolKeys.signingKey())
            batches.append(url)
        }
        var outcomes: [Outcome] = []
        for (index, policy) in Self.policies.enumerated() {
            var yaml = DefaultPolicy.yaml
            if pub.bitCount < 2048 {
                yaml = yaml.replacingOccurrences(of: "min_key_bits: 2048", with: "min_key_bits: \(pub.bitCount)")
            }
            let bytes = try Self.variant(yaml, id: "utility-\(index)", enabled: policy.rules)
            let parsed = try Policy.parse(bytes)
            let jwk = try JSONDecoder().decode(
                PaillierPublicJWK.self, from: PaillierJSON.encodePublicKey(pub, kid: "utility"))
            let descriptor = try Descriptor(
                vaultID: "utility", publicKey: jwk, keyID: pub.keyID, keyBits: pub.bitCount,
                schema: schema, policy: parsed.reference)
            let vault = try Vault.create(
                directory: root.appendingPathComponent("vault-\(index)"), descriptor: descriptor,
                policyBytes: bytes)
            for (school, attributes) in dataset.schools.sorted(by: { $0.key < $1.key }) {
                try vault.registerSchool(
                    id: try SchoolID(school), attributes: attributes,
                    signingPublicKey: try keys[school]!.signingKey().publicKey)  // safe: made above
            }
            let validator = CiphertextBatchValidator(key: pub)
            for batch in batches {
                _ = try vault.ingest(
                    batchAt: batch, validateCiphertext: validator.check, finishValidation: validator.finish)
            }
            let engine = try QueryEngine(vault: vault)
            var outcome = Outcome(
                dataset: dataset.name, policy: policy.name, released: 0, withheld: [:], undecided: 0,
                auditSecondsPerRelease: 0, disclosive: 0)
            var auditSeconds = 0.0
            for query in dataset.session {
                let result = try engine.run(query)
                outcome.released += result.release.cells.count
                outcome.undecided += result.auditUndecided
                auditSeconds += result.auditSeconds
                for cell in result.release.suppressed { outcome.withheld[cell.rule, default: 0] += 1 }
            }
            outcome.auditSecondsPerRelease = auditSeconds / Double(dataset.session.count)
            outcome.disclosive = try DisclosureAudit.check(vault).violations.count
            outcomes.append(outcome)
            log("\(dataset.name): \(policy.name) released \(outcome.released) cells")
        }
        return outcomes
    }
}
