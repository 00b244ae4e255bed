// Writes the committed seed corpora, Fuzz/Corpus/<target>/, from the repository's test fixtures: the fixture keys,
// the default policy, the UCI data set, and a small vault built with them (descriptor, batches, releases).
// Run it after a format change: `swift run --package-path Fuzz make-seeds` (no sanitizers needed).
import BigNum
import Foundation
import FuzzSupport
import Paillier
import Primitives
import VaultAggregation
import VaultModel
import VaultPolicy
import VaultAudit
import VaultStore

let root = Fuzz.root
let corpus = root.appendingPathComponent("Fuzz/Corpus")

func seed(_ target: String, _ name: String, _ data: Data) throws {
    let directory = corpus.appendingPathComponent(target)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try data.write(to: directory.appendingPathComponent(name))
}

func fixture(_ path: String) throws -> Data { try Data(contentsOf: root.appendingPathComponent(path)) }

/// The committed 2-of-3 fixture: its key and every party's share.
func thresholdFixture() throws -> (key: ThresholdPublicKey, shares: [ThresholdShare]) {
    let dir = "Keys/test/threshold-2of3-768"
    let key = try ThresholdJSON.decode(fixture("\(dir)/threshold.json"), allowInsecureSize: true)
    let shares = try key.parties.map {
        try ThresholdJSON.decodeShare(fixture("\(dir)/share-\($0.name).json"), allowInsecureSize: true)
    }
    return (key, shares)
}

