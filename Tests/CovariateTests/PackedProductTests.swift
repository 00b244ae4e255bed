import BigNum
import Foundation
import GRDB
import Paillier
import Primitives
import Testing
import VaultAggregation
import VaultApp
import VaultModel
import VaultPolicy
import VaultStore

/// A vault under a committed fixture key, filled through the school's real encryption path
/// (`BatchEncryption.encrypt`) and the vault's real ingest (`VaultService.ingest`).
final class CovariateVault {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func privateKey(_ name: String) throws -> SharedPrivateKey {
        let data = try Data(contentsOf: root.appendingPathComponent("Keys/test/\(name)/private.json"))
        return SharedPrivateKey(try PaillierJSON.decodePrivateKey(data, allowInsecureSize: true))
    }

    let directory: URL
    let service: VaultService
    let key: SharedPrivateKey
    let schoolKeys: SchoolKeys
    var vault: Vault { service.vault }
    var schema: Schema { service.vault.descriptor.schema }

    init(keyName: String, schema: Schema) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("covtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        key = try Self.privateKey(keyName)
        let pub = key.publicKey
        let yaml = try String(contentsOf: Self.root.appendingPathComponent("Policies/default.yaml"), encoding: .utf8)
        let policyBytes = Array(yaml.replacingOccurrences(of: "min_key_bits: 2048", with: "min_key_bits: 1024").utf8)
        let policy = try Policy.parse(policyBytes)
        let n = Data(pub.n.bigEndianBytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let descriptor = try Descriptor(vaultID: "vault-cov", publicKey: PaillierPublicJWK(n: n, kid: "test"),
                                        keyID: pub.keyID, keyBits: pub.bitCount, schema: schema, policy: policy.reference)
        let vault = try Vault.create(directory: directory.appendingPathComponent("vault"), descriptor: descriptor,
                                     policyBytes: policyBytes)
        service = try VaultService(vault: vault)
        let school = try SchoolID("GS-R01")
        schoolKeys = try SchoolKeys.generate(schoolID: school, vaultID: "vault-cov")
        try vault.registerSchool(id: school, attributes: ["region": "rural"],
                                 signingPublicKey: try schoolKeys.signingKey().publicKey)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Writes `csv`, encrypts it at the "school" into a signed batch, and returns the batch's URL.
    func encrypt(_ csv: String, name: String = "scores") async throws -> URL {
        let input = file("\(name).csv")
        try Data(csv.utf8).write(to: input)
        let output = file("\(name).batch")
        _ = try await BatchEncryption.encrypt(
            descriptor: vault.descriptor, keys: schoolKeys, input: input, output: output, overwrite: true,
            allowInsecureKey: true)
        return output
    }

    /// The plaintext of every ciphertext's homomorphic sum over all stored records, slot by slot:
    /// `sums[c][s]` is slot s of the decrypted sum of ciphertext c.
    func decryptedSums() throws -> [[BigNum]] {
        let pub = key.publicKey
        let layout = try schema.momentLayout(keyBits: pub.bitCount)
        var sums = [Ciphertext?](repeating: nil, count: layout.ciphertextCount)
        var perRecord = 0
        try vault.forEachRecordChunk(width: pub.ciphertextByteCount, chunkSize: 5, allCiphertexts: true) { chunk in
            perRecord = chunk.perRecord
            for record in 0..<chunk.count {
                for c in 0..<chunk.perRecord {
                    let start = (record * chunk.perRecord + c) * chunk.width
                    let ciphertext = try pub.ciphertext(bytes: chunk.ciphertexts[start..<(start + chunk.width)])
                    sums[c] = sums[c].map { pub.add($0, ciphertext) } ?? ciphertext
                }
            }
        }
        #expect(perRecord == layout.ciphertextCount)
        var out: [[BigNum]] = []
        for (c, sum) in sums.enumerated() {
            guard let sum else { throw StoreError(.invalidRecord, "no records") }
            let slots = try SlotLayout(slotBits: layout.slotBits, slotCount: layout.slotCount(ofCiphertext: c))
            out.append(try slots.unpack(try key.decrypt(sum)))
        }
        return out
    }
}

/// Synthetic rows with every covariate within its bounds, at scale 1.
struct CovariateRows {
    var rows: [(id: String, subject: String, y: Int, x: [Int])] = []

    init(count: Int, schema: Schema, seed: UInt64) {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound + 1))
        }
        for i in 0..<count {
            let x = schema.covariates.map { $0.min + next($0.max - $0.min) }
            rows.append(("S\(i)", i % 2 == 0 ? "math" : "chinese", next(schema.maxScore), x))
        }
    }

    func csv(_ schema: Schema) -> String {
        var out = "student_id,subject,score," + schema.covariates.map(\.name).joined(separator: ",") + ",term\n"
        for row in rows {
            out += "\(row.id),\(row.subject),\(schema.formatScore(row.y)),"
                + row.x.map { schema.formatScore($0) }.joined(separator: ",") + ",2025-1\n"
        }
        return out
    }

    /// The plaintext sum of `product` over the rows.
    func sum(_ product: MomentLayout.Product) -> Int {
        rows.reduce(0) { total, row in
            let value: Int
            switch product {
            case .y: value = row.y
            case .y2: value = row.y * row.y
            case .x(let j): value = row.x[j]
            case .x2(let j): value = row.x[j] * row.x[j]
            case .xy(let j): value = row.x[j] * row.y
            case .xx(let j, let k): value = row.x[j] * row.x[k]
            }
            return total + value
        }
    }
}

