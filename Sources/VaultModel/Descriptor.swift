public import Foundation

/// A Paillier public key in python-paillier's JWK form (`kty: "DAJ"`, `alg: "PAI-GN1"`, base64url `n`).
///
/// The vault stores and republishes it; it never parses `n` (the `Paillier` target does).
public struct PaillierPublicJWK: Sendable, Codable, Equatable {
    /// Key type, `"DAJ"`.
    public var kty: String
    /// Algorithm, `"PAI-GN1"`.
    public var alg: String
    /// Allowed operations, `["encrypt"]`.
    public var keyOps: [String]
    /// The modulus, base64url without padding.
    public var n: String
    /// The key id.
    public var kid: String

    /// Makes a key description.
    public init(kty: String = "DAJ", alg: String = "PAI-GN1", keyOps: [String] = ["encrypt"], n: String, kid: String) {
        self.kty = kty
        self.alg = alg
        self.keyOps = keyOps
        self.n = n
        self.kid = kid
    }

    enum CodingKeys: String, CodingKey {
        case kty, alg, n, kid
        case keyOps = "key_ops"
    }
}

/// Names the policy a vault runs under: id, version and SHA-256 of the policy file.
public struct PolicyReference: Sendable, Codable, Equatable {
    /// Policy id, e.g. `eduvault-default`.
    public var id: String
    /// Policy version.
    public var version: Int
    /// Lower-case hex SHA-256 of the policy file bytes.
    public var sha256: String

    /// Makes a reference.
    public init(id: String, version: Int, sha256: String) {
        self.id = id
        self.version = version
        self.sha256 = sha256
    }
}

/// How a vault's decryption key is held, when it is not one bureau key: a threshold key dealt by
/// `eduvault keys ceremony`, of which any `threshold` of the `parties` decrypt together.
///
/// Public facts only: the parties' names, the threshold, the ceremony id and the SHA-256 of the verification keys
/// (v and every v_i, as `threshold.json` states them), so anyone can check a `threshold.json` against the vault.
public struct Custody: Sendable, Codable, Equatable {
    /// The only kind this version writes: `threshold`.
    public static let thresholdKind = "threshold"

    /// `threshold`.
    public var kind: String
    /// t: how many parties must take part in a decryption.
    public var threshold: Int
    /// The parties, in index order.
    public var parties: [String]
    /// The ceremony id (`tk-` and 32 hex digits) of the threshold key.
    public var ceremony: String
    /// Lower-case hex SHA-256 of the verification keys.
    public var verificationKeysSHA256: String

    /// Describes a threshold custody.
    public init(threshold: Int, parties: [String], ceremony: String, verificationKeysSHA256: String) {
        self.kind = Self.thresholdKind
        self.threshold = threshold
        self.parties = parties
        self.ceremony = ceremony
        self.verificationKeysSHA256 = verificationKeysSHA256
    }

    enum CodingKeys: String, CodingKey {
        case kind, threshold, parties, ceremony
        case verificationKeysSHA256 = "verification_keys_sha256"
    }

    /// One line for people: `threshold 2 of 3 (bureau, auditor, custodian)`.
    public var summary: String { "threshold \(threshold) of \(parties.count) (\(parties.joined(separator: ", ")))" }

    /// Checks the kind, the threshold against the parties, the names and the hashes' shapes.
    ///
    /// - Throws: `ModelError.invalidFile` naming what is wrong.
    public func validate() throws(ModelError) {
        guard kind == Self.thresholdKind else { throw ModelError(.invalidFile, "custody kind must be \"threshold\"") }
        guard (2...32).contains(parties.count), (1...parties.count).contains(threshold) else {
            throw ModelError(.invalidFile, "custody needs 2–32 parties and a threshold between 1 and their number")
        }
        guard Set(parties).count == parties.count, parties.allSatisfy({ Tokens.isIdentifier($0, maxLength: 32) }) else {
            throw ModelError(.invalidFile, "custody parties must be distinct names [A-Za-z0-9_-]{1,32}")
        }
        let hex = { (text: String, count: Int) in
            text.utf8.count == count && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
        }
        guard ceremony.hasPrefix("tk-"), hex(String(ceremony.dropFirst(3)), 32), hex(verificationKeysSHA256, 64) else {
            throw ModelError(.invalidFile, "custody ceremony or verification_keys_sha256 is malformed")
        }
    }
}

/// `descriptor.json`: the public description of a vault, everything a school needs to prepare a batch.
public struct Descriptor: Sendable, Codable, Equatable {
    /// The only format this version reads and writes.
    public static let currentFormat = "eduvault-descriptor/1"

