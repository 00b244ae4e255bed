public import Foundation
import BigNum
public import Primitives

/// The files of a threshold key: `threshold.json` (public: parties, threshold, Δ, v and the verification keys, the
/// key id and the ceremony id) and `share-PARTY.json` (one party's secret share, optionally sealed under a
/// passphrase). Integers are base64url big-endian, as in python-paillier's JWK files; the Paillier public key itself
/// stays python-paillier's `public.json`.
public enum ThresholdJSON {
    /// The format tag of a share file.
    public static let shareFormatTag = "eduvault-threshold-share/1"
    /// The largest threshold or share file read: 1 MiB (a 32-party 8192-bit key is about 120 KiB).
    public static let maxFileBytes = 1 << 20

    // MARK: threshold.json

    /// The public threshold key as a JSON object.
    public static func object(_ key: ThresholdPublicKey, kid: String, created: String) -> [String: Any] {
        [
            "format": ThresholdPublicKey.formatTag, "scheme": "paillier-threshold-damgard-jurik-s1",
            "kid": kid, "created": created,
            "key_id": key.publicKey.keyID, "bits": key.publicKey.bitCount,
            "n": Base64URL.encode(key.publicKey.n.bigEndianBytes),
            "threshold": key.threshold, "delta": key.delta.decimalString,
            "v": Base64URL.encode(key.v.bigEndianBytes),
            "parties": key.parties.map { party in
                ["name": party.name, "index": party.index,
                 "verification_key": Base64URL.encode(party.verificationKey.bigEndianBytes)] as [String: Any]
            },
            "ceremony": key.ceremonyID,
            "verification_keys_sha256": Hex.encode(key.verificationKeysDigest),
        ]
    }

    /// Serialises the public threshold key (`threshold.json`), sorted keys, newline-terminated.
    ///
    /// - Throws: ``PaillierError/Code/internalFailure`` if the JSON cannot be produced.
    public static func encode(_ key: ThresholdPublicKey, kid: String, created: String) throws(PaillierError) -> Data {
        try PaillierJSON.serialize(object(key, kid: kid, created: created))
    }

    /// Reads and checks `threshold.json`: every field present and well formed, t and the parties in range, Δ = l!,
    /// every verification key an element of Z*_{n²}, and the stated key id and ceremony id equal to the ones
    /// computed from the values.
    ///
    /// - Throws: ``PaillierError/Code/malformedKey`` for a file that is not such a key (with what is wrong);
    ///   ``PaillierError/Code/invalidKey`` for inconsistent values; ``PaillierError/Code/keyTooSmall`` below 2048
    ///   bits unless `allowInsecureSize`.
    /// - Complexity: linear in the file, plus one coprimality check per verification key.
    public static func decode(_ data: Data, allowInsecureSize: Bool = false) throws(PaillierError) -> ThresholdPublicKey {
        try key(from: PaillierJSON.parseObject(data, what: "threshold key"), allowInsecureSize: allowInsecureSize)
    }

    static func key(from object: [String: Any], allowInsecureSize: Bool) throws(PaillierError) -> ThresholdPublicKey {
        guard object["format"] as? String == ThresholdPublicKey.formatTag else {
            throw PaillierError(.malformedKey, "not a threshold key file: \"format\" must be \"\(ThresholdPublicKey.formatTag)\""
                                + " (give the ceremony's threshold.json)")
        }
        let n = try PaillierJSON.integer(object, "n", what: "threshold key")
        let publicKey = try PublicKey(n: n, allowInsecureSize: allowInsecureSize)
        guard let threshold = object["threshold"] as? Int else {
            throw PaillierError(.malformedKey, "the threshold key has no integer \"threshold\"")
        }
        guard let list = object["parties"] as? [[String: Any]], list.count <= ThresholdPublicKey.maximumParties else {
            throw PaillierError(.malformedKey, "the threshold key's \"parties\" is not a list of at most "
                                + "\(ThresholdPublicKey.maximumParties) parties")
        }
        var parties: [ThresholdParty] = []
        for entry in list {
            guard let name = entry["name"] as? String, let index = entry["index"] as? Int else {
                throw PaillierError(.malformedKey, "a party of the threshold key lacks its \"name\" or \"index\"")
            }
            let vi = try PaillierJSON.integer(entry, "verification_key", what: "threshold key")
            parties.append(ThresholdParty(name: name, index: index, verificationKey: vi))
        }
        let v = try PaillierJSON.integer(object, "v", what: "threshold key")
        let key = try ThresholdPublicKey(publicKey: publicKey, threshold: threshold, parties: parties, v: v)
        guard object["delta"] as? String == key.delta.decimalString else {
            throw PaillierError(.invalidKey, "the threshold key's \"delta\" is not l! for its \(parties.count) parties")
        }
        guard object["key_id"] as? String == publicKey.keyID else {
            throw PaillierError(.invalidKey, "the threshold key's \"key_id\" does not match its n (the file was altered)")
        }
        guard object["ceremony"] as? String == key.ceremonyID else {
            throw PaillierError(.invalidKey, "the threshold key's \"ceremony\" id does not match its values "
                                + "(the file was altered)")
        }
        return key
    }

    // MARK: share-PARTY.json

