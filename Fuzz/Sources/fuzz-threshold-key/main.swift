// Threshold key files (`release decrypt --threshold`, `vault init --threshold`): threshold.json of a ceremony.
//
// Path: ThresholdJSON.decode, with and without the test-size flag, as the commands do.
// Properties: a decoded key has 2…32 parties with indexes 1…l and distinct names, 1 ≤ t ≤ l, Δ = l!, v and every
// v_i in Z*_{n²} and not 1; it re-encodes to a file that decodes to the same key (same ceremony id and key id); a key
// accepted strictly is accepted with the flag.
import BigNum
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier

Fuzz.run { data in
    let strict = try? ThresholdJSON.decode(data)
    guard let key = try? ThresholdJSON.decode(data, allowInsecureSize: true) else {
        return Fuzz.require(strict == nil, "a threshold key accepted strictly was refused with the test-size flag")
    }
    Fuzz.require((2...ThresholdPublicKey.maximumParties).contains(key.partyCount), "decoded \(key.partyCount) parties")
    Fuzz.require((1...key.partyCount).contains(key.threshold), "decoded a threshold out of range")
    Fuzz.require(key.parties.enumerated().allSatisfy { $0.offset + 1 == $0.element.index }, "indexes out of order")
    Fuzz.require(Set(key.parties.map(\.name)).count == key.partyCount, "a repeated party name")
    var factorial = BigNum(1)
    for i in 1...key.partyCount { factorial = factorial * BigNum(i) }
    Fuzz.require(key.delta == factorial, "Δ is not l!")
    let n2 = key.publicKey.nSquared
    for value in [key.v] + key.parties.map(\.verificationKey) {
        Fuzz.require(!value.isNegative && !value.isZero && !value.isOne && value < n2, "a verification value out of range")
    }
    if let strict { Fuzz.require(strict == key, "the strict decode differs") }
    guard let encoded = try? ThresholdJSON.encode(key, kid: "fuzz", created: "fuzz"),
          let again = try? ThresholdJSON.decode(encoded, allowInsecureSize: true)
    else { return Fuzz.require(false, "the re-encoded threshold key does not decode") }
    Fuzz.require(again == key && again.ceremonyID == key.ceremonyID && again.publicKey.keyID == key.publicKey.keyID
                 && again.parties == key.parties && again.threshold == key.threshold,
                 "decode → encode → decode changed the threshold key")
}
