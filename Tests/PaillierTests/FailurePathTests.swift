@testable import BigNum
import Foundation
@testable import Paillier
import Testing

/// Issue 14: every failure path of an OpenSSL call in BigNum is reachable — through a value that makes the call
/// fail, or an injected failure (debug builds) — and ends in a typed error, never a value.
@Suite("Every BigNum C failure path ends in a typed error")
struct BigNumFailurePathTests {
    let key = Fixtures.key1024
    var pub: PublicKey { key.publicKey }

    /// Runs `body` with the OpenSSL call `name` failing, and returns the BigNumError it threw.
    func failing<T>(_ name: String, _ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation)
        -> (any Error)?
    {
        BigNumFaults.$failing.withValue([name]) {
            do {
                let value = try body()
                Issue.record("\(name): nothing was thrown; got \(value)", sourceLocation: sourceLocation)
                return nil
            } catch { return error }
        }
    }

    func expectBigNumError(_ name: String, _ code: BigNumError.Code, _ body: () throws -> some Any,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        let error = failing(name, body, sourceLocation: sourceLocation)
        #expect((error as? BigNumError)?.code == code, "\(name): \(String(describing: error))",
                sourceLocation: sourceLocation)
    }

    @Test("Values that make the calls fail: no inverse, too wide, not decimal, even modulus, too long")
    func valuesThatFail() throws {
        let six = BigNum(6), nine = BigNum(9)
        let noInverse = #expect(throws: BigNumError.self) { try six.inverse(modulo: nine) }
        #expect(noInverse?.code == .invalidArgument)
        #expect(throws: BigNumError.self) { try six.inverse(modulo: BigNum(0)) }
        #expect(try !six.isCoprime(to: nine))
        #expect(try BigNum(5).isCoprime(to: nine))
        #expect(throws: BigNumError.self) { try BigNum(70000).bigEndianBytes(width: 2) }
        #expect(throws: BigNumError.self) { try BigNum(1).bigEndianBytes(width: -1) }
        for text in ["", "-", "12x", " 1", "+1", "1e5", "0x10", String(repeating: "9", count: 100_001)] {
            let error = #expect(throws: BigNumError.self, "\(text.prefix(20))") { try BigNum(decimal: text) }
            #expect(error?.code == .malformed)
        }
        #expect(throws: BigNumError.self) { try MontgomeryContext(modulus: BigNum(10)) }
        #expect(throws: BigNumError.self) { try MontgomeryContext(modulus: BigNum(-7)) }
        let tooLong = #expect(throws: BigNumError.self) {
            try BigNum(bigEndian: [UInt8](repeating: 1, count: BigNum.maxByteCount + 1))
        }
        #expect(tooLong?.code == .tooLarge)
        #expect(throws: BigNumError.self) { try BigNum(3).power(BigNum(-1), modulo: nine) }
        #expect(throws: BigNumError.self) { try BigNum(3).power(BigNum(2), modulo: BigNum(0)) }
        #expect(throws: BigNumError.self) { try BigNum.random(below: BigNum(0)) }
        #expect(throws: BigNumError.self) { try BigNum.random(bits: -1) }
        let context = try MontgomeryContext(modulus: nine)
        #expect(throws: BigNumError.self) { try context.power(BigNum(2), BigNum(-1)) }
        #expect(throws: BigNumError.self) { try context.powerConstantTime(BigNum(2), BigNum(-1)) }
        var accumulator = ProductAccumulator(context: context)
        #expect(throws: BigNumError.self) { try accumulator.multiply(BigNum(9)) }
        #expect(throws: BigNumError.self) { try accumulator.multiply(BigNum(0)) }
        #expect(BigNum(5).bit(-1) == false && BigNum(5).bit(1 << 40) == false && BigNum(5).bit(2))
    }

    @Test("Injected failures in decoding, inverses, exponentiation, primality and randomness throw typed errors")
    func injectedFailures() throws {
        let nine = BigNum(9)
        expectBigNumError("BN_bin2bn", .internalFailure) { try BigNum(bigEndian: [1, 2, 3]) }
        expectBigNumError("BN_dec2bn", .malformed) { try BigNum(decimal: "123") }
        expectBigNumError("BN_bn2binpad", .tooLarge) { try BigNum(5).bigEndianBytes(width: 4) }
        expectBigNumError("BN_mod_exp", .internalFailure) { try BigNum(2).power(BigNum(5), modulo: nine) }
        expectBigNumError("BN_mod_inverse", .internalFailure) { try BigNum(2).inverse(modulo: nine) }
        expectBigNumError("BN_mod_inverse", .internalFailure) { try BigNum(2).isCoprime(to: nine) }
        expectBigNumError("BN_MONT_CTX_new", .internalFailure) { try MontgomeryContext(modulus: nine) }
        expectBigNumError("BN_MONT_CTX_set", .internalFailure) { try MontgomeryContext(modulus: nine) }
        let context = try MontgomeryContext(modulus: nine)
        expectBigNumError("BN_mod_exp_mont", .internalFailure) { try context.power(BigNum(2), BigNum(5)) }
        expectBigNumError("BN_mod_exp_mont_consttime", .internalFailure) {
            try context.powerConstantTime(BigNum(2), BigNum(5))
        }
        expectBigNumError("BN_check_prime", .internalFailure) { try BigNum(101).isProbablePrime() }
        expectBigNumError("BN_generate_prime_ex2", .internalFailure) { try BigNum.generatePrime(bits: 64) }
        expectBigNumError("BN_priv_rand_range_ex", .randomnessUnavailable) { try BigNum.random(below: nine) }
        expectBigNumError("BN_priv_rand_ex", .randomnessUnavailable) { try BigNum.random(bits: 64) }
        expectBigNumError("BN_bin2bn", .internalFailure) {
            var accumulator = ProductAccumulator(context: context)
            var failure: BigNumError?
            [UInt8(2)].withUnsafeBytes { bytes in
                do throws(BigNumError) { try accumulator.multiply(bigEndian: bytes) } catch { failure = error }
            }
            if let failure { throw failure }
            return accumulator.count
        }
        expectBigNumError("BN_mod_mul_montgomery", .internalFailure) {
            var accumulator = ProductAccumulator(context: context)
            try accumulator.multiply(BigNum(2))
            try accumulator.multiply(BigNum(4))
            return accumulator.count
        }
        expectBigNumError("BN_mod_exp_mont", .internalFailure) {
            var accumulator = ProductAccumulator(context: context)
            try accumulator.multiply(BigNum(2))
            try accumulator.multiply(BigNum(4))
            return try accumulator.finalize()
        }
        for name in ["BN_to_montgomery", "BN_mod_mul_montgomery", "BN_bn2lebinpad"] {
            expectBigNumError(name, .internalFailure) {
                try FixedBaseTable(context: context, base: BigNum(2), exponentBits: 8, window: 2)
            }
        }
        let table = try FixedBaseTable(context: context, base: BigNum(2), exponentBits: 8, window: 2)
        expectBigNumError("BN_lebin2bn", .internalFailure) { try table.power(BigNum(5)) }
        expectBigNumError("BN_from_montgomery", .internalFailure) { try table.power(BigNum(5)) }
        expectBigNumError("BN_bn2lebinpad", .tooLarge) { try table.power(BigNum(5)) }
        #expect(try table.power(BigNum(5)) == BigNum(5))  // 2^5 mod 9
    }

    @Test("Paillier maps every BigNum failure to a PaillierError the commands print as one line")
    func paillierFailures() throws {
        let c = try pub.encrypt(BigNum(6))
        func expectPaillier(_ name: String, _ code: PaillierError.Code, _ body: () throws -> some Any,
                            sourceLocation: SourceLocation = #_sourceLocation) {
            let error = failing(name, body, sourceLocation: sourceLocation)
            #expect((error as? PaillierError)?.code == code, "\(name): \(String(describing: error))",
                    sourceLocation: sourceLocation)
        }
        expectPaillier("BN_mod_inverse", .internalFailure) { try pub.negate(c) }
        expectPaillier("BN_mod_exp_mont", .internalFailure) { try pub.multiply(c, by: BigNum(3)) }
        expectPaillier("BN_mod_inverse", .internalFailure) { try pub.ciphertext(validating: c.value) }
        expectPaillier("BN_bin2bn", .malformedCiphertext) { try pub.ciphertext(bytes: c.bytes(width: pub.ciphertextByteCount)) }
        expectPaillier("BN_bn2binpad", .malformedCiphertext) { try c.bytes(width: pub.ciphertextByteCount) }
        expectPaillier("BN_mod_exp_mont_consttime", .internalFailure) { try key.decrypt(c) }
        expectPaillier("BN_priv_rand_ex", .internalFailure) { try pub.rerandomize(c) }
        expectPaillier("BN_priv_rand_range_ex", .internalFailure) { try pub.encryptStandard(BigNum(1)) }
        expectPaillier("BN_bin2bn", .malformedKey) {
            try PaillierJSON.decodePublicKey(Fixtures.data("Keys/test/eduvault-1024/public.json"), allowInsecureSize: true)
        }
        expectPaillier("BN_check_prime", .internalFailure) {
            _ = try PaillierJSON.decodePrivateKey(Fixtures.data("Keys/test/eduvault-1024/private.json"), allowInsecureSize: true)
        }
        expectPaillier("BN_MONT_CTX_set", .invalidKey) { try PublicKey(n: pub.n, allowInsecureSize: true) }
        expectPaillier("BN_generate_prime_ex2", .internalFailure) {
            _ = try PrivateKey.generate(bits: 256, allowInsecureSize: true)
        }
        expectPaillier("BN_mod_mul_montgomery", .internalFailure) {
            var sum = CiphertextSum(key: pub)
            try sum.add(c)
            try sum.add(c)
            return try sum.result()
        }
        expectPaillier("BN_mod_inverse", .internalFailure) {
            let validator = CiphertextBatchValidator(key: pub)
            try validator.check(c.bytes(width: pub.ciphertextByteCount))
            try validator.finish()
        }
    }
}
