import BigNum
import Foundation
import Paillier
import Primitives
import VaultAggregation
import VaultModel
import VaultPolicy
import VaultStore

/// One plaintext record for building a test vault.
struct PlainRecord {
    var school: String
    var student: String
    var subject: String
    /// Fixed-point score (scale 1: 87.5 → 875).
    var score: Int
    var attributes: [String: String]
}

/// Builds a real vault (SQLite, signed batches, Paillier ciphertexts under the 1024-bit test fixture key) from
/// plaintext records, so aggregates can be compared with a plaintext computation on the same data.
final class TestVault {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let privateKey: SharedPrivateKey = {
        // safe: the committed fixture is valid; a failure here is a broken checkout.
        let data = try! Data(contentsOf: root.appendingPathComponent("Keys/test/eduvault-1024/private.json"))
        return SharedPrivateKey(try! PaillierJSON.decodePrivateKey(data, allowInsecureSize: true))
    }()

    let directory: URL
    let vault: Vault
    let schema: Schema
    var key: PublicKey { Self.privateKey.publicKey }
    private var schoolKeys: [String: SchoolKeys] = [:]
    private var batchCounter = 0
    private var engine: QueryEngine?
    /// The plaintext count, Σx and Σx² of every atom (what an attacker would try to learn).
    private(set) var truth: [Int64: AtomTruth] = [:]

    struct AtomTruth {
        var count: Int
        var sum: Int
        var sumOfSquares: Int
    }

    init(schools: [String: [String: String]], records: [PlainRecord], schema: Schema? = nil,
         policyYAML: String? = nil) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("aggtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // The fixture key has 1024 bits: lower KEY-MIN for this test vault, as `vault init --insecure-test-key` does,
        // so the descriptor can state the key's true size.
        let yaml = try policyYAML ?? String(contentsOf: Self.root.appendingPathComponent("Policies/default.yaml"), encoding: .utf8)
        let policyBytes = Array(yaml.replacingOccurrences(of: "min_key_bits: 2048", with: "min_key_bits: 1024").utf8)
        let policy = try Policy.parse(policyBytes)
        let schema = try schema ?? Schema()
        self.schema = schema
        let pub = Self.privateKey.publicKey
        let n = Data(pub.n.bigEndianBytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let descriptor = try Descriptor(vaultID: "vault-agg", publicKey: PaillierPublicJWK(n: n, kid: "test"),
                                        keyID: pub.keyID, keyBits: pub.bitCount, schema: schema, policy: policy.reference)
        vault = try Vault.create(directory: directory.appendingPathComponent("vault"), descriptor: descriptor,
                                 policyBytes: policyBytes)
        for (school, attributes) in schools.sorted(by: { $0.key < $1.key }) {
            let id = try SchoolID(school)
            let keys = try SchoolKeys.generate(schoolID: id, vaultID: "vault-agg")
            schoolKeys[school] = keys
            try vault.registerSchool(id: id, attributes: attributes, signingPublicKey: try keys.signingKey().publicKey)
        }
        for school in schools.keys.sorted() {
            let mine = records.filter { $0.school == school }
            if !mine.isEmpty { try await ingest(mine) }
        }
    }

    /// Encrypts, signs and ingests one batch of one school's records (e.g. a late batch), and records the
    /// plaintext totals of the atoms it creates.
    func ingest(_ records: [PlainRecord]) async throws {
        guard let school = records.first?.school, let keys = schoolKeys[school] else { return }
        let pub = key
        let layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount)
        let plaintexts = try records.map { try layout.pack([UInt64($0.score), UInt64($0.score * $0.score)]) }
        let cts = try await pub.encrypt(batch: plaintexts)
        batchCounter += 1
        let url = directory.appendingPathComponent("\(school)-\(batchCounter).batch")
        let id = try SchoolID(school)
        let writer = try BatchWriter(url: url, header: BatchHeader(school: id, vault: "vault-agg", keyID: pub.keyID,
                                                                   schemaHash: try schema.schemaHash, records: records.count))
        for (r, c) in zip(records, cts) {
            try writer.append(BatchRecord(pseudonym: try keys.pseudonym(forStudent: r.student), subject: r.subject,
                                          attributes: r.attributes, ciphertext: try c.bytes(width: pub.ciphertextByteCount)))
        }
        _ = try writer.finish(signingKey: try keys.signingKey())
        let receipt = try vault.ingest(batchAt: url) { bytes in _ = try pub.ciphertext(bytes: bytes) }
        for atom in try vault.atoms() where atom.batchID == receipt.batchID {
            let members = records.filter { $0.subject == atom.subject && $0.attributes == atom.attributes }
            truth[atom.id] = AtomTruth(count: members.count, sum: members.reduce(0) { $0 + $1.score },
                                       sumOfSquares: members.reduce(0) { $0 + $1.score * $1.score })
        }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Runs a query and decrypts its release.
    func ask(_ query: Query, baseline: String? = nil) async throws -> DecryptedRelease {
        if engine == nil { engine = try QueryEngine(vault: vault) }  // one engine: its key's encryption table is reused
        return try await ask(query, engine: engine!, baseline: baseline)  // safe: set just above
    }

    /// Runs a query on a given engine (e.g. one with a seeded noise source) and decrypts its release.
    func ask(_ query: Query, engine: QueryEngine, baseline: String? = nil) async throws -> DecryptedRelease {
        let outcome = try engine.run(query)
        // Round-trip through the file format, as the bureau receives it.
        let release = try Release.decode(try outcome.release.jsonData())
        return try await DecryptedRelease.decrypt(release, key: Self.privateKey, baseline: baseline)
    }

    /// Member rowids of every released cell so far.
    func releasedMemberSets() throws -> [[Int64]] {
        var out: [[Int64]] = []
        var atomSets: [[Int64]] = []
        try vault.forEachReleasedCell { atomSets.append($0.cell.atoms) }
        for atoms in atomSets { out.append(try vault.memberRowIDs(ofAtoms: atoms)) }
        return out
    }
}

/// Plaintext reference statistics, computed the textbook way in Double.
struct Reference {
    var count: Int
    var mean: Double
    var sd: Double

    init(_ scores: [Int], scale: Int = 1) {
        let xs = scores.map { Double($0) / pow(10, Double(scale)) }
        count = xs.count
        mean = xs.reduce(0, +) / Double(xs.count)
        let m = mean
        sd = xs.count > 1 ? (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot() : 0
    }
}

/// SplitMix64 for reproducible generated data.
struct Seeded: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The UCI Student Performance data set (Cortez & Silva 2008, CC BY 4.0), copied into Tests/Fixtures.
enum UCI {
    struct Row {
        var school: String
        var sex: String
        var age: String
        var residence: String
        var g3: Int
    }

    static func load(_ file: String) throws -> [Row] {
        let url = TestVault.root.appendingPathComponent("Tests/Fixtures/uci-student-performance/\(file)")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst()
        return lines.map { line in
            let f = line.split(separator: ";", omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "\"", with: "")
            }
            return Row(school: f[0], sex: f[1], age: f[2], residence: f[3] == "U" ? "urban" : "rural", g3: Int(f[32]) ?? -1)
        }
    }
}
