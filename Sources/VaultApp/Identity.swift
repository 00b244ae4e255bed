public import Foundation
public import Primitives
import VaultModel
import VaultStore

/// A member's request key, made where it is used (`eduvault member keygen --out F`): F holds the Ed25519 key
/// (mode 0600), F.pub its public part, which the operator registers with `member add --public-key F.pub`.
public struct MemberKeyFile: Codable, Sendable {
    public static let currentFormat = "eduvault-member-key/1"
    public var format: String
    /// The 32-byte Ed25519 seed, base64.
    public var privateKey: String
    /// The public key, base64.
    public var publicKey: String

    enum CodingKeys: String, CodingKey {
        case format
        case privateKey = "private_key"
        case publicKey = "public_key"
    }

    public init(format: String, privateKey: String, publicKey: String) {
        self.format = format
        self.privateKey = privateKey
        self.publicKey = publicKey
    }

    /// A new key.
    public static func generate() throws(PrimitivesError) -> MemberKeyFile {
        let key = try Ed25519.PrivateKey()
        return MemberKeyFile(format: currentFormat, privateKey: Data(key.rawRepresentation).base64EncodedString(),
                             publicKey: Data(key.publicKey.rawRepresentation).base64EncodedString())
    }

    /// The public part written to F.pub.
    public var publicPart: MemberPublicKeyFile { MemberPublicKeyFile(format: MemberPublicKeyFile.currentFormat, publicKey: publicKey) }
}

/// The public part of a member key (F.pub).
public struct MemberPublicKeyFile: Codable, Sendable {
    public static let currentFormat = "eduvault-member-public/1"
    public var format: String
    public var publicKey: String

    enum CodingKeys: String, CodingKey {
        case format
        case publicKey = "public_key"
    }

    public init(format: String, publicKey: String) {
        self.format = format
        self.publicKey = publicKey
    }

    /// Reads F.pub (at most 64 KiB) and checks the key.
    public static func decode(_ data: Data) throws(AppError) -> Ed25519.PublicKey {
        guard data.count <= 64 << 10, let file = try? JSONDecoder().decode(MemberPublicKeyFile.self, from: data),
              file.format == currentFormat, let raw = Data(base64Encoded: file.publicKey),
              let key = try? Ed25519.PublicKey(rawRepresentation: Array(raw))
        else { throw AppError(.badRequest, "not a member public key file (\(currentFormat)); make one with `eduvault member keygen`") }
        return key
    }
}

/// Who signs a client's requests: the key id (principal id) and the Ed25519 key.
public struct Identity: Sendable {
    public var keyID: String
    public var key: Ed25519.PrivateKey

    public init(keyID: String, key: Ed25519.PrivateKey) {
        self.keyID = keyID
        self.key = key
    }

    /// Loads a member key file (`member keygen`) or a school's keys file (`school keygen`; key id = school id).
    ///
    /// - Throws: `.badRequest` naming neither the content nor the key.
    public static func load(_ data: Data) throws(AppError) -> Identity {
        guard data.count <= 64 << 10 else { throw AppError(.badRequest, "the key file is too large") }
        struct Probe: Decodable { var format: String? }
        let format = (try? JSONDecoder().decode(Probe.self, from: data))?.format
        if format == MemberKeyFile.currentFormat {
            guard let file = try? JSONDecoder().decode(MemberKeyFile.self, from: data),
                  let seed = Data(base64Encoded: file.privateKey), let key = try? Ed25519.PrivateKey(rawRepresentation: Array(seed))
            else { throw AppError(.badRequest, "the member key file is malformed") }
            // The public key the file states is what its owner registered (F.pub); a file whose two halves differ
            // would sign as a principal other than the one its owner believes it is.
            guard Data(base64Encoded: file.publicKey).map(Array.init) == key.publicKey.rawRepresentation else {
                throw AppError(.badRequest, "the member key file's public key is not its private key's; make a new one with `eduvault member keygen`")
            }
            return Identity(keyID: Principal.memberID(publicKey: key.publicKey.rawRepresentation), key: key)
        }
        if format == SchoolKeys.currentFormat {
            guard let keys = try? JSONDecoder().decode(SchoolKeys.self, from: data), let key = try? keys.signingKey() else {
                throw AppError(.badRequest, "the school keys file is malformed")
            }
            return Identity(keyID: keys.schoolID.rawValue, key: key)
        }
        throw AppError(.badRequest, "not a key file from `eduvault member keygen` or `eduvault school keygen`")
    }
}
