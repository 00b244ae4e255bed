// Private key files without a passphrase (`decrypt`, `release decrypt`): python-paillier's JWK with p, q, pub.
//
// Path: PaillierJSON.decodePrivateKey, as KeyLoading.privateKey does for an unsealed file.
// Properties: a decoded key's p·q is its public n and `keys show` reads the same public key from the file; it
// decrypts what its public key encrypts; it re-encodes to a file that decodes to the same factors.
import BigNum
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier

Fuzz.run { data in
    guard !PaillierJSON.isSealed(data) else { return }
    guard let key = try? PaillierJSON.decodePrivateKey(data, allowInsecureSize: true) else { return }
    let (p, q) = key.factors
    Fuzz.require(p * q == key.publicKey.n, "p·q differs from n")
    Fuzz.require((try? PaillierJSON.decodePublicKey(data, allowInsecureSize: true)) == key.publicKey,
                 "keys show would read another public key from this file")
    let m = BigNum(UInt64(data.count))
    guard let c = try? key.publicKey.encrypt(m), let back = try? key.decryptRaw(c) else {
        return Fuzz.require(false, "a decoded key cannot encrypt and decrypt")
    }
    Fuzz.require(back == m, "Dec(Enc(m)) ≠ m")
    guard let encoded = try? PaillierJSON.encodePrivateKey(key, kid: "fuzz", publicKid: "fuzz"),
          let again = try? PaillierJSON.decodePrivateKey(encoded, allowInsecureSize: true)
    else { return Fuzz.require(false, "the re-encoded key does not decode") }
    Fuzz.require(again.factors.p == p && again.factors.q == q && again.publicKey == key.publicKey,
                 "decode → encode → decode changed the key")
}
