public import Foundation
import BigNum
public import Primitives

/// python-paillier's JSON forms: JWK keys (`kty: "DAJ"`, `alg: "PAI-GN1"`, base64url big-endian integers) and
/// single ciphertexts `{"v": "<decimal>", "e": <exponent>}`.
public enum PaillierJSON {
    /// Default `kid` text for keys EduVault writes.
    public static func defaultKeyDescription(kind: String) -> String {
        "EduVault Paillier \(kind) key generated on \(ISO8601DateFormatter().string(from: Date()))"
    }

    // MARK: Public keys

    /// The public key as a JWK object.
    public static func jwkObject(_ key: PublicKey, kid: String) -> [String: Any] {
        ["kty": "DAJ", "alg": "PAI-GN1", "key_ops": ["encrypt"], "n": Base64URL.encode(key.n.bigEndianBytes), "kid": kid]
    }

    /// Serialises a public key as python-paillier's JWK JSON (one line, newline-terminated).
    ///
    /// - Throws: ``PaillierError/Code/internalFailure`` if the JSON cannot be produced.
    public static func encodePublicKey(_ key: PublicKey, kid: String) throws(PaillierError) -> Data {
        try serialize(jwkObject(key, kid: kid))
    }

    /// Reads a public key from python-paillier's JWK JSON (a public key file, or the `pub` member of a private one).
    ///
    /// - Throws: ``PaillierError/Code/malformedKey`` for anything that is not such a key, with what is wrong;
    ///   ``PaillierError/Code/keyTooSmall`` below 2048 bits unless `allowInsecureSize`.
    public static func decodePublicKey(_ data: Data, allowInsecureSize: Bool = false) throws(PaillierError) -> PublicKey {
        let object = try parseObject(data, what: "public key")
        if object["p"] != nil || object["q"] != nil, let pub = object["pub"] as? [String: Any] {
            return try publicKey(from: pub, allowInsecureSize: allowInsecureSize)
        }
        return try publicKey(from: object, allowInsecureSize: allowInsecureSize)
    }

    static func publicKey(from object: [String: Any], allowInsecureSize: Bool) throws(PaillierError) -> PublicKey {
        guard object["kty"] as? String == "DAJ" else {
            throw PaillierError(.malformedKey, "not a Paillier key: \"kty\" must be \"DAJ\"")
        }
        guard object["alg"] as? String == "PAI-GN1" else {
            throw PaillierError(.malformedKey, "not a Paillier public key: \"alg\" must be \"PAI-GN1\"")
        }
        if let ops = object["key_ops"] as? [String], !ops.contains("encrypt") {
            throw PaillierError(.malformedKey, "the public key's \"key_ops\" does not allow \"encrypt\"")
        }
        let n = try integer(object, "n", what: "public key")
        return try PublicKey(n: n, allowInsecureSize: allowInsecureSize)
    }

    // MARK: Private keys

    /// Serialises a private key as python-paillier's JWK JSON (`p`, `q`, `pub`).
    ///
    /// Security: the result holds the secret factors; write it with mode 0600 and never log it.
    public static func encodePrivateKey(_ key: borrowing PrivateKey, kid: String, publicKid: String)
        throws(PaillierError) -> Data
    {
        try serialize(privateObject(key, kid: kid, publicKid: publicKid))
    }

    static func privateObject(_ key: borrowing PrivateKey, kid: String, publicKid: String) -> [String: Any] {
        let (p, q) = key.factors
        return [
            "kty": "DAJ", "key_ops": ["decrypt"],
            "p": Base64URL.encode(p.bigEndianBytes), "q": Base64URL.encode(q.bigEndianBytes),
            "pub": jwkObject(key.publicKey, kid: publicKid), "kid": kid,
        ]
    }

