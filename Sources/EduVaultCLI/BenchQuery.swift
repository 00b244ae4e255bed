import BigNum
import Foundation
import Paillier
import Primitives
import VaultAggregation
import VaultModel
import VaultPolicy
import VaultStore

/// `eduvault bench --query-records N`: builds a temporary vault with N stored records and times a query that groups
/// them into a few dozen cells, then checks the decrypted sums against the plaintext it stored.
///
/// The records are real, validated ciphertexts, but to fill a large vault quickly each one is the product of one of
/// 256 fresh encryptions of a score and one of 64 fresh encryptions of zero (one multiplication instead of one
/// encryption per record). Ingest still validates every ciphertext; its rate is reported as a side figure.
struct QueryBenchmark {
    var records: Int
    var bits: Int
    var schools = 40
    /// Releases made before the timed query (per-school tables), so LIN-AUDIT works against a real history.
    var priorReleases = 0
    /// Also time a model release over the same records (`--model`): the schema declares two covariates, every
    /// record carries their packed products, and after the query the vault releases
    /// `score ~ prior_score + study_hours + sex + residence + subject + region + province` (2 numeric terms, 6
    /// dummies).
    var model = false

    /// The benchmark's model: 2 numeric terms and 6 treatment dummies (sex, residence, subject, region: 1 each;
    /// province: 2).
    static let modelFormula = "score ~ prior_score + study_hours + sex + residence + subject + region + province"

    /// Build the vault here and keep it (`--keep-vault`), instead of in a temporary directory removed afterwards.
    var keepDirectory: String? = nil

    struct Result {
        var ingestPerSecond: Double
        var querySeconds: Double
        var cells: Int
        var databaseBytes: Int64
        var peakMemoryBytes: Int64
        var verified: Bool
        /// LIN-AUDIT's share of the timed query, and its state afterwards.
        var auditSeconds: Double
        var auditStateBytes: Int
        var auditRank: Int
        var auditAtoms: Int
        var priorSeconds: Double
        var priorAuditSecondsMax: Double
        /// With `model`: the model release's time, cells, blocks and ciphertexts per record; whether its decrypted
        /// total equals the plaintext; the peak memory after the query alone.
        var modelSeconds = 0.0
        var modelCells = 0
        var modelBlocks = 0
        var ciphertextsPerRecord = 1
        var modelVerified = true
        var peakMemoryAfterQueryBytes: Int64 = 0
    }

