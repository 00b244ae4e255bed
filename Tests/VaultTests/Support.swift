import Foundation
import Primitives
import Testing
import VaultAudit
import VaultModel
import VaultPolicy
import VaultStore

/// A temporary directory removed when the test ends.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vaulttests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func file(_ name: String, _ text: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file
    }
}

/// The repository's default policy bytes (read from the package, never from ../shared).
func defaultPolicyBytes() throws -> [UInt8] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return Array(try Data(contentsOf: root.appendingPathComponent("Policies/default.yaml")))
}

func fixturesDirectory() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
}

/// A vault with one registered school, plus that school's keys.
struct Harness {
    let dir: TempDir
    let vault: Vault
    let keys: SchoolKeys
    let schema: Schema

    init(schoolID: String = "school-1") throws {
        dir = try TempDir()
        let policyBytes = try defaultPolicyBytes()
        let policy = try Policy.parse(policyBytes)
        schema = try Schema()
        let descriptor = try Descriptor(
            vaultID: "vault-test", publicKey: PaillierPublicJWK(n: "AQAB", kid: "key-1"), keyID: "key-1",
            keyBits: 2048, schema: schema, policy: policy.reference)
        vault = try Vault.create(
            directory: dir.url.appendingPathComponent("vault"), descriptor: descriptor, policyBytes: policyBytes)
        keys = try SchoolKeys.generate(schoolID: try SchoolID(schoolID), vaultID: "vault-test")
        try vault.registerSchool(
            id: keys.schoolID, attributes: ["region": "rural"], signingPublicKey: try keys.signingKey().publicKey)
    }

    /// Writes a batch of `count` records (random 64-byte ciphertexts) and returns its URL.
    func batch(
        name: String = "batch.jsonl", count: Int = 5, students: [String]? = nil, subject: String = "math",
        keyID: String = "key-1", vaultID: String = "vault-test", school: SchoolID? = nil,
        signer: Ed25519.PrivateKey? = nil
    ) throws -> URL {
        let url = dir.url.appendingPathComponent(name)
        let header = BatchHeader(
            school: school ?? keys.schoolID, vault: vaultID, keyID: keyID, schemaHash: try schema.schemaHash,
            records: count)
        let writer = try BatchWriter(url: url, header: header)
        let ids = students ?? (0..<count).map { "student-\($0)" }
        for id in ids {
            try writer.append(
                BatchRecord(
                    pseudonym: try keys.pseudonym(forStudent: id), subject: subject,
                    attributes: ["term": "2024-1", "sex": "F"], ciphertext: try SecureRandom.bytes(64)))
        }
        try writer.finish(signingKey: try signer ?? keys.signingKey())
        return url
    }

    func recordCount() throws -> Int {
        var n = 0
        try vault.forEachRecord { _ in n += 1 }
        return n
    }

    func kinds() throws -> [String] { try vault.auditEntries().map(\.kind.rawValue) }
}

/// Replaces line `number` (1-based) of a text file.
func editLine(_ url: URL, _ number: Int, _ transform: (String) -> String) throws {
    var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
    lines[number - 1] = transform(lines[number - 1])
    try Data(lines.joined(separator: "\n").utf8).write(to: url)
}
