// Public key files (`--public-key`, `keys show`, `vault init`): python-paillier's JWK, or the `pub` member of a
// private key.
//
// Path: PaillierJSON.decodePublicKey, as KeyLoading.publicKey does (with and without the test-size flag).
// Properties: a decoded key has an odd modulus of 64…8192 bits (≥ 2048 without the flag); it re-encodes to a
// file that decodes to the same key and key id; the same bytes never decode to two different keys.
import BigNum
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier

Fuzz.run { data in
    let strict = try? PaillierJSON.decodePublicKey(data)
    guard let key = try? PaillierJSON.decodePublicKey(data, allowInsecureSize: true) else {
        return Fuzz.require(strict == nil, "a key accepted strictly was refused with the test-size flag")
    }
    Fuzz.require(key.n.isOdd && !key.n.isNegative, "decoded an even or negative modulus")
    Fuzz.require((64...maximumKeyBits).contains(key.bitCount), "decoded a modulus of \(key.bitCount) bits")
    if let strict {
        Fuzz.require(strict == key && strict.bitCount >= minimumProductionKeyBits, "the strict decode differs")
    } else {
        Fuzz.require(key.bitCount < minimumProductionKeyBits, "a full-size key was refused without the flag")
    }
    guard let encoded = try? PaillierJSON.encodePublicKey(key, kid: "fuzz"),
          let again = try? PaillierJSON.decodePublicKey(encoded, allowInsecureSize: true)
    else { return Fuzz.require(false, "the re-encoded key does not decode") }
    Fuzz.require(again == key && again.keyID == key.keyID && again.n == key.n, "decode → encode → decode changed the key")
}
