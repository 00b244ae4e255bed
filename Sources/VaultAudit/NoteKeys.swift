public import Primitives

/// Shared rules for C2SP signed-note key names, key IDs and verifier keys (`name+hash+base64`).
enum NoteKeyRules {
    /// Longest key name accepted, in UTF-8 bytes (a limit of this implementation; the spec sets none).
    static let maxNameBytes = 256
    /// Longest encoded verifier key accepted, in UTF-8 bytes.
    static let maxEncodedBytes = 1024

    /// Whether `name` is a valid key name: non-empty, at most `maxNameBytes`, no Unicode white space, no `+`, and no
    /// ASCII control character (C2SP signed-note, "Format").
    static func isValidName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= maxNameBytes else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar.value >= 0x20 && scalar != "+" && !scalar.properties.isWhitespace
        }
    }

    /// SHA-256(name ‖ 0x0A ‖ type ‖ key)[0..<4] as a big-endian UInt32 (C2SP signed-note, "Signatures").
    static func keyHash(name: String, type: UInt8, key: [UInt8]) -> UInt32 {
        let digest = SHA256.hash(Array(name.utf8) + [0x0A, type] + key)
        return digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// `name+hhhhhhhh+base64(type ‖ key)`, the hash as 8 lower-case hex digits.
    static func encode(name: String, hash: UInt32, type: UInt8, key: [UInt8]) -> String {
        name + "+" + hex8(hash) + "+" + StrictBase64.encode([type] + key)
    }

    static func hex8(_ value: UInt32) -> String {
        let digits = Array("0123456789abcdef".utf8)
        let bytes = (0..<8).map { digits[Int(value >> UInt32(28 - 4 * $0) & 0xF)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a verifier key of signature type `type` carrying a 32-byte Ed25519 key.
    ///
    /// Strict: exactly two `+` before the base64 (the name has none; the base64 may contain more), the hash exactly
    /// 8 lower-case hex digits, strict base64 of exactly 33 bytes, the type byte as expected, the key accepted by
    /// OpenSSL, and the hash equal to the one recomputed from name, type and key.
    static func parse(
        _ encoded: String, type: UInt8
    ) throws(AuditError) -> (name: String, hash: UInt32, key: Ed25519.PublicKey) {
        let bytes = Array(encoded.utf8)
        guard bytes.count <= maxEncodedBytes else { throw AuditError(.malformedKey, "a verifier key is too long") }
        guard let firstPlus = bytes.firstIndex(of: UInt8(ascii: "+")),
            let secondPlus = bytes[(firstPlus + 1)...].firstIndex(of: UInt8(ascii: "+"))
        else { throw AuditError(.malformedKey, "a verifier key is name+hash+key") }
        let name = String(decoding: bytes[..<firstPlus], as: UTF8.self)
        guard isValidName(name), Array(name.utf8) == Array(bytes[..<firstPlus]) else {
            throw AuditError(
                .malformedKey, "a verifier key's name is empty, too long, or has a space, + or control character")
        }
        let hexBytes = bytes[(firstPlus + 1)..<secondPlus]
        guard hexBytes.count == 8, let hash = parseHex8(hexBytes) else {
            throw AuditError(.malformedKey, "a verifier key's hash is 8 lower-case hex digits")
        }
        let keyText = String(decoding: bytes[(secondPlus + 1)...], as: UTF8.self)
        guard let raw = StrictBase64.decode(keyText[...], maxBytes: 33), raw.count == 33 else {
            throw AuditError(.malformedKey, "a verifier key's key is strict base64 of 33 bytes")
        }
        guard raw[0] == type else {
            throw AuditError(.malformedKey, "a verifier key of signature type \(raw[0]) where \(type) is needed")
        }
        let key: Ed25519.PublicKey
        do {
            key = try Ed25519.PublicKey(rawRepresentation: Array(raw[1...]))
        } catch {
            throw AuditError(.malformedKey, "a verifier key's Ed25519 key is not valid")
        }
        guard keyHash(name: name, type: type, key: key.rawRepresentation) == hash else {
            throw AuditError(.malformedKey, "a verifier key's hash does not match its name and key")
        }
        return (name, hash, key)
    }

    private static func parseHex8(_ text: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        for byte in text {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}

/// An Ed25519 signed-note verifier key (signature type 0x01), in the C2SP `name+hash+base64` form.
///
/// `keyHash` = first 4 bytes, big-endian, of SHA-256(name ‖ "\n" ‖ 0x01 ‖ 32-byte public key); `encoded` is
/// `name+hhhhhhhh+base64(0x01 ‖ public key)`. This is what `descriptor.json` publishes and what auditors pin.
///
/// Equality compares name bytes, hash and key.
public struct NoteVerifierKey: Sendable, Equatable, CustomStringConvertible {
    /// The C2SP signature type byte of plain Ed25519 note signatures.
    public static let signatureType: UInt8 = 0x01

    /// The key name (a schema-less URL such as `eduvault.example/vault-1` is recommended).
    public let name: String
    /// The key ID that signature lines carry.
    public let keyHash: UInt32
    /// The Ed25519 public key.
    public let publicKey: Ed25519.PublicKey

    /// A verifier key for `publicKey` under `name`.
    ///
    /// - Throws: `AuditError.malformedKey` if `name` is empty, longer than 256 bytes, or has white space, `+` or a
    ///   control character.
    public init(name: String, publicKey: Ed25519.PublicKey) throws(AuditError) {
        guard NoteKeyRules.isValidName(name) else {
            throw AuditError(.malformedKey, "a key name is non-empty, at most 256 bytes, without spaces, + or controls")
        }
        self.init(unchecked: name, publicKey: publicKey)
    }

    init(unchecked name: String, publicKey: Ed25519.PublicKey) {
        self.name = name
        self.publicKey = publicKey
        keyHash = NoteKeyRules.keyHash(name: name, type: Self.signatureType, key: publicKey.rawRepresentation)
    }

    /// Parses `name+hash+base64` strictly (see the type's summary).
    ///
    /// - Complexity: O(n) for n ≤ 1024 bytes; one SHA-256.
    /// - Throws: `AuditError.malformedKey` for anything but a well-formed Ed25519 (type 0x01) key whose hash matches.
    /// - Security: a matching hash only shows the key was not mistyped; trust comes from pinning the whole key.
    public init(encoded: String) throws(AuditError) {
        let parsed = try NoteKeyRules.parse(encoded, type: Self.signatureType)
        name = parsed.name
        keyHash = parsed.hash
        publicKey = parsed.key
    }

    /// `name+hhhhhhhh+base64(0x01 ‖ public key)`.
    public var encoded: String {
        NoteKeyRules.encode(name: name, hash: keyHash, type: Self.signatureType, key: publicKey.rawRepresentation)
    }

    /// The encoded key.
    public var description: String { encoded }

    /// Compares name bytes (not Unicode-equivalent strings), hash and key.
    public static func == (a: Self, b: Self) -> Bool {
        Array(a.name.utf8) == Array(b.name.utf8) && a.keyHash == b.keyHash && a.publicKey == b.publicKey
    }
}

/// The verifier key of an Ed25519 witness (cosigner) in C2SP tlog-cosignature: signature type 0x04.
///
/// `keyHash` = first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x04 ‖ 32-byte public key); `encoded` is
/// `name+hhhhhhhh+base64(0x04 ‖ public key)` ("vkey" with signature type 0x04, as tlog-cosignature allows).
/// It differs from `NoteVerifierKey` only in the type byte, so the same Ed25519 key has different key IDs as a note
/// signer and as a cosigner, and a cosignature is never mistaken for a plain note signature.
public struct CosignerVerifierKey: Sendable, Equatable, CustomStringConvertible {
    /// The C2SP signature type byte of timestamped Ed25519 witness cosignatures.
    public static let signatureType: UInt8 = 0x04

    /// The cosigner's name.
    public let name: String
    /// The key ID its cosignature lines carry.
    public let keyHash: UInt32
    /// The Ed25519 public key.
    public let publicKey: Ed25519.PublicKey

    /// A cosigner key for `publicKey` under `name`.
    ///
    /// - Throws: `AuditError.malformedKey` for an invalid key name (see `NoteVerifierKey.init(name:publicKey:)`).
    public init(name: String, publicKey: Ed25519.PublicKey) throws(AuditError) {
        guard NoteKeyRules.isValidName(name) else {
            throw AuditError(.malformedKey, "a key name is non-empty, at most 256 bytes, without spaces, + or controls")
        }
        self.init(unchecked: name, publicKey: publicKey)
    }

    init(unchecked name: String, publicKey: Ed25519.PublicKey) {
        self.name = name
        self.publicKey = publicKey
        keyHash = NoteKeyRules.keyHash(name: name, type: Self.signatureType, key: publicKey.rawRepresentation)
    }

    /// Parses `name+hash+base64(0x04 ‖ key)` strictly.
    ///
    /// - Throws: `AuditError.malformedKey` for anything but a well-formed type-0x04 key whose hash matches (a plain
    ///   note key, type 0x01, is refused).
    public init(encoded: String) throws(AuditError) {
        let parsed = try NoteKeyRules.parse(encoded, type: Self.signatureType)
        name = parsed.name
        keyHash = parsed.hash
        publicKey = parsed.key
    }

    /// `name+hhhhhhhh+base64(0x04 ‖ public key)`.
    public var encoded: String {
        NoteKeyRules.encode(name: name, hash: keyHash, type: Self.signatureType, key: publicKey.rawRepresentation)
    }

    /// The encoded key.
    public var description: String { encoded }

    /// Compares name bytes, hash and key.
    public static func == (a: Self, b: Self) -> Bool {
        Array(a.name.utf8) == Array(b.name.utf8) && a.keyHash == b.keyHash && a.publicKey == b.publicKey
    }
}

/// A named Ed25519 signing key for signed notes (a log) or cosignatures (a witness).
///
/// Security: holds the private key. `description` and `debugDescription` never show it. The name is checked when
/// signing (`SignedNote.sign`, `Cosignature.sign` throw `AuditError.malformedKey` for an invalid name).
public struct NoteSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The key name written in signature lines.
    public let name: String
    let privateKey: Ed25519.PrivateKey

    /// A signer named `name`.
    ///
    /// - Precondition (checked when signing): `name` is a valid key name — see `NoteSigner.isValidName(_:)`.
    public init(name: String, privateKey: Ed25519.PrivateKey) {
        self.name = name
        self.privateKey = privateKey
    }

    /// Whether `name` is a valid C2SP key name: non-empty, ≤ 256 UTF-8 bytes, no white space, `+` or control.
    public static func isValidName(_ name: String) -> Bool { NoteKeyRules.isValidName(name) }

    /// The matching note verifier key (type 0x01), to publish and pin.
    public var verifierKey: NoteVerifierKey { NoteVerifierKey(unchecked: name, publicKey: privateKey.publicKey) }

    /// The matching cosigner verifier key (type 0x04), for a witness.
    public var cosignerKey: CosignerVerifierKey {
        CosignerVerifierKey(unchecked: name, publicKey: privateKey.publicKey)
    }

    /// The signer's name and key ID, never the key.
    public var description: String { "NoteSigner(\(verifierKey.encoded))" }

    /// Same as `description`.
    public var debugDescription: String { description }

    func checkName() throws(AuditError) {
        guard NoteKeyRules.isValidName(name) else {
            throw AuditError(.malformedKey, "a signer's key name is empty, too long, or has a space, + or control")
        }
    }

    func sign(_ message: [UInt8]) throws(AuditError) -> [UInt8] {
        do {
            return try privateKey.signature(for: message)
        } catch {
            throw AuditError(.signingFailed, "Ed25519 signing failed")
        }
    }
}
