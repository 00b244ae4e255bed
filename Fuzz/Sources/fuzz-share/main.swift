// Threshold key shares (`release share --share`): one party's share-PARTY.json, plain or sealed.
//
// Path: ThresholdJSON.decodeShare with the seeds' passphrase, as `release share` does.
// Properties: a share that decodes matches its verification key (v^(Δ·s_i) = v_i), names a party of its own key, and
// its partial decryption of a fixed ciphertext verifies under that key; it re-encodes to a file that decodes to the
// same share.
import BigNum
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier

let context = Array("fuzz".utf8)

Fuzz.run { data in
    guard let share = try? ThresholdJSON.decodeShare(data, passphrase: "fuzz passphrase", allowInsecureSize: true) else {
        return
    }
    let key = share.key
    Fuzz.require(key.party(index: share.party.index) == share.party, "the share names no party of its key")
    let x = (key.delta * share.secret).publicCopy()  // a test property: variable time is fine here
    Fuzz.require((try? key.v.power(x, modulo: key.publicKey.nSquared)) == share.party.verificationKey,
                 "a decoded share does not match its verification key")
    guard let c = try? key.publicKey.encrypt(BigNum(12345)), let partial = try? share.partiallyDecrypt(c, context: context)
    else { return Fuzz.require(false, "a decoded share cannot decrypt partially") }
    Fuzz.require(key.verify(partial, of: c, context: context) == nil, "a decoded share's proof does not verify")
    guard let encoded = try? ThresholdJSON.encode(share, kid: "fuzz", keyKid: "fuzz", created: "fuzz"),
          let again = try? ThresholdJSON.decodeShare(encoded, allowInsecureSize: true)
    else { return Fuzz.require(false, "the re-encoded share does not decode") }
    Fuzz.require(again.secret == share.secret && again.party == share.party && again.key == key,
                 "decode → encode → decode changed the share")
}