/// The threshold targets' seeds (threshold-key, share, partial) and the fixed release of the partial target
/// (Fuzz/Fixtures/threshold-release*.json), from the committed 2-of-3 and 3-of-5 fixtures. `make-seeds threshold`
/// writes only these.
func thresholdSeeds() async throws {
    let dir = "Keys/test/threshold-2of3-768"
    for name in ["threshold-2of3-768", "threshold-3of5-768"] {
        try seed("threshold-key", "\(name).json", fixture("Keys/test/\(name)/threshold.json"))
    }
    let (key, shares) = try thresholdFixture()
    try seed("share", "bureau.json", fixture("\(dir)/share-bureau.json"))
    try seed("share", "3of5-ombudsman.json", fixture("Keys/test/threshold-3of5-768/share-ombudsman.json"))
    try seed("share", "custodian-sealed.json",
             ThresholdJSON.encode(shares[2], kid: "fuzz seed", keyKid: "fuzz seed", created: "fuzz",
                                  passphrase: "fuzz passphrase", cost: (16, 1, 1)))
    // A fixed 5-cell release under the 2-of-3 key (two units at 768 bits), and another one.
    func release(id: String, cells: Int) throws -> Release {
        let layout = try SlotLayout(slotBits: 96, slotCount: 2)
        var list: [[String: Any]] = []
        for i in 0..<cells {
            let c = try key.publicKey.encrypt(try layout.pack([UInt64(6_000 + 37 * i), UInt64(3_000_000 + 911 * i)]))
            list.append(["by": ["subject": "s\(i)"], "count": 10 + i, "sum": c.value.decimalString])
        }
        let object: [String: Any] = [
            "format": Release.formatTag, "id": id, "vault": "fuzz", "key_id": key.publicKey.keyID,
            "query": ["by": ["subject"], "filters": [String: String]()] as [String: Any],
            "policy": ["id": "fuzz", "version": 1, "sha256": String(repeating: "0", count: 64)] as [String: Any],
            "created": "2026-01-01T00:00:00Z", "log_index": 1, "scale": 1, "slot_bits": 96, "slot_count": 2,
            "cells": list, "suppressed": [[String: Any]](),
        ]
        return try Release.decode(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
    try await writePartialFixture(try release(id: "fuzz-threshold", cells: 5), shares: shares, name: "threshold-release",
                                  seedPrefix: "")
    let other = try release(id: "fuzz-other", cells: 2)
    try seed("partial", "other-release.json",
             try await ThresholdRelease.partiallyDecrypt(other, with: shares[2], created: "fuzz").jsonData())
    try await thresholdModelSeeds(key: key, shares: shares)
}

/// The partial target's model release (Fuzz/Fixtures/threshold-model-release*.json) and its partials as seeds: a
/// fixed `score ~ sex + prior_score` release under the 2-of-3 key, 3 blocks of 2 sums (three units at 768 bits).
/// `make-seeds threshold-model` writes only these.
func thresholdModelSeeds(key: ThresholdPublicKey, shares: [ThresholdShare]) async throws {
    let products: [ModelRelease.Layout.Product] = [
        .init(name: "y", ciphertext: 0, slot: 0), .init(name: "y2", ciphertext: 0, slot: 1),
        .init(name: "x:prior_score", ciphertext: 1, slot: 0), .init(name: "x2:prior_score", ciphertext: 1, slot: 1),
        .init(name: "xy:prior_score", ciphertext: 1, slot: 2),
    ]
    func block(_ count: Int) throws -> ModelRelease.Block {
        let (y, x) = (UInt64(600 * count), UInt64(550 * count))
        let sums = [[y, 400 * y], [x, 350 * x, 380 * x]].map { slots in
            slots.enumerated().reduce(BigNum(0)) { $0 + BigNum($1.element).shiftedLeft(96 * $1.offset) }
        }
        return ModelRelease.Block(count: count, sums: try sums.map { try key.publicKey.encrypt($0).value.decimalString })
    }
    let release = ModelRelease(
        format: ModelRelease.formatTag, id: "fuzz-threshold-model", vault: "fuzz", keyID: key.publicKey.keyID,
        model: ModelSpec(formula: "score ~ sex + prior_score", contrast: "sex"),
        policy: PolicyReference(id: "fuzz", version: 1, sha256: String(repeating: "0", count: 64)),
        created: "2026-01-01T00:00:00Z", logIndex: 1, scale: 1,
        layout: ModelRelease.Layout(slotBits: 96, slotsPerCiphertext: 7, ciphertextCount: 2, products: products),
        numeric: ["score", "prior_score"], categorical: [ModelRelease.Term(name: "sex", levels: ["F", "M"])],
        total: try block(30), levels: [[try block(16), try block(14)]], pairCounts: [], random: nil)
    try await writePartialFixture(try ModelRelease.decode(try release.jsonData()), shares: shares,
                                  name: "threshold-model-release", seedPrefix: "model-")
}

/// Writes `release` as the partial target's fixture Fuzz/Fixtures/NAME.json, every share's partial of it as a seed
/// (SEEDPREFIXparty.json), and the first two parties' partials as the fixture's honest partials (NAME-party.json).
func writePartialFixture(_ release: some DecryptableRelease, shares: [ThresholdShare], name: String,
                         seedPrefix: String) async throws {
    let fixtures = root.appendingPathComponent("Fuzz/Fixtures")
    try FileManager.default.createDirectory(at: fixtures, withIntermediateDirectories: true)
    try release.jsonData().write(to: fixtures.appendingPathComponent("\(name).json"))
    for share in shares {
        let data = try await ThresholdRelease.partiallyDecrypt(release, with: share, created: "fuzz").jsonData()
        try seed("partial", "\(seedPrefix)\(share.party.name).json", data)
        if share.party.index <= 2 {
            try data.write(to: fixtures.appendingPathComponent("\(name)-\(share.party.name).json"))
        }
    }
}

/// The model targets' seeds (model-release, model-formula): releases of a small vault under the fuzz key (three
/// schools, sex and residence, a random school intercept), one with a covariate layout spliced in, and formulas.
/// `make-seeds model` writes only these.
func modelSeeds() throws {
    for target in ["model-release", "model-formula"] {
        try? FileManager.default.removeItem(at: corpus.appendingPathComponent(target))
    }
    for (name, text) in [("simple", "score ~ sex"), ("mixed", "score ~ program + region + prior_score"),
                         ("spaces", "  score~a+ b +c  "), ("interaction", "score ~ a * b"), ("dash", "score ~ a - 1"),
                         ("duplicate", "score ~ a + a")] {
        try seed("model-formula", "\(name).txt", Data(text.utf8))
    }
    let key = Fuzz.fixtureKey.publicKey
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("eduvault-model-seeds-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let text = String(decoding: try fixture("Policies/default.yaml"), as: UTF8.self)
    let policyBytes = Array(text.replacingOccurrences(of: "min_key_bits: 2048", with: "min_key_bits: 256").utf8)
    let schema = try Schema()
    let jwk = try JSONDecoder().decode(PaillierPublicJWK.self, from: fixture("Keys/test/fuzz-256/public.json"))
    let descriptor = try Descriptor(vaultID: "fuzz-model", publicKey: jwk, keyID: key.keyID, keyBits: key.bitCount,
                                    schema: schema, policy: try Policy.parse(policyBytes).reference,
                                    created: "2026-01-01T00:00:00Z")
    let vault = try Vault.create(directory: scratch.appendingPathComponent("vault"), descriptor: descriptor,
                                 policyBytes: policyBytes)
    let layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount)
    for (index, school) in ["GP", "MS", "TS"].enumerated() {
        let id = try SchoolID(school)
        let keys = try SchoolKeys(schoolID: id, vaultID: "fuzz-model", signingSeed: Fuzz.batchSigner.rawRepresentation,
                                  pseudonymKey: SHA256.hash(Array(school.utf8)))
        try vault.registerSchool(id: id, attributes: ["region": index == 1 ? "rural" : "urban"],
                                 signingPublicKey: Fuzz.batchSigner.publicKey)
        var records: [BatchRecord] = []
        for s in 0..<48 {
            let score = UInt64((s * 37 + index * 11) % 1001)
            let c = try key.encrypt(try layout.pack([score, score * score]))
            records.append(BatchRecord(pseudonym: try keys.pseudonym(forStudent: "\(school)-\(s)"), subject: "math",
                                       attributes: ["sex": s % 2 == 0 ? "F" : "M", "residence": s % 4 < 2 ? "urban" : "rural"],
                                       ciphertext: try c.bytes(width: key.ciphertextByteCount)))
        }
        let url = scratch.appendingPathComponent("\(school).batch")
        let writer = try BatchWriter(url: url, header: BatchHeader(school: id, vault: "fuzz-model", keyID: key.keyID,
                                                                   schemaHash: try schema.schemaHash,
                                                                   created: "2026-01-01T00:00:00Z", records: records.count))
        for record in records { try writer.append(record) }
        try writer.finish(signingKey: Fuzz.batchSigner)
        _ = try vault.ingest(batchAt: url) { bytes in _ = try key.ciphertext(bytes: bytes) }
    }
    let engine = try ModelEngine(vault: vault, workers: 1)
    let fixed = try engine.run(ModelSpec(formula: "score ~ sex + residence + region", contrast: "sex")).release
    try seed("model-release", "fixed.json", fixed.jsonData())
    let random = try engine.run(ModelSpec(formula: "score ~ sex + residence", filters: ["subject": "math"],
                                          random: "school")).release
    try seed("model-release", "random.json", random.jsonData())
    // A covariate layout (prior_score in ciphertexts 1 and 2), the sums repeated: decodes, decrypts to nonsense.
    var covariate = fixed
    covariate.model.formula = "score ~ sex + residence + region + prior_score"
    covariate.numeric = ["score", "prior_score"]
    covariate.layout = ModelRelease.Layout(slotBits: 96, slotsPerCiphertext: 2, ciphertextCount: 3, products: [
        .init(name: "y", ciphertext: 0, slot: 0), .init(name: "y2", ciphertext: 0, slot: 1),
        .init(name: "x:prior_score", ciphertext: 1, slot: 0), .init(name: "x2:prior_score", ciphertext: 1, slot: 1),
        .init(name: "xy:prior_score", ciphertext: 2, slot: 0),
    ])
    func triple(_ block: ModelRelease.Block) -> ModelRelease.Block {
        ModelRelease.Block(count: block.count, sums: Array(repeating: block.sums[0], count: 3))
    }
    covariate.total = triple(covariate.total)
    covariate.levels = covariate.levels.map { $0.map(triple) }
    try seed("model-release", "covariate.json", covariate.jsonData())
}

if CommandLine.arguments.dropFirst().contains("model") {
    try modelSeeds()
    print("model seeds written to \(corpus.path)")
    exit(0)
}

if CommandLine.arguments.dropFirst().contains("threshold-model") {
    let (key, shares) = try thresholdFixture()
    try await thresholdModelSeeds(key: key, shares: shares)
    print("threshold model seeds written to \(corpus.path)")
    exit(0)
}

if CommandLine.arguments.dropFirst().contains("threshold") {
    for target in ["threshold-key", "share", "partial"] {
        try? FileManager.default.removeItem(at: corpus.appendingPathComponent(target))
    }
    try await thresholdSeeds()
    print("threshold seeds written to \(corpus.path)")
    exit(0)
}

try? FileManager.default.removeItem(at: corpus)
let key = Fuzz.fixtureKey
let pub = key.publicKey

// Keys.
for name in ["eduvault-1024", "pheutil-1024", "eduvault-2048", "fuzz-256"] {
    try seed("public-key", "\(name)-public.json", fixture("Keys/test/\(name)/public.json"))
    try seed("public-key", "\(name)-private.json", fixture("Keys/test/\(name)/private.json"))
}
for name in ["fuzz-256", "eduvault-1024", "pheutil-1024"] {
    try seed("private-key", "\(name).json", fixture("Keys/test/\(name)/private.json"))
    let sealedKey = try PaillierJSON.decodePrivateKey(fixture("Keys/test/\(name)/private.json"), allowInsecureSize: true)
    try seed("sealed-key", "\(name)-sealed.json",
             PaillierJSON.encodePrivateKey(sealedKey, kid: "fuzz seed", publicKid: "fuzz seed",
                                           passphrase: "fuzz passphrase", cost: (16, 1, 1)))
}
// The same envelope at the production cost: the target checks it up to the key derivation only.
if var object = try JSONSerialization.jsonObject(with: Data(contentsOf: corpus.appendingPathComponent("sealed-key/fuzz-256-sealed.json"))) as? [String: Any],
   var sealed = object["eduvault_sealed"] as? [String: Any] {
    sealed["N"] = 1 << 15
    sealed["r"] = 8
    object["eduvault_sealed"] = sealed
    try seed("sealed-key", "production-cost.json", JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}

// Ciphertexts: integers (e = 0), python-paillier floats (e < 0), with and without key_id, edge exponents.
let samples: [(String, String)] = [("7", "int"), ("-12", "negative"), ("87.5", "decimal"), ("0.001", "small"),
                                   ("123456789012345678901234567890", "big")]
for (text, name) in samples {
    var encoded = try EncodedNumber(parsing: text)
    if encoded.exponent < 0 && encoded.exponent > -32 { encoded = try encoded.decreasingExponent(to: -32) }
    let c = try pub.encrypt(try encoded.plaintext(for: pub))
    let number = PaillierJSON.EncryptedNumber(ciphertext: c, exponent: encoded.exponent)
    try seed("ciphertext", "\(name).json", Data(PaillierJSON.encodeCiphertext(number, key: pub).utf8))
    if name == "int" {
        let v = c.value.decimalString
        try seed("ciphertext", "pheutil-form.json", Data("{\"v\": \"\(v)\", \"e\": 0}".utf8))
        try seed("ciphertext", "int-min-exponent.json", Data("{\"v\": \"\(v)\", \"e\": -9223372036854775808}".utf8))
        try seed("ciphertext", "edge-exponent.json", Data("{\"v\": \"\(v)\", \"e\": -100000}".utf8))
    }
}

// Schema files (`vault init --schema`): the committed hand-written seeds stay; add one written by the encoder.
try seed("schema-file", "encoded.yaml", Data(SchemaFile.encode(try Schema(
    subjects: ["math", "chinese"],
    covariates: [.init(name: "prior_score", min: 0, max: 1000), .init(name: "absences", min: 0, max: 930)])).utf8))

// Policies.
let policyBytes = try fixture("Policies/default.yaml")
try seed("policy", "default.yaml", policyBytes)
let policyText = String(decoding: policyBytes, as: UTF8.self)
// The crash issue 14 found: an integer in YAML 1.1 base-60 form overflowed Yams's Int parser.
try seed("policy", "sexagesimal.yaml", Data(policyText.replacingOccurrences(
    of: "min_cell_size: 10", with: "min_cell_size: 1:2:3:4:5:6:7:8:9:10:11:12").utf8))
try seed("policy", "threshold-number.yaml", Data(policyText.replacingOccurrences(of: "threshold: k", with: "threshold: 5").utf8))
try seed("policy", "flow.yaml", Data("""
    {id: p, version: 2, rules: [{id: K-MIN, min_cell_size: 5}, {id: COMP-SUPP, enabled: false},
     {id: DIFF-GUARD, enabled: false}, {id: ATTR-ALLOW, attributes: [subject]}, {id: KEY-MIN, min_key_bits: 1024},
     {id: RETENTION, retention_days: 1}, {id: ROLES, roles: {bureau: [release.decrypt]}}]}

    """.utf8))

// Score sheets.
try seed("score-csv", "minimal.csv", Data("student_id,subject,score\ns1,math,87.5\ns2,math,90\n".utf8))
try seed("score-csv", "attributes-crlf-bom.csv", Data(
    "\u{FEFF}student_id,subject,score,grade,term,sex,residence\r\n\"s 1\",Math,50.5,10,2024-1,f,URBAN\r\n\"s,\"\"2\"\"\",chinese,0,11,2024-1,M,rural\r\n"
        .utf8))
let uci = try String(decoding: fixture("Tests/Fixtures/uci-student-performance/student-mat.csv"), as: UTF8.self)
var uciCSV = "student_id,subject,score,sex,residence\n"
for (i, line) in uci.split(separator: "\n").dropFirst().prefix(24).enumerated() {
    let f = line.split(separator: ";").map { $0.replacingOccurrences(of: "\"", with: "") }
    uciCSV += "uci-\(i),math,\((Double(f[32]) ?? 0) * 5),\(f[1]),\(f[3] == "U" ? "urban" : "rural")\n"
}
try seed("score-csv", "uci.csv", Data(uciCSV.utf8))

// A small vault under the fixture key: its descriptor, signed batches, and releases.
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("eduvault-seeds-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: scratch) }
let testPolicy = Array(policyText.replacingOccurrences(of: "min_key_bits: 2048", with: "min_key_bits: 256").utf8)
let policy = try Policy.parse(testPolicy)
let schema = try Schema()
let jwk = try JSONDecoder().decode(PaillierPublicJWK.self, from: fixture("Keys/test/fuzz-256/public.json"))
let descriptor = try Descriptor(vaultID: "fuzz-vault", publicKey: jwk, keyID: pub.keyID, keyBits: pub.bitCount,
                                schema: schema, policy: policy.reference, created: "2026-01-01T00:00:00Z")
let vault = try Vault.create(directory: scratch.appendingPathComponent("vault"), descriptor: descriptor,
                             policyBytes: testPolicy)
try seed("descriptor", "descriptor.json", Data(contentsOf: scratch.appendingPathComponent("vault/descriptor.json")))
try seed("descriptor", "canonical.json", Data(try descriptor.canonicalJSON()))
let layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount)
var rng = SystemRandomNumberGenerator()
for (school, region) in [("GP", "urban"), ("MS", "rural")] {
    let id = try SchoolID(school)
    let keys = try SchoolKeys(schoolID: id, vaultID: "fuzz-vault", signingSeed: Fuzz.batchSigner.rawRepresentation,
                              pseudonymKey: SHA256.hash(Array(school.utf8)))
    try vault.registerSchool(id: id, attributes: ["region": region], signingPublicKey: Fuzz.batchSigner.publicKey)
    var records: [BatchRecord] = []
    for s in 0..<60 {
        let score = UInt64.random(in: 0...1000, using: &rng)
        let c = try pub.encrypt(try layout.pack([score, score * score]))
        let attributes = ["sex": s % 2 == 0 ? "F" : "M", "term": "2024-1"]
        records.append(BatchRecord(pseudonym: try keys.pseudonym(forStudent: "\(school)-\(s)"),
                                   subject: s % 3 == 0 ? "chinese" : "math", attributes: attributes,
                                   ciphertext: try c.bytes(width: pub.ciphertextByteCount)))
    }
    let url = scratch.appendingPathComponent("\(school).batch")
    let writer = try BatchWriter(url: url, header: BatchHeader(school: id, vault: "fuzz-vault", keyID: pub.keyID,
                                                               schemaHash: try schema.schemaHash,
                                                               created: "2026-01-01T00:00:00Z", records: records.count))
    for record in records { try writer.append(record) }
    try writer.finish(signingKey: Fuzz.batchSigner)
    _ = try vault.ingest(batchAt: url) { bytes in _ = try pub.ciphertext(bytes: bytes) }
    if school == "GP" {
        // Batch seeds: small ones (the fuzzer's inputs stay short), signed by the harness's school key.
        for count in [1, 3] {
            let small = scratch.appendingPathComponent("small-\(count).batch")
            let w = try BatchWriter(url: small, header: BatchHeader(school: id, vault: "fuzz-vault", keyID: pub.keyID,
                                                                     schemaHash: try schema.schemaHash,
                                                                     created: "2026-01-01T00:00:00Z", records: count))
            for record in records.prefix(count) { try w.append(record) }
            try w.finish(signingKey: Fuzz.batchSigner)
            try seed("batch", "records-\(count).batch", Data(contentsOf: small))
        }
    }
}
let engine = try QueryEngine(vault: vault, workers: 1)
for (name, query) in [("region-contrast", Query(by: ["subject"], contrast: "region")),
                      ("by-subject", Query(by: ["subject"])),
                      ("mixed", Query(by: ["subject", "sex"])),
                      ("three-attributes", Query(by: ["school", "sex", "subject"]))] {
    let release = try engine.run(query).release
    try seed("release", "\(name).json", release.jsonData())
    if name == "region-contrast" {
        // The same release with one cell withheld, as K-MIN would (the fuzzer learns the shape of `suppressed`).
        if var object = try JSONSerialization.jsonObject(with: release.jsonData()) as? [String: Any],
           var cells = object["cells"] as? [[String: Any]], let last = cells.popLast() {
            object["cells"] = cells
            object["suppressed"] = [["by": last["by"] ?? [:], "rule": "K-MIN"]]
            try seed("release", "withheld.json", JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
    }
}
// Signed notes, checkpoints and keys (the fuzz log key signs; a witness cosigns).
let logSigner = NoteSigner(name: "eduvault/fuzz", privateKey: Fuzz.batchSigner)
let witness = NoteSigner(name: "witness.example/fuzz", privateKey: try Ed25519.PrivateKey(rawRepresentation: Array(repeating: 7, count: 32)))
let checkpoint = try Checkpoint(origin: logSigner.name, size: 3, rootHash: SHA256.hash([1, 2, 3]))
var cosigned = try checkpoint.signedNote(signers: [logSigner])
try cosigned.add(try Cosignature.sign(checkpoint: checkpoint, timestamp: 1_767_225_600, witness: witness))
try seed("signed-note", "checkpoint.note", Data(try checkpoint.signedNote(signers: [logSigner]).encoded.utf8))
try seed("signed-note", "cosigned.note", Data(cosigned.encoded.utf8))
try seed("signed-note", "body.txt", Data(checkpoint.body.utf8))
try seed("signed-note", "verifier-key.txt", Data(logSigner.verifierKey.encoded.utf8))
try seed("signed-note", "cosigner-key.txt", Data(witness.cosignerKey.encoded.utf8))

// Audit log: the three entries the audit-log target's checkpoint signs (the same construction), and a longer log.
var entries: [AuditEntry] = []
for i in 0..<3 {
    entries.append(try AuditChain.entry(after: entries.last, time: "2026-01-01T00:00:0\(i)Z", kind: .queryRefused,
                                        details: ["rule": "K-MIN", "n": String(i)]))
}
let lineEncoder = JSONEncoder()
lineEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
try seed("audit-log", "signed.jsonl", Data(try entries.map { String(decoding: try lineEncoder.encode($0), as: UTF8.self) + "\n" }.joined().utf8))
try seed("audit-log", "vault.jsonl", Data(try Vault.open(directory: scratch.appendingPathComponent("vault")).auditEntries()
    .map { String(decoding: try lineEncoder.encode($0), as: UTF8.self) + "\n" }.joined().utf8))

// LIN-AUDIT states: empty, after a few releases, after a withheld cell.
var audit = LinearAudit(k: 10, prime: (1 << 61) - 1)
try seed("lin-audit-state", "empty.bin", Data(audit.serialized()))
_ = audit.admit(LinearAudit.Cell(atoms: [(1, 4), (2, 12), (3, 1)]))
_ = audit.admit(LinearAudit.Cell(atoms: [(2, 12), (4, 30)]))
try seed("lin-audit-state", "two-releases.bin", Data(audit.serialized()))
_ = audit.admit(LinearAudit.Cell(atoms: [(1, 4), (3, 1)]))
_ = audit.admit(LinearAudit.Cell(atoms: [(5, 2), (6, 3), (7, 9)]))
try seed("lin-audit-state", "four-releases.bin", Data(audit.serialized()))

// School public keys.
let schoolKeys = try SchoolKeys.generate(schoolID: try SchoolID("GP"), vaultID: "fuzz")
let publicEncoder = JSONEncoder()
publicEncoder.outputFormatting = [.sortedKeys, .prettyPrinted]
try seed("school-public-key", "gp.pub", try publicEncoder.encode(try SchoolPublicKeys(schoolKeys)))

try await thresholdSeeds()
try modelSeeds()
try await serviceSeeds(vault: vault)
print("seeds written to \(corpus.path)")