@Suite("covariates: packed products through encryption, ingest, scans, the log")
struct PackedProductTests {
    static let six = SchemaCovariateTests.six

    @Test("every product slot of a homomorphic sum equals the plaintext sum", arguments: ["eduvault-1024", "eduvault-2048"])
    func sumsOfEveryProduct(keyName: String) async throws {
        let schema = try Schema(covariates: Self.six)
        let vault = try CovariateVault(keyName: keyName, schema: schema)
        let layout = try schema.momentLayout(keyBits: vault.key.publicKey.bitCount)
        #expect(layout.ciphertextCount == (keyName == "eduvault-1024" ? 5 : 3))
        let data = CovariateRows(count: 12, schema: schema, seed: 7)
        let batch = try await vault.encrypt(data.csv(schema))
        // The batch carries every ciphertext of every record.
        let lines = try String(contentsOf: batch, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 14)
        #expect(lines[1].contains("\"m\":[") && !lines[1].contains("prior"))
        let receipt = try vault.service.ingest(batchAt: batch)
        #expect(receipt.recordCount == 12)
        #expect(layout.canSum(count: 12))
        let sums = try vault.decryptedSums()
        for product in layout.products {
            let at = layout.location(of: product)
            #expect(sums[at.ciphertext][at.slot] == BigNum(UInt64(data.sum(product))), "\(product)")
        }
        // Unused slots of the last ciphertext are zero.
        #expect(sums.last?.count == layout.slotCount(ofCiphertext: layout.ciphertextCount - 1))
        // The vault checks clean, with the extra ciphertexts bound by the log.
        let report = try vault.service.check()
        #expect(report.problems.isEmpty, "\(report.problems)")
    }

    @Test("an ordinary scan reads ciphertext 0 only, exactly as before")
    func ordinaryScan() async throws {
        let schema = try Schema(covariates: Array(Self.six.prefix(3)))
        let vault = try CovariateVault(keyName: "eduvault-1024", schema: schema)
        let data = CovariateRows(count: 6, schema: schema, seed: 3)
        _ = try vault.service.ingest(batchAt: try await vault.encrypt(data.csv(schema)))
        let width = vault.key.publicKey.ciphertextByteCount
        var seen = 0
        try vault.vault.forEachRecordChunk(width: width) { chunk in
            #expect(chunk.perRecord == 1 && chunk.ciphertexts.count == chunk.count * width)
            seen += chunk.count
        }
        #expect(seen == 6)
    }

