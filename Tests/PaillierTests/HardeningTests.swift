@testable import BigNum
import Foundation
@testable import Paillier
import Testing

/// Issue 14: numbers read from input never trap, and no failure turns into a plausible-looking value.
@Suite("Hardening: numbers from input are checked")
struct HardeningTests {
    let key = Fixtures.key1024
    var pub: PublicKey { key.publicKey }

    func file(_ value: BigNum, exponent: String) -> Data {
        Data("{\"v\": \"\(value.decimalString)\", \"e\": \(exponent)}".utf8)
    }

    @Test("A ciphertext exponent of Int.min, Int.max or beyond ±limit is refused, not trapped on")
    func extremeExponents() throws {
        let c = try pub.encrypt(BigNum(7)).value
        for exponent in ["-9223372036854775808", "9223372036854775807", "-100001", "100001", "1e300",
                         "18446744073709551616", "-9223372036854775809"] {
            let error = #expect(throws: PaillierError.self, "\(exponent)") {
                try PaillierJSON.decodeCiphertext(file(c, exponent: exponent), key: pub)
            }
            #expect(error?.code == .malformedCiphertext, "\(exponent)")
        }
        for exponent in [-100_000, 0, 100_000] {
            #expect(try PaillierJSON.decodeCiphertext(file(c, exponent: String(exponent)), key: pub).exponent == exponent)
        }
    }

    @Test("A ciphertext with more digits than any value below n² is refused before it is converted")
    func tooManyDigits() throws {
        let digits = pub.nSquared.decimalString.count
        let long = "1" + String(repeating: "0", count: digits + 1)
        let error = #expect(throws: PaillierError.self) {
            try PaillierJSON.decodeCiphertext(Data("{\"v\": \"\(long)\", \"e\": 0}".utf8), key: pub)
        }
        #expect(error?.code == .invalidCiphertext)
        let huge = String(repeating: "9", count: 200_000)
        #expect(throws: PaillierError.self) { try PaillierJSON.decodeCiphertext(Data("{\"v\": \"\(huge)\", \"e\": 0}".utf8), key: pub) }
    }

    @Test("Encoded numbers with exponents outside ±limit throw instead of trapping or allocating without bound")
    func encodedNumberExponents() throws {
        for exponent in [Int.min, Int.max, -100_001, 100_001] {
            let number = EncodedNumber(mantissa: BigNum(3), exponent: exponent)
            #expect(throws: PaillierError.self, "\(exponent)") { try number.exactDecimalString }
            #expect(throws: PaillierError.self, "\(exponent)") { try number.displayString }
            #expect(throws: PaillierError.self, "\(exponent)") { try number.decreasingExponent(to: -100_000) }
        }
        let number = EncodedNumber(mantissa: BigNum(3), exponent: 0)
        #expect(throws: PaillierError.self) { try number.decreasingExponent(to: Int.min) }
        #expect(throws: PaillierError.self) { try number.decreasingExponent(to: 1) }
        #expect(try number.decreasingExponent(to: -1).exactDecimalString == "3")
        #expect(try EncodedNumber(mantissa: BigNum(-3), exponent: -100_000).exactDecimalString.count == 400_003)
    }
}

/// Issue 14: a failed C call never becomes a plausible-looking value.
@Suite("Hardening: no silent wrong answers from Paillier")
struct SilentAnswerTests {
    let key = Fixtures.key1024
    var pub: PublicKey { key.publicKey }

    @Test("negate throws when the inverse does not exist (it returned its input: Enc(a) for Enc(−a))")
    func negateWithoutInverse() throws {
        let (p, _) = try Fixtures.privateKey("eduvault-1024").factors
        // Not a unit modulo n²: no validated ciphertext is like this, but the failure path must not answer.
        let broken = Ciphertext(unchecked: p.publicCopy())
        let error = #expect(throws: PaillierError.self) { try pub.negate(broken) }
        #expect(error?.code == .invalidCiphertext)
        #expect(throws: PaillierError.self) { try pub.subtract(pub.encrypt(BigNum(1)), broken) }
    }

    @Test("multiply throws when the exponentiation fails (it returned Enc(0))")
    func multiplyFailure() throws {
        let c = try pub.encrypt(BigNum(6))
        BigNumFaults.$failing.withValue(["BN_mod_exp_mont"]) {
            let error = #expect(throws: PaillierError.self) { try pub.multiply(c, by: BigNum(7)) }
            #expect(error?.code == .internalFailure)
        }
        #expect(try key.decrypt(pub.multiply(c, by: BigNum(7))) == BigNum(42))
    }
}