    /// Serialises one party's share, with the whole public threshold key inside (so the party needs only this file
    /// and a release). With a passphrase, s_i is sealed (scrypt + AES-256-GCM, as for a private key).
    ///
    /// - Parameters:
    ///   - kid: the share's description; `keyKid` that of the threshold key inside it (as in `threshold.json`).
    ///   - cost: the scrypt cost; keep the default for every real share.
    /// - Throws: ``PaillierError/Code/passphrase`` when sealing fails; ``PaillierError/Code/internalFailure``.
    /// Security: the result holds the secret share (unless sealed); write it with mode 0600 and never log it.
    public static func encode(_ share: ThresholdShare, kid: String, keyKid: String, created: String,
                              passphrase: String? = nil,
                              cost: (n: UInt64, r: UInt64, p: UInt64) = PassphraseSealing.defaultCost)
        throws(PaillierError) -> Data
    {
        var object: [String: Any] = [
            "format": shareFormatTag, "kid": kid, "created": created,
            "party": share.party.name, "index": share.party.index,
            "key_id": share.key.publicKey.keyID, "ceremony": share.key.ceremonyID,
            "threshold_key": self.object(share.key, kid: keyKid, created: created),
        ]
        let encoded = Base64URL.encode(share.secret.bigEndianBytes)
        if let passphrase {
            var secret = Array(try PaillierJSON.serialize(["share": encoded]))
            defer { secureWipe(&secret) }
            let sealed: PassphraseSealing.Sealed
            do { sealed = try PassphraseSealing.seal(secret, passphrase: passphrase, cost: cost) } catch {
                throw PaillierError(.passphrase, "could not protect the share: \(error.message)")
            }
            object["eduvault_sealed"] = [
                "kdf": sealed.kdf, "N": sealed.n, "r": sealed.r, "p": sealed.p,
                "salt": Base64URL.encode(sealed.salt), "nonce": Base64URL.encode(sealed.nonce),
                "ct": Base64URL.encode(sealed.ciphertext), "tag": Base64URL.encode(sealed.tag), "cipher": "aes-256-gcm",
            ] as [String: Any]
        } else {
            object["share"] = encoded
        }
        return try PaillierJSON.serialize(object)
    }

    /// Whether a share file is passphrase-protected (`false` for anything that is not a JSON object).
    public static func isSealed(_ data: Data) -> Bool {
        (try? PaillierJSON.parseObject(data, what: "share"))?["eduvault_sealed"] != nil
    }

    /// The party a share file names, without opening it (for messages); `nil` when the file does not say.
    public static func partyName(_ data: Data) -> String? {
        guard let name = (try? PaillierJSON.parseObject(data, what: "share"))?["party"] as? String,
              ThresholdParty.isValidName(name) else { return nil }
        return name
    }

    /// Reads a share file, opens it with the passphrase when sealed, and checks the share against its verification
    /// key (v^(Δ·s_i) = v_i).
    ///
    /// - Throws: ``PaillierError/Code/malformedKey`` for a file that is not a share (with what is wrong);
    ///   ``PaillierError/Code/passphrase`` for a sealed file without the right passphrase;
    ///   ``PaillierError/Code/invalidKey`` for a share that does not match its key; ``PaillierError/Code/keyTooSmall``
    ///   below 2048 bits unless `allowInsecureSize`.
    /// - Complexity: one constant-time exponentiation modulo n² (the check), plus scrypt when sealed.
    public static func decodeShare(_ data: Data, passphrase: String? = nil, allowInsecureSize: Bool = false)
        throws(PaillierError) -> ThresholdShare
    {
        let object = try PaillierJSON.parseObject(data, what: "share")
        guard object["format"] as? String == shareFormatTag else {
            throw PaillierError(.malformedKey, "not a threshold key share: \"format\" must be \"\(shareFormatTag)\"")
        }
        guard let keyObject = object["threshold_key"] as? [String: Any] else {
            throw PaillierError(.malformedKey, "the share has no \"threshold_key\" object")
        }
        let key = try key(from: keyObject, allowInsecureSize: allowInsecureSize)
        guard let name = object["party"] as? String, let index = object["index"] as? Int,
              let party = key.party(index: index), party.name == name
        else { throw PaillierError(.malformedKey, "the share's \"party\" and \"index\" do not name a party of its key") }
        var shareText: String
        if let member = object["eduvault_sealed"] {
            guard let sealedObject = member as? [String: Any] else {
                throw PaillierError(.malformedKey, "the protected share's \"eduvault_sealed\" is not an object")
            }
            let sealed = try PaillierJSON.envelope(sealedObject)
            guard let passphrase else {
                throw PaillierError(.passphrase, "the share of \(name) is passphrase-protected: set EDUVAULT_PASSPHRASE "
                                    + "or use --passphrase-file")
            }
            var opened: [UInt8]
            do { opened = try PassphraseSealing.open(sealed, passphrase: passphrase) } catch {
                throw PaillierError(.passphrase, error.message)
            }
            defer { secureWipe(&opened) }
            guard let text = try PaillierJSON.parseObject(Data(opened), what: "share")["share"] as? String else {
                throw PaillierError(.malformedKey, "the protected share holds no \"share\"")
            }
            shareText = text
        } else {
            guard let text = object["share"] as? String else {
                throw PaillierError(.malformedKey, "the share file has no \"share\" (nor a sealed one)")
            }
            shareText = text
        }
        let secret = try PaillierJSON.integer(["share": shareText], "share", what: "share", secret: true)
        shareText = ""
        return try ThresholdShare(key: key, index: index, secret: secret)
    }
}