    /// Serialises a private key with its factors sealed under a passphrase (scrypt + AES-256-GCM).
    ///
    /// The file keeps python-paillier's outer shape (`kty`, `key_ops`, `pub`, `kid`) so tools can read the public
    /// part, but `p` and `q` are replaced by an `eduvault_sealed` member that only EduVault opens.
    ///
    /// - Parameter cost: the scrypt cost; keep the default (N = 2^15, r = 8, p = 1) for every real key. A lower cost
    ///   is for test files only (the fuzz seeds use one so each input opens in microseconds).
    public static func encodePrivateKey(_ key: borrowing PrivateKey, kid: String, publicKid: String,
                                        passphrase: String,
                                        cost: (n: UInt64, r: UInt64, p: UInt64) = PassphraseSealing.defaultCost)
        throws(PaillierError) -> Data
    {
        let (p, q) = key.factors
        let factors = ["p": Base64URL.encode(p.bigEndianBytes), "q": Base64URL.encode(q.bigEndianBytes)]
        var secret = Array(try serialize(factors))
        defer { secureWipe(&secret) }
        let sealed: PassphraseSealing.Sealed
        do { sealed = try PassphraseSealing.seal(secret, passphrase: passphrase, cost: cost) } catch {
            throw PaillierError(.passphrase, "could not protect the key: \(error.message)")
        }
        let sealedObject: [String: Any] = [
            "kdf": sealed.kdf, "N": sealed.n, "r": sealed.r, "p": sealed.p,
            "salt": Base64URL.encode(sealed.salt), "nonce": Base64URL.encode(sealed.nonce),
            "ct": Base64URL.encode(sealed.ciphertext), "tag": Base64URL.encode(sealed.tag), "cipher": "aes-256-gcm",
        ]
        return try serialize([
            "kty": "DAJ", "key_ops": ["decrypt"], "pub": jwkObject(key.publicKey, kid: publicKid), "kid": kid,
            "eduvault_sealed": sealedObject,
        ])
    }

    /// Whether a private key file is passphrase-protected (`false` for anything that is not a JSON object).
    public static func isSealed(_ data: Data) -> Bool {
        (try? parseObject(data, what: "private key"))?["eduvault_sealed"] != nil
    }

    /// The passphrase envelope of a sealed private key file, checked but not opened (no key derivation is run):
    /// `nil` for a file without one.
    ///
    /// - Throws: ``PaillierError/Code/malformedKey`` for a file that is not a JSON object or an envelope with a
    ///   missing or malformed member; ``PaillierError/Code/passphrase`` for parameters
    ///   `PassphraseSealing.validate(_:)` refuses (a scrypt cost beyond its limits, say).
    public static func sealedEnvelope(_ data: Data) throws(PaillierError) -> PassphraseSealing.Sealed? {
        let object = try parseObject(data, what: "private key")
        guard let member = object["eduvault_sealed"] else { return nil }
        guard let sealedObject = member as? [String: Any] else {
            throw PaillierError(.malformedKey, "the protected key's \"eduvault_sealed\" is not an object")
        }
        return try envelope(sealedObject)
    }

    /// Reads and fully checks a private key from python-paillier's JWK JSON (or EduVault's sealed variant).
    ///
    /// - Throws: ``PaillierError/Code/malformedKey``, ``PaillierError/Code/invalidKey`` (p = q, composite
    ///   factors, p·q ≠ n…), ``PaillierError/Code/keyTooSmall``, ``PaillierError/Code/passphrase``.
    public static func decodePrivateKey(_ data: Data, passphrase: String? = nil, allowInsecureSize: Bool = false)
        throws(PaillierError) -> PrivateKey
    {
        var object = try parseObject(data, what: "private key")
        guard object["kty"] as? String == "DAJ" else {
            throw PaillierError(.malformedKey, "not a Paillier key: \"kty\" must be \"DAJ\"")
        }
        guard let ops = object["key_ops"] as? [String], ops.contains("decrypt") else {
            throw PaillierError(.malformedKey,
                                "not a Paillier private key: \"key_ops\" must contain \"decrypt\" (is this a public key?)")
        }
        guard let pubObject = object["pub"] as? [String: Any] else {
            throw PaillierError(.malformedKey, "the private key has no \"pub\" member")
        }
        let pub = try publicKey(from: pubObject, allowInsecureSize: allowInsecureSize)
        if let member = object["eduvault_sealed"] {
            guard let sealedObject = member as? [String: Any] else {
                throw PaillierError(.malformedKey, "the protected key's \"eduvault_sealed\" is not an object")
            }
            let sealed = try envelope(sealedObject)
            guard let passphrase else {
                throw PaillierError(.passphrase,
                                    "the private key is passphrase-protected: set EDUVAULT_PASSPHRASE or use --passphrase-file")
            }
            var opened: [UInt8]
            do { opened = try PassphraseSealing.open(sealed, passphrase: passphrase) } catch {
                throw PaillierError(.passphrase, error.message)
            }
            defer { secureWipe(&opened) }
            let inner = try parseObject(Data(opened), what: "private key")
            object["p"] = inner["p"]
            object["q"] = inner["q"]
        }
        let p = try integer(object, "p", what: "private key", secret: true)
        let q = try integer(object, "q", what: "private key", secret: true)
        return try PrivateKey(p: p, q: q, publicKey: pub, allowInsecureSize: allowInsecureSize)
    }

