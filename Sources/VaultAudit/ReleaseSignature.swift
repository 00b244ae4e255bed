import Primitives

/// The vault's signature on a release it made, with its log key.
///
/// A release file travels through the hands of people who must not be able to alter it: a threshold party
/// partially decrypts whatever release it is given, so a forged "release" whose cell holds one stored ciphertext
/// (anyone with an audit export has them all) would make honest parties decrypt one student's score. The vault
/// therefore signs every release it makes, and `release share` and `release decrypt --log-key` check the signature
/// against the pinned log key before they use a single ciphertext.
///
/// The signed message is `eduvault/release-signature/v1\n` ‖ hex(SHA-256(canonical release without its signature))
/// ‖ `\n`; the signature is written like a C2SP note signature, base64(key ID ‖ 64-byte Ed25519 signature), so it
/// names the key it was made with. A signature covers the canonical encoding of every field, so any change of
/// meaning (a count, a scale, a ciphertext, the release id) breaks it, while re-indenting the JSON does not.
public enum ReleaseSignature {
    static let context = "eduvault/release-signature/v1\n"

    /// The message the vault signs for a release whose canonical encoding without its signature is `canonical`.
    static func message(_ canonical: [UInt8]) -> [UInt8] {
        Array((context + Hex.encode(SHA256.hash(canonical)) + "\n").utf8)
    }

    /// Signs a release's canonical encoding (without its signature).
    ///
    /// - Throws: `AuditError.signingFailed`, `.malformedKey` for a signer with an invalid name.
    public static func sign(_ canonical: [UInt8], with signer: NoteSigner) throws(AuditError) -> String {
        try signer.checkName()
        let hash = signer.verifierKey.keyHash
        let id = [UInt8(hash >> 24 & 0xFF), UInt8(hash >> 16 & 0xFF), UInt8(hash >> 8 & 0xFF), UInt8(hash & 0xFF)]
        return StrictBase64.encode(id + (try signer.sign(message(canonical))))
    }

    /// Whether `signature` is `key`'s signature on a release whose canonical encoding (without its signature) is
    /// `canonical`. A signature by another key, a malformed one, or one over other bytes is `false`.
    public static func isValid(_ signature: String, canonical: [UInt8], key: NoteVerifierKey) -> Bool {
        guard signature.utf8.count == 92, let bytes = StrictBase64.decode(Substring(signature), maxBytes: 68), bytes.count == 68 else {
            return false
        }
        let hash = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        guard hash == key.keyHash else { return false }
        return (try? key.publicKey.isValidSignature(Array(bytes[4...]), for: message(canonical))) == true
    }
}
