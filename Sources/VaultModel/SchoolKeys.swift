import Foundation
public import Primitives

/// A school's secrets: its Ed25519 signing seed and its 32-byte pseudonym key.
///
/// Security: the file holding this value must be written with mode 0600 by the caller and never leaves the school.
/// The vault only ever sees the public half of the signing key.
public struct SchoolKeys: Sendable, Codable {
    /// The file format tag.
    public static let currentFormat = "eduvault-school-keys/1"

    /// Always `eduvault-school-keys/1`.
    public var format: String
    /// The school these keys belong to.
    public var schoolID: SchoolID
    /// The vault the school uploads to.
    public var vaultID: String
    /// The 32-byte Ed25519 seed.
    public var signingSeed: [UInt8]
    /// The 32-byte HMAC key for pseudonyms.
    public var pseudonymKey: [UInt8]

    enum CodingKeys: String, CodingKey {
        case format
        case schoolID = "school_id"
        case vaultID = "vault_id"
        case signingSeed = "signing_seed"
        case pseudonymKey = "pseudonym_key"
    }

    /// Makes a key set from existing material.
    ///
    /// - Throws: `ModelError.invalidFile` unless both secrets are 32 bytes and the vault id is valid.
    public init(schoolID: SchoolID, vaultID: String, signingSeed: [UInt8], pseudonymKey: [UInt8]) throws(ModelError) {
        guard signingSeed.count == 32, pseudonymKey.count == 32 else {
            throw ModelError(.invalidFile, "school keys need a 32-byte signing seed and a 32-byte pseudonym key")
        }
        guard isValidVaultID(vaultID) else {
            throw ModelError(.invalidIdentifier, "a vault id must match [A-Za-z0-9_-]{1,64}")
        }
        self.format = SchoolKeys.currentFormat
        self.schoolID = schoolID
        self.vaultID = vaultID
        self.signingSeed = signingSeed
        self.pseudonymKey = pseudonymKey
    }

    /// Generates fresh keys from the CSPRNG.
    public static func generate(schoolID: SchoolID, vaultID: String) throws(ModelError) -> SchoolKeys {
        do {
            let key = try Ed25519.PrivateKey()
            return try SchoolKeys(
                schoolID: schoolID, vaultID: vaultID, signingSeed: key.rawRepresentation,
                pseudonymKey: try SecureRandom.bytes(32))
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(.crypto, "could not generate school keys")
        }
    }

    /// The signing key.
    public func signingKey() throws(ModelError) -> Ed25519.PrivateKey {
        do { return try Ed25519.PrivateKey(rawRepresentation: signingSeed) } catch {
            throw ModelError(.crypto, "the signing seed in the school keys is not a valid Ed25519 key")
        }
    }

    /// The pseudonym of `studentID` under this school's key.
    ///
    /// - Throws: `ModelError.crypto` when HMAC-SHA-256 fails.
    public func pseudonym(forStudent studentID: String) throws(ModelError) -> Pseudonym {
        try Pseudonym(studentID: studentID, key: pseudonymKey)
    }

    /// Decodes, with both secrets as base64 strings.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let format = try c.decode(String.self, forKey: .format)
        guard format == SchoolKeys.currentFormat else {
            throw ModelError(.invalidFile, "school keys format must be \(SchoolKeys.currentFormat)")
        }
        guard let seed = Data(base64Encoded: try c.decode(String.self, forKey: .signingSeed)),
            let key = Data(base64Encoded: try c.decode(String.self, forKey: .pseudonymKey))
        else { throw ModelError(.invalidFile, "school keys must hold base64 secrets") }
        try self.init(
            schoolID: try c.decode(SchoolID.self, forKey: .schoolID),
            vaultID: try c.decode(String.self, forKey: .vaultID),
            signingSeed: Array(seed), pseudonymKey: Array(key))
    }

    /// Encodes, with both secrets as base64 strings.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(schoolID, forKey: .schoolID)
        try c.encode(vaultID, forKey: .vaultID)
        try c.encode(Data(signingSeed).base64EncodedString(), forKey: .signingSeed)
        try c.encode(Data(pseudonymKey).base64EncodedString(), forKey: .pseudonymKey)
    }
}

/// The public part of a school's keys (`F.pub` from `eduvault school keygen`): what the vault needs to register the
/// school, and nothing secret. The school keeps F.
public struct SchoolPublicKeys: Sendable, Codable, Equatable {
    /// `eduvault-school-public/1`.
    public static let currentFormat = "eduvault-school-public/1"

    public var format: String
    public var schoolID: SchoolID
    public var vaultID: String
    /// The Ed25519 public key, base64.
    public var signingPublicKey: String

    /// The public part of a school's keys.
    public init(_ keys: SchoolKeys) throws(ModelError) {
        format = Self.currentFormat
        schoolID = keys.schoolID
        vaultID = keys.vaultID
        signingPublicKey = Data(try keys.signingKey().publicKey.rawRepresentation).base64EncodedString()
    }

    enum CodingKeys: String, CodingKey {
        case format
        case schoolID = "school"
        case vaultID = "vault"
        case signingPublicKey = "signing_public_key"
    }

    /// The Ed25519 key.
    ///
    /// - Throws: `ModelError.invalidFile` for a malformed key.
    public func publicKey() throws(ModelError) -> Ed25519.PublicKey {
        guard let raw = Data(base64Encoded: signingPublicKey), raw.count == 32,
              let key = try? Ed25519.PublicKey(rawRepresentation: Array(raw))
        else { throw ModelError(.invalidFile, "the school's public key file has a malformed signing key") }
        return key
    }

    /// Decodes and checks a public keys file (at most 64 KiB).
    public static func decode(_ bytes: some Collection<UInt8>) throws(ModelError) -> SchoolPublicKeys {
        guard bytes.count <= 64 << 10 else { throw ModelError(.invalidFile, "the school's public key file is too large") }
        let keys = try CanonicalJSON.decode(SchoolPublicKeys.self, from: bytes, what: "school public key file")
        guard keys.format == currentFormat else {
            throw ModelError(.invalidFile, "not a school public key file (\(currentFormat))")
        }
        _ = try keys.publicKey()
        return keys
    }
}