    /// Reads and validates the `eduvault_sealed` member (everything up to the key derivation).
    static func envelope(_ o: [String: Any]) throws(PaillierError) -> PassphraseSealing.Sealed {
        func bytes(_ k: String) throws(PaillierError) -> [UInt8] {
            guard let s = o[k] as? String, let b = Base64URL.decode(s) else {
                throw PaillierError(.malformedKey, "the protected key's \"\(k)\" is missing or not base64url")
            }
            return b
        }
        func number(_ k: String) throws(PaillierError) -> UInt64 {
            // `as? Int` converts exactly (no truncation of 1e300 or 2.5); the value must be positive.
            guard let v = o[k] as? Int, v > 0 else {
                throw PaillierError(.malformedKey, "the protected key's \"\(k)\" is missing or not a positive integer")
            }
            return UInt64(v)
        }
        guard let kdf = o["kdf"] as? String else {
            throw PaillierError(.malformedKey, "the protected key's \"kdf\" is missing")
        }
        if let cipher = o["cipher"], cipher as? String != "aes-256-gcm" {
            throw PaillierError(.malformedKey, "the protected key's \"cipher\" must be \"aes-256-gcm\"")
        }
        let sealed = PassphraseSealing.Sealed(
            kdf: kdf, n: try number("N"), r: try number("r"), p: try number("p"),
            salt: try bytes("salt"), nonce: try bytes("nonce"), ciphertext: try bytes("ct"), tag: try bytes("tag"))
        do { try PassphraseSealing.validate(sealed) } catch { throw PaillierError(.passphrase, error.message) }
        return sealed
    }

    // MARK: Ciphertexts

    /// The largest exponent magnitude a ciphertext file may carry: ``EncodedNumber/exponentLimit``.
    public static let exponentLimit = EncodedNumber.exponentLimit

    /// A ciphertext with its python-paillier exponent.
    public struct EncryptedNumber: Sendable, Equatable {
        public var ciphertext: Ciphertext
        public var exponent: Int
        /// The EduVault key fingerprint, when the file carries one.
        public var keyID: String?

        public init(ciphertext: Ciphertext, exponent: Int, keyID: String? = nil) {
            self.ciphertext = ciphertext
            self.exponent = exponent
            self.keyID = keyID
        }
    }

    /// `{"v": "<decimal>", "e": <exponent>, "key_id": "<fingerprint>"}` — python-paillier reads `v` and `e` and
    /// ignores `key_id`, which EduVault uses to refuse a ciphertext made under another key.
    public static func encodeCiphertext(_ number: EncryptedNumber, key: PublicKey) -> String {
        "{\"v\": \"\(number.ciphertext.value.decimalString)\", \"e\": \(number.exponent), \"key_id\": \"\(key.keyID)\"}"
    }

