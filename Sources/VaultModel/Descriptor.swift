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

    /// Makes a descriptor and checks its identifiers.
    ///
    /// - Throws: `ModelError.invalidIdentifier` for a malformed vault or key id.
    public init(
        vaultID: String, publicKey: PaillierPublicJWK, keyID: String, keyBits: Int, schema: Schema,
        policy: PolicyReference, created: String = Timestamp.now()
    ) throws(ModelError) {
        self.format = Descriptor.currentFormat
        self.vaultID = vaultID
        self.publicKey = publicKey
        self.keyID = keyID
        self.keyBits = keyBits
        self.schema = schema
        self.policy = policy
        self.created = created
        try validate()
    }

    enum CodingKeys: String, CodingKey {
        case format, schema, policy, created
        case vaultID = "vault_id"
        case publicKey = "public_key"
        case keyID = "key_id"
        case keyBits = "key_bits"
        case logKey = "log_key"
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