    @Test("ordinary queries on a covariate vault give the same results as on a vault without covariates")
    func ordinaryQueries() async throws {
        let plain = try Schema()
        let covariate = try Schema(covariates: [.init(name: "prior_score", min: 0, max: 1000),
                                                .init(name: "absences", min: 0, max: 930)])
        let data = CovariateRows(count: 24, schema: covariate, seed: 11)
        var results: [[String]] = []
        for schema in [plain, covariate] {
            let vault = try CovariateVault(keyName: "eduvault-1024", schema: schema)
            var csv = "student_id,subject,score,term\n"
            for row in data.rows { csv += "\(row.id),\(row.subject),\(schema.formatScore(row.y)),2025-1\n" }
            _ = try vault.service.ingest(batchAt: try await vault.encrypt(schema.covariates.isEmpty ? csv : data.csv(schema)))
            let outcome = try QueryEngine(vault: vault.vault).run(Query(by: ["subject"]))
            let release = try Release.decode(try outcome.release.jsonData())
            #expect(release.slotCount == 2)
            let decrypted = try await DecryptedRelease.decrypt(release, key: vault.key, baseline: nil)
            results.append(decrypted.cells.map { "\($0.by) \($0.statistics.count) \($0.sum) \($0.sumOfSquares)" }.sorted())
            for cell in decrypted.cells {
                let mine = data.rows.filter { $0.subject == cell.by["subject"] }
                #expect(cell.sum == BigNum(UInt64(mine.reduce(0) { $0 + $1.y })))
                #expect(cell.sumOfSquares == BigNum(UInt64(mine.reduce(0) { $0 + $1.y * $1.y })))
            }
        }
        #expect(results.count == 2 && results[0] == results[1] && results[0].count == 2)
    }

