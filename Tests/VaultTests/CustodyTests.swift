import Foundation
import Testing
import VaultAudit
import VaultModel
import VaultPolicy
import VaultStore

/// Issue 11 on the vault: the custody of the key in the descriptor and the log; DECRYPT-QUORUM.
@Suite("Custody and DECRYPT-QUORUM")
struct CustodyTests {
    static let custody = Custody(threshold: 2, parties: ["bureau", "auditor", "custodian"],
                                 ceremony: "tk-" + String(repeating: "ab", count: 16),
                                 verificationKeysSHA256: String(repeating: "0f", count: 32))

    static func quorumPolicy(minThreshold: Int = 2, minParties: Int = 3) throws -> [UInt8] {
        let text = String(decoding: try defaultPolicyBytes(), as: UTF8.self)
            .replacingOccurrences(of: "id: eduvault-default", with: "id: eduvault-quorum-test")
        return Array((text + """
              - id: DECRYPT-QUORUM
                min_threshold: \(minThreshold)
                min_parties: \(minParties)

            """).utf8)
    }

    static func descriptor(policy: [UInt8], custody: Custody?) throws -> Descriptor {
        try Descriptor(vaultID: "vault-custody", publicKey: PaillierPublicJWK(n: "AQAB", kid: "key-1"), keyID: "key-1",
                       keyBits: 2048, schema: try Schema(), policy: try Policy.parse(policy).reference, custody: custody)
    }

    @Test("DECRYPT-QUORUM parses, is optional, and checks its numbers")
    func policyRule() throws {
        #expect(try Policy.parse(try defaultPolicyBytes()).decryptQuorum == nil)
        let rule = try #require(try Policy.parse(try Self.quorumPolicy()).decryptQuorum)
        #expect(rule.minThreshold == 2 && rule.minParties == 3)
        #expect(!rule.admits(threshold: 1, parties: 1))  // one bureau key
        #expect(!rule.admits(threshold: 1, parties: 3))
        #expect(!rule.admits(threshold: 2, parties: 2))
        #expect(rule.admits(threshold: 2, parties: 3) && rule.admits(threshold: 3, parties: 5))
        #expect(throws: PolicyError.self) { try Policy.parse(try Self.quorumPolicy(minThreshold: 3, minParties: 2)) }
        #expect(throws: PolicyError.self) { try Policy.parse(try Self.quorumPolicy(minThreshold: 0, minParties: 2)) }
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies/quorum.yaml")
        #expect(try Policy.load(from: shipped).decryptQuorum == Policy.DecryptQuorum(minThreshold: 2, minParties: 3))
    }

    @Test("A single-holder key is refused under DECRYPT-QUORUM; a threshold key is recorded in descriptor and log")
    func vaultCreation() throws {
        let dir = try TempDir()
        let policy = try Self.quorumPolicy()
        let single = try Self.descriptor(policy: policy, custody: nil)
        let error = #expect(throws: StoreError.self) {
            try Vault.create(directory: dir.url.appendingPathComponent("single"), descriptor: single, policyBytes: policy)
        }
        #expect(error?.code == .quorumTooSmall)
        #expect(error?.message.contains("DECRYPT-QUORUM") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("single/vault.sqlite").path))
        let weak = try Self.descriptor(policy: try Self.quorumPolicy(minThreshold: 3, minParties: 3), custody: Self.custody)
        #expect(throws: StoreError.self) {
            try Vault.create(directory: dir.url.appendingPathComponent("weak"), descriptor: weak,
                             policyBytes: try Self.quorumPolicy(minThreshold: 3, minParties: 3))
        }

        let vault = try Vault.create(directory: dir.url.appendingPathComponent("threshold"),
                                     descriptor: try Self.descriptor(policy: policy, custody: Self.custody),
                                     policyBytes: policy)
        #expect(vault.descriptor.custody == Self.custody)
        let reopened = try Vault.open(directory: dir.url.appendingPathComponent("threshold"))
        #expect(reopened.descriptor.custody == Self.custody)
        let file = try Descriptor.read(from: dir.url.appendingPathComponent("threshold/descriptor.json"))
        #expect(file.custody == Self.custody)
        let key = try #require(try vault.auditEntries().first { $0.kind == .keyRegistered })
        #expect(key.details["custody"] == "threshold" && key.details["threshold"] == "2")
        #expect(key.details["parties"] == "bureau,auditor,custodian")
        #expect(key.details["ceremony"] == Self.custody.ceremony)
        #expect(key.details["verification_keys_sha256"] == Self.custody.verificationKeysSHA256)

        // Without the rule a single key is still fine, and its key event carries no custody.
        let plain = try Vault.create(directory: dir.url.appendingPathComponent("plain"),
                                     descriptor: try Self.descriptor(policy: try defaultPolicyBytes(), custody: nil),
                                     policyBytes: try defaultPolicyBytes())
        #expect(try plain.auditEntries().first { $0.kind == .keyRegistered }?.details["custody"] == nil)
    }

    @Test("A descriptor's custody is checked")
    func descriptorValidation() throws {
        let policy = try defaultPolicyBytes()
        var bad = Self.custody
        bad.threshold = 4
        #expect(throws: ModelError.self) { try Self.descriptor(policy: policy, custody: bad) }
        bad = Self.custody
        bad.parties = ["bureau", "bureau", "x"]
        #expect(throws: ModelError.self) { try Self.descriptor(policy: policy, custody: bad) }
        bad = Self.custody
        bad.ceremony = "tk-zz"
        #expect(throws: ModelError.self) { try Self.descriptor(policy: policy, custody: bad) }
        bad = Self.custody
        bad.kind = "shamir"
        #expect(throws: ModelError.self) { try Self.descriptor(policy: policy, custody: bad) }
    }
}