    /// Always `eduvault-descriptor/1`.
    public var format: String
    /// The vault id, `[A-Za-z0-9_-]{1,64}`.
    public var vaultID: String
    /// The bureau's Paillier public key.
    public var publicKey: PaillierPublicJWK
    /// The key id batches must name.
    public var keyID: String
    /// The modulus size in bits.
    public var keyBits: Int
    /// Score and attribute schema.
    public var schema: Schema
    /// The policy in force when the vault was created.
    public var policy: PolicyReference
    /// Creation time (ISO 8601).
    public var created: String
    /// The vault's audit-log verifier key, a C2SP signed-note verifier key `name+hash+base64` (Ed25519). Auditors pin
    /// it; every checkpoint of the log is signed by the matching private key. Absent in vaults made before it.
    public var logKey: String?
    /// How the decryption key is held: absent for one bureau key, a ``Custody`` for a threshold key.
    public var custody: Custody?

    /// Makes a descriptor and checks its identifiers.
    ///
    /// - Throws: `ModelError.invalidIdentifier` for a malformed vault or key id.
    public init(
        vaultID: String, publicKey: PaillierPublicJWK, keyID: String, keyBits: Int, schema: Schema,
        policy: PolicyReference, created: String = Timestamp.now(), custody: Custody? = nil
    ) throws(ModelError) {
        self.format = Descriptor.currentFormat
        self.vaultID = vaultID
        self.publicKey = publicKey
        self.keyID = keyID
        self.keyBits = keyBits
        self.schema = schema
        self.policy = policy
        self.created = created
        self.custody = custody
        try validate()
    }

    enum CodingKeys: String, CodingKey {
        case format, schema, policy, created
        case vaultID = "vault_id"
        case publicKey = "public_key"
        case keyID = "key_id"
        case keyBits = "key_bits"
        case logKey = "log_key"
        case custody
    }

    /// Checks the format tag and identifiers.
    public func validate() throws(ModelError) {
        guard format == Descriptor.currentFormat else {
            throw ModelError(.invalidFile, "descriptor format must be \(Descriptor.currentFormat)")
        }
        guard isValidVaultID(vaultID) else {
            throw ModelError(.invalidIdentifier, "a vault id must match [A-Za-z0-9_-]{1,64}")
        }
        guard Tokens.isIdentifier(keyID, maxLength: 128) else {
            throw ModelError(.invalidIdentifier, "a key id must match [A-Za-z0-9_-]{1,128}")
        }
        guard keyBits > 0 else { throw ModelError(.invalidFile, "key_bits must be positive") }
        if let logKey {
            guard !logKey.isEmpty, logKey.utf8.count <= 512, logKey.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
            else { throw ModelError(.invalidFile, "log_key must be a signed-note verifier key (name+hash+base64)") }
        }
        try custody?.validate()
    }

    /// Canonical JSON bytes (sorted keys), as stored in the vault's meta table.
    public func canonicalJSON() throws(ModelError) -> [UInt8] { try CanonicalJSON.encode(self) }

    /// The largest descriptor file read: 1 MiB (a real one is about 1 KB).
    public static let maxFileBytes = 1 << 20

    /// Decodes and validates a descriptor from JSON bytes.
    ///
    /// - Throws: `ModelError.invalidFile` / `.invalidSchema` / `.invalidIdentifier`.
    public static func decode(_ bytes: some Collection<UInt8>) throws(ModelError) -> Descriptor {
        guard bytes.count <= maxFileBytes else {
            throw ModelError(.invalidFile, "the descriptor is larger than \(maxFileBytes / 1024) KiB")
        }
        let descriptor = try CanonicalJSON.decode(Descriptor.self, from: bytes, what: "descriptor")
        try descriptor.validate()
        return descriptor
    }

    /// Reads and validates `descriptor.json`.
    public static func read(from url: URL) throws(ModelError) -> Descriptor {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            // One byte more than the limit is enough to know the file is too large.
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            throw ModelError(.io, "cannot read the descriptor file", file: url.lastPathComponent)
        }
        return try decode(data)
    }

    /// Writes the descriptor (pretty-printed, sorted keys) atomically.
    public func write(to url: URL) throws(ModelError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            var data = try encoder.encode(self)
            data.append(UInt8(ascii: "\n"))
            try AtomicFile.write(data, to: url, overwrite: true)
        } catch {
            throw ModelError(.io, "cannot write the descriptor file", file: url.lastPathComponent)
        }
    }
}
