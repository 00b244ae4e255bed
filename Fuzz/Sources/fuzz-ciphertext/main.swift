// Ciphertext files (`eduvault decrypt/add/multiply`): python-paillier's {"v": "<decimal>", "e": <exponent>}.
//
// Path: PaillierJSON.decodeCiphertext, as CiphertextIO.read does, then what `decrypt` does with the result.
// Properties: a decoded ciphertext lies in Z*_{n²} with an exponent within ±limit; it re-encodes to a file that
// decodes to the same value; it decrypts to a value that either decodes or is reported as overflow; c · c⁻¹ = Enc(0).
import BigNum
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier

let key = Fuzz.fixtureKey
let pub = key.publicKey

Fuzz.run { data in
    guard let number = try? PaillierJSON.decodeCiphertext(data, key: pub) else { return }
    let c = number.ciphertext
    Fuzz.require(!c.value.isZero && !c.value.isNegative && c.value < pub.nSquared, "decoded a value outside (0, n²)")
    Fuzz.require((try? c.value.isCoprime(to: pub.n)) == true, "decoded a value sharing a factor with n")
    Fuzz.require(EncodedNumber.isValidExponent(number.exponent), "decoded an exponent beyond the limit")
    Fuzz.require(number.keyID == nil || number.keyID == pub.keyID, "accepted another key's key_id")

    // Round trip through the file format.
    let text = PaillierJSON.encodeCiphertext(number, key: pub)
    guard let again = try? PaillierJSON.decodeCiphertext(Data(text.utf8), key: pub) else {
        return Fuzz.require(false, "the re-encoded ciphertext does not decode")
    }
    Fuzz.require(again.ciphertext == c && again.exponent == number.exponent && again.keyID == pub.keyID,
                 "decode → encode → decode changed the ciphertext")

    // What `decrypt` does: decrypt, decode with the exponent, print exactly and as python-paillier would.
    guard let raw = try? key.decrypt(c) else { return Fuzz.require(false, "a valid ciphertext did not decrypt") }
    Fuzz.require(!raw.isNegative && raw < pub.n, "decryption left 0 ..< n")
    // Printing is exact, so its cost grows with |e| (about 0.3 s at the limit, which HardeningTests covers); the
    // fuzzer prints only moderate exponents, to keep thousands of inputs a second.
    if number.exponent.magnitude <= 4096, let decoded = try? EncodedNumber.decode(raw, exponent: number.exponent, key: pub) {
        Fuzz.require(decoded.mantissa.magnitude <= pub.maxInt, "decoded a mantissa beyond max_int")
        Fuzz.require((try? decoded.displayString) != nil, "a decoded value cannot be printed")
        Fuzz.require((try? decoded.exactDecimalString) != nil, "a decoded value cannot be printed exactly")
    }

    // Homomorphic identity: c · c⁻¹ decrypts to 0.
    guard let negated = try? pub.negate(c) else { return Fuzz.require(false, "a valid ciphertext cannot be negated") }
    Fuzz.require((try? key.decrypt(pub.add(c, negated)))?.isZero == true, "c · c⁻¹ is not Enc(0)")
}