    /// Reads and validates a ciphertext file in python-paillier's form.
    ///
    /// - Throws: ``PaillierError/Code/malformedCiphertext`` (not JSON, missing or non-canonical `v`, bad `e`),
    ///   ``PaillierError/Code/wrongKey`` (a `key_id` of another key), ``PaillierError/Code/invalidCiphertext``.
    public static func decodeCiphertext(_ data: Data, key: PublicKey) throws(PaillierError) -> EncryptedNumber {
        let object = try parseObject(data, what: "ciphertext", code: .malformedCiphertext)
        guard let v = object["v"] as? String else {
            throw PaillierError(.malformedCiphertext, "the ciphertext has no \"v\" string (expected {\"v\": \"…\", \"e\": …})")
        }
        // `magnitude`, not `abs`: abs(Int.min) traps, and "e" is whatever the file says.
        guard let e = object["e"] as? Int, e.magnitude <= UInt(exponentLimit) else {
            throw PaillierError(.malformedCiphertext,
                                "the ciphertext's \"e\" must be an integer exponent within ±\(exponentLimit)")
        }
        if let kid = object["key_id"] as? String, kid != key.keyID {
            throw PaillierError(.wrongKey, "the ciphertext was made under another key (\(kid)), not this one (\(key.keyID))")
        }
        // A value below n² has at most ⌊bits · log₁₀ 2⌋ + 1 digits; refuse longer text before converting it.
        guard v.utf8.count <= key.nSquared.bitCount * 30_103 / 100_000 + 2 else {
            throw PaillierError(.invalidCiphertext,
                                "the ciphertext is not below n² of this key (it has too many digits)")
        }
        let digits = v.utf8.first == UInt8(ascii: "-") ? v.utf8.dropFirst() : v.utf8[...]
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw PaillierError(.malformedCiphertext, "the ciphertext's \"v\" is not a decimal integer")
        }
        guard v.utf8.first != UInt8(ascii: "0") || v == "0", !v.hasPrefix("-0") else {
            throw PaillierError(.malformedCiphertext, "the ciphertext's \"v\" is not a canonical decimal (leading zeros)")
        }
        let value: BigNum
        do { value = try BigNum(decimal: v) } catch {
            throw PaillierError(.malformedCiphertext, "the ciphertext's \"v\" is not a decimal integer")
        }
        return EncryptedNumber(ciphertext: try key.ciphertext(validating: value), exponent: e, keyID: object["key_id"] as? String)
    }

    // MARK: Helpers

    static func serialize(_ object: [String: Any]) throws(PaillierError) -> Data {
        // Sorted keys give stable files; the dictionaries hold only strings, numbers and arrays of them.
        var data: Data
        do { data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) } catch {
            throw PaillierError(.internalFailure, "the key could not be written as JSON")
        }
        data.append(UInt8(ascii: "\n"))
        return data
    }

    static func parseObject(_ data: Data, what: String, code: PaillierError.Code = .malformedKey)
        throws(PaillierError) -> [String: Any]
    {
        guard data.count <= 1 << 20 else { throw PaillierError(code, "the \(what) file is larger than 1 MiB") }
        guard let any = try? JSONSerialization.jsonObject(with: data) else {
            throw PaillierError(code, "the \(what) file is not valid JSON")
        }
        guard let object = any as? [String: Any] else {
            throw PaillierError(code, "the \(what) file is not a JSON object")
        }
        return object
    }

    static func integer(_ object: [String: Any], _ field: String, what: String, secret: Bool = false)
        throws(PaillierError) -> BigNum
    {
        guard let text = object[field] as? String else {
            throw PaillierError(.malformedKey, "the \(what) has no \"\(field)\" string")
        }
        guard let bytes = Base64URL.decode(text), bytes.first != 0 || bytes.count == 1 else {
            throw PaillierError(.malformedKey, "the \(what)'s \"\(field)\" is not a base64url big-endian integer")
        }
        guard bytes.count <= 2048 else { throw PaillierError(.malformedKey, "the \(what)'s \"\(field)\" is too large") }
        do { return try BigNum(bigEndian: bytes, secret: secret) } catch {
            throw PaillierError(.malformedKey, "the \(what)'s \"\(field)\" cannot be read: \(error.message)")
        }
    }
}