    @Test("editing an extra ciphertext in vault.sqlite is caught by vault check (the record leaf binds it)")
    func tamperExtraCiphertext() async throws {
        let schema = try Schema(covariates: Array(Self.six.prefix(2)))
        let vault = try CovariateVault(keyName: "eduvault-1024", schema: schema)
        let data = CovariateRows(count: 4, schema: schema, seed: 5)
        _ = try vault.service.ingest(batchAt: try await vault.encrypt(data.csv(schema)))
        #expect(try vault.service.check().problems.isEmpty)
        // The operator swaps two records' covariate ciphertexts: every ciphertext stays valid and of the right
        // width, only the binding can tell.
        let queue = try DatabaseQueue(path: vault.vault.directory.appendingPathComponent(Vault.databaseFileName).path)
        try await queue.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT record_id, ciphertexts FROM record_moments ORDER BY record_id")
            #expect(rows.count == 4)
            let first: Int64 = rows[0][0], second: Int64 = rows[1][0]
            let a: Data = rows[0][1], b: Data = rows[1][1]
            try db.execute(sql: "UPDATE record_moments SET ciphertexts = ? WHERE record_id = ?", arguments: [b, first])
            try db.execute(sql: "UPDATE record_moments SET ciphertexts = ? WHERE record_id = ?", arguments: [a, second])
        }
        let report = try vault.service.check()
        #expect(report.problems.contains { $0.contains("do not re-derive the signed record root") }, "\(report.problems)")
        // Deleting a record's extra ciphertexts is caught too, and makes the covariate scan refuse.
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM record_moments WHERE record_id = (SELECT MAX(record_id) FROM record_moments)")
        }
        #expect(!(try vault.service.check().problems.isEmpty))
        #expect(throws: StoreError.self) {
            try vault.vault.forEachRecordChunk(width: vault.key.publicKey.ciphertextByteCount, allCiphertexts: true) { _ in }
        }
    }

    @Test("a record with too few, too many or short extra ciphertexts is refused at ingest")
    func refusals() async throws {
        let schema = try Schema(covariates: Array(Self.six.prefix(2)))
        let vault = try CovariateVault(keyName: "eduvault-1024", schema: schema)
        let pub = vault.key.publicKey
        let width = pub.ciphertextByteCount
        let good = try pub.encrypt(BigNum(UInt64(5))).bytes(width: width)
        func batch(_ extras: [[UInt8]], name: String) throws -> URL {
            let url = vault.file("\(name).batch")
            let writer = try BatchWriter(url: url, header: BatchHeader(
                school: vault.schoolKeys.schoolID, vault: "vault-cov", keyID: pub.keyID,
                schemaHash: try schema.schemaHash, records: 1))
            try writer.append(BatchRecord(pseudonym: try vault.schoolKeys.pseudonym(forStudent: name), subject: "math",
                                          attributes: [:], ciphertext: good, extraCiphertexts: extras))
            try writer.finish(signingKey: try vault.schoolKeys.signingKey())
            return url
        }
        for (extras, name) in [([[UInt8]](), "none"), ([good, good], "two")] {
            do {
                _ = try vault.service.ingest(batchAt: try batch(extras, name: name))
                Issue.record("accepted a record with \(extras.count + 1) ciphertexts")
            } catch let error as StoreError {
                #expect(error.code == .invalidCiphertext, "\(error)")
                #expect(error.message.contains("this vault's schema needs 2"), "\(error.message)")
            }
        }
        // An extra ciphertext that is not a valid ciphertext (zero) is validated like ciphertext 0.
        do {
            _ = try vault.service.ingest(batchAt: try batch([[UInt8](repeating: 0, count: width)], name: "zero"))
            Issue.record("accepted a zero extra ciphertext")
        } catch let error as StoreError {
            #expect(error.code == .invalidCiphertext, "\(error)")
        }
        // A short extra ciphertext edited into the signed file: refused before any record is read, because the
        // content is no longer what the school signed (the signature line is checked first).
        let url = try batch([good], name: "short")
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        let short = Data(good.dropLast()).base64EncodedString()
        lines[1] = lines[1].replacingOccurrences(of: Data(good).base64EncodedString() + "\"]", with: short + "\"]")
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        do {
            _ = try vault.service.ingest(batchAt: url)
            Issue.record("accepted a short extra ciphertext")
        } catch {
            #expect(error.isBatchRefusal, "\(error)")
            #expect(error.message.contains("not what its signature line covers"), "\(error.message)")
        }
        #expect(try vault.vault.recordCount() == 0)
        // And a vault without covariates refuses records that carry extra ciphertexts.
        let plain = try CovariateVault(keyName: "eduvault-1024", schema: try Schema())
        let plainURL = plain.file("extra.batch")
        let writer = try BatchWriter(url: plainURL, header: BatchHeader(
            school: plain.schoolKeys.schoolID, vault: "vault-cov", keyID: pub.keyID,
            schemaHash: try Schema().schemaHash, records: 1))
        try writer.append(BatchRecord(pseudonym: try plain.schoolKeys.pseudonym(forStudent: "s"), subject: "math",
                                      attributes: [:], ciphertext: good, extraCiphertexts: [good]))
        try writer.finish(signingKey: try plain.schoolKeys.signingKey())
        #expect(throws: StoreError.self) { try plain.service.ingest(batchAt: plainURL) }
    }

    @Test("school encryption refuses a bad covariate with its line and writes nothing")
    func encryptionRefuses() async throws {
        let schema = try Schema(covariates: [.init(name: "absences", min: 0, max: 930)])
        let vault = try CovariateVault(keyName: "eduvault-1024", schema: schema)
        do {
            _ = try await vault.encrypt("student_id,subject,score,absences\ns1,math,80,3\ns2,math,70,95.5\n", name: "bad")
            Issue.record("encrypted an out-of-range covariate")
        } catch let error as AppError {
            #expect(error.message.contains("line 3") && error.message.contains("covariate 'absences'"), "\(error.message)")
            #expect(!error.message.contains("95.5"))
        }
        #expect(!FileManager.default.fileExists(atPath: vault.file("bad.batch").path))
    }

    @Test("purge removes the extra ciphertexts with their records; the log still verifies")
    func purge() async throws {
        let schema = try Schema(covariates: Array(Self.six.prefix(2)))
        let vault = try CovariateVault(keyName: "eduvault-1024", schema: schema)
        let data = CovariateRows(count: 3, schema: schema, seed: 9)
        _ = try vault.service.ingest(batchAt: try await vault.encrypt(data.csv(schema)))
        let summary = try vault.vault.purge(before: Date().addingTimeInterval(3600), now: Date().addingTimeInterval(7200))
        #expect(summary.records == 3)
        let queue = try DatabaseQueue(path: vault.vault.directory.appendingPathComponent(Vault.databaseFileName).path)
        let left = try await queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record_moments") }
        #expect(left == 0)
        #expect(try vault.service.check().problems.isEmpty)
    }
}