    func run(key: borrowing PrivateKey, log: (String) -> Void) async throws -> Result {
        let pub = key.publicKey
        let shared = SharedPrivateKey(key)
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("eduvault-bench-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        // The vault lives in `keepDirectory/` when asked to outlive the run; batch files always go to the scratch one.
        let vaultURL = keepDirectory.map { URL(fileURLWithPath: $0) } ?? scratch.appendingPathComponent("vault")
        let root = scratch

        let schema = model
            ? try Schema(covariates: [Schema.Covariate(name: "prior_score", min: 0, max: 1000),
                                      Schema.Covariate(name: "study_hours", min: 0, max: 400)])
            : try Schema()
        let policyBytes = Array(DefaultPolicy.yaml.utf8)
        let policy = try Policy.parse(policyBytes)
        let jwk = try JSONDecoder().decode(PaillierPublicJWK.self, from: PaillierJSON.encodePublicKey(pub, kid: "bench"))
        let descriptor = try Descriptor(vaultID: "bench", publicKey: jwk, keyID: pub.keyID, keyBits: pub.bitCount,
                                        schema: schema, policy: policy.reference)
        let vault = try Vault.create(directory: vaultURL, descriptor: descriptor,
                                     policyBytes: policyBytes)
        let layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount)

        log("encrypting 256 scores and 64 zeros")
        var rng = DemoRandom(seed: 7)
        let scores = (0..<256).map { _ in Int(rng.next() % 1001) }
        let bases = try await pub.encrypt(batch: scores.map { try layout.pack([UInt64($0), UInt64($0 * $0)]) })
        let zeros = try await pub.encrypt(batch: [BigNum](repeating: BigNum(0), count: 64))
        // With --model: each template's covariates (a prior score near the score, study hours) and its further
        // ciphertexts (x, x², x·y per covariate and x₁·x₂, packed as the schema's MomentLayout says).
        let moments = try schema.momentLayout(keyBits: pub.bitCount)
        let covariates = scores.map { [min(1000, max(0, $0 + Int(rng.next() % 201) - 100)), Int(rng.next() % 401)] }
        var extras: [[Ciphertext]] = Array(repeating: [], count: 256)
        if model {
            for (t, score) in scores.enumerated() {
                let slots = try moments.slotValues(y: score, x: covariates[t])
                let packed = try slots.dropFirst().map { values in
                    try SlotLayout(slotBits: moments.slotBits, slotCount: values.count).pack(values)
                }
                extras[t] = try await pub.encrypt(batch: packed)
            }
        }
        var total = (count: 0, products: [BigNum](repeating: BigNum(0), count: moments.products.count))
        let provinces = ["Guangdong", "Sichuan", "Gansu"]
        var expected: [String: (count: Int, sum: Int, sumSquares: Int)] = [:]

        var ingestSeconds = 0.0
        var record = 0
        for s in 0..<schools {
            let id = try SchoolID(String(format: "S%03d", s))
            let region = s % 2 == 0 ? "rural" : "urban", province = provinces[s % 3]
            let keys = try SchoolKeys.generate(schoolID: id, vaultID: "bench")
            try vault.registerSchool(id: id, attributes: ["region": region, "province": province],
                                     signingPublicKey: try keys.signingKey().publicKey)
            let count = records / schools + (s < records % schools ? 1 : 0)
            guard count > 0 else { continue }
            let url = root.appendingPathComponent("\(id.rawValue).batch")
            let writer = try BatchWriter(url: url, header: BatchHeader(school: id, vault: "bench", keyID: pub.keyID,
                                                                       schemaHash: try schema.schemaHash, records: count))
            for i in 0..<count {
                let r = record + i
                let subject = r % 2 == 0 ? "math" : "chinese"
                let sex = (r / 2) % 2 == 0 ? "F" : "M"
                let c = pub.add(bases[r % 256], zeros[(r / 256) % 64])
                let extra = try extras[r % 256].enumerated().map { j, e in
                    try pub.add(e, zeros[(r / 256 + j + 1) % 64]).bytes(width: pub.ciphertextByteCount)
                }
                let residence = (r / 4) % 3 == 0 ? "urban" : "rural"
                try writer.append(BatchRecord(pseudonym: try keys.pseudonym(forStudent: "s\(r)"), subject: subject,
                                              attributes: ["sex": sex, "term": "2025-1"]
                                                .merging(model ? ["residence": residence] : [:]) { a, _ in a },
                                              ciphertext: c.bytes(width: pub.ciphertextByteCount),
                                              extraCiphertexts: extra))
                if model {
                    let values = try moments.slotValues(y: scores[r % 256], x: covariates[r % 256])
                    total.count += 1
                    for (p, product) in moments.products.enumerated() {
                        let (ciphertext, slot) = moments.location(of: product)
                        total.products[p] = total.products[p] + BigNum(values[ciphertext][slot])
                    }
                }
                let cell = [subject, province, region, sex].joined(separator: "|")
                let x = scores[r % 256]
                var e = expected[cell] ?? (0, 0, 0)
                e.count += 1
                e.sum += x
                e.sumSquares += x * x
                expected[cell] = e
            }
            record += count
            _ = try writer.finish(signingKey: try keys.signingKey())
            let started = Date()
            let validator = CiphertextBatchValidator(key: pub)
            _ = try vault.ingest(batchAt: url, validateCiphertext: validator.check, finishValidation: validator.finish)
            ingestSeconds += Date().timeIntervalSince(started)
            try? fm.removeItem(at: url)
            if (s + 1) % 10 == 0 { log("stored \(record) records (\(s + 1)/\(schools) schools)") }
        }

        let engine = try QueryEngine(vault: vault)
        let priorStarted = Date()
        var priorAuditMax = 0.0
        if priorReleases > 0 {
            log("making \(priorReleases) earlier releases (per-school tables)")
            let shapes: [(by: [String], filters: [String: String])] = [
                (["subject", "sex"], [:]), (["sex"], ["subject": "math"]), (["subject"], [:]), (["sex"], ["subject": "chinese"]),
            ]
            for i in 0..<priorReleases {
                let shape = shapes[(i / schools) % shapes.count]
                var filters = shape.filters
                filters["school"] = String(format: "S%03d", i % schools)
                let prior = try engine.run(Query(by: shape.by, filters: filters))
                priorAuditMax = max(priorAuditMax, prior.auditSeconds)
            }
        }
        let priorSeconds = Date().timeIntervalSince(priorStarted)
        log("querying \(records) records by subject, province, region, sex")
        let started = Date()
        let outcome = try engine.run(Query(by: ["subject", "province", "region", "sex"]))
        let querySeconds = Date().timeIntervalSince(started)
        let decrypted = try await DecryptedRelease.decrypt(outcome.release, key: shared)
        var verified = decrypted.cells.count == expected.count
        for cell in decrypted.cells {
            let k = ["subject", "province", "region", "sex"].map { cell.by[$0] ?? "" }.joined(separator: "|")
            guard let e = expected[k], e.count == cell.statistics.count, cell.sum == BigNum(UInt64(e.sum)),
                  cell.sumOfSquares == BigNum(UInt64(e.sumSquares))
            else { verified = false; continue }
        }
        let size = (try? fm.attributesOfItem(atPath: vaultURL.appendingPathComponent("vault.sqlite").path)[.size]
                    as? NSNumber)?.int64Value ?? 0
        let afterQuery = Self.peakMemory()
        var modelFigures = (seconds: 0.0, cells: 0, blocks: 0, verified: true)
        if model {
            log("releasing the model \(Self.modelFormula) over the same \(records) records")
            let started = Date()
            let outcome = try ModelEngine(vault: vault).run(ModelSpec(formula: Self.modelFormula))
            let seconds = Date().timeIntervalSince(started)
            let decrypted = try await DecryptedModel.decrypt(outcome.release, key: shared)
            var verified = decrypted.total.count == total.count
            for (p, name) in outcome.release.layout.products.map(\.name).enumerated() {
                verified = verified && decrypted.total.product(name) == total.products[p]
            }
            _ = try decrypted.fit()  // the bureau's side works on the release
            modelFigures = (seconds, outcome.cells, outcome.release.allBlocks.count, verified)
        }
        var result = Result(ingestPerSecond: Double(records) / ingestSeconds, querySeconds: querySeconds,
                      cells: outcome.release.cells.count + outcome.release.suppressed.count, databaseBytes: size,
                      peakMemoryBytes: Self.peakMemory(), verified: verified, auditSeconds: outcome.auditSeconds,
                      auditStateBytes: outcome.auditStateBytes, auditRank: outcome.auditRank,
                      auditAtoms: outcome.auditAtoms, priorSeconds: priorSeconds, priorAuditSecondsMax: priorAuditMax)
        result.modelSeconds = modelFigures.seconds
        result.modelCells = modelFigures.cells
        result.modelBlocks = modelFigures.blocks
        result.ciphertextsPerRecord = model ? moments.ciphertextCount : 1
        result.modelVerified = modelFigures.verified
        result.peakMemoryAfterQueryBytes = afterQuery
        return result
    }

    /// VmHWM from /proc/self/status (peak resident memory), or 0 where unavailable.
    static func peakMemory() -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.filter(\.isNumber)
            return (Int64(digits) ?? 0) * 1024
        }
        return 0
    }
}
