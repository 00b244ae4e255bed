import BigNum
import Foundation
import Paillier
import Testing

@Suite("Known answers")
struct KnownAnswerTests {
    struct Vector: Decodable {
        let p, q, n, m, r, c: String
    }

    struct File: Decodable {
        let vectors: [Vector]
    }

    @Test("c = (1 + m·n)·r^n mod n² matches python-paillier, and CRT decryption recovers m")
    func vectors() throws {
        let file = try JSONDecoder().decode(File.self, from: Fixtures.data("Tests/PaillierTests/Vectors/kat.json"))
        #expect(file.vectors.count == 8)
        for v in file.vectors {
            let p = try BigNum(decimal: v.p), q = try BigNum(decimal: v.q), n = try BigNum(decimal: v.n)
            let m = try BigNum(decimal: v.m), r = try BigNum(decimal: v.r), c = try BigNum(decimal: v.c)
            #expect(p * q == n)
            let n2 = n * n
            let computed = (m * n + BigNum(1)).multipliedModulo(try r.power(n, modulo: n2), n2)
            #expect(computed == c)
            let key = try PrivateKey(p: p, q: q, allowInsecureSize: true)
            let ciphertext = try key.publicKey.ciphertext(validating: c)
            #expect(try key.decryptRaw(ciphertext) == m)
        }
    }

    @Test("Decimal and byte round trips of BigNum")
    func bigNumRoundTrips() throws {
        let text = "-123456789012345678901234567890123456789"
        #expect(try BigNum(decimal: text).decimalString == text)
        for bad in ["", "-", "12a", " 1", "+5", "1e5"] {
            #expect(throws: BigNumError.self) { try BigNum(decimal: bad) }
        }
        let x = try BigNum(decimal: "65537")
        #expect(x.bigEndianBytes == [1, 0, 1])
        #expect(try x.bigEndianBytes(width: 5) == [0, 0, 1, 0, 1])
        #expect(throws: BigNumError.self) { try x.bigEndianBytes(width: 2) }
        #expect(try BigNum(bigEndian: [0, 0, 1, 0, 1]) == x)
    }
}

@Suite("BigNum fast paths agree with plain arithmetic")
struct FastPathTests {
    @Test("FixedBaseTable.power equals BN_mod_exp for random exponents, windows 1…8, including 0 and the maximum")
    func fixedBaseTable() throws {
        var rng = SeededRandom(seed: 11)
        let m = try BigNum(decimal: "340282366920938463463374607431768211507")  // an odd 129-bit modulus
        let context = try MontgomeryContext(modulus: m)
        let base = rng.bigNum(below: m)
        for window in 1...8 {
            let table = try FixedBaseTable(context: context, base: base, exponentBits: 100, window: window)
            var exponents = (0..<10).map { _ in rng.bigNum(below: BigNum(1).shiftedLeft(100)) }
            exponents += [BigNum(0), BigNum(1), BigNum(1).shiftedLeft(100) - BigNum(1)]
            for e in exponents {
                #expect(try table.power(e) == base.power(e, modulo: m), "window \(window)")
            }
            #expect(table.byteCount == ((100 + window - 1) / window) * (1 << window) * context.limbCount * 8)
        }
    }

    @Test("Constant-time and Montgomery helpers equal plain modular arithmetic")
    func montgomery() throws {
        var rng = SeededRandom(seed: 12)
        let m = try BigNum(decimal: "170141183460469231731687303715884105727")  // 2^127 − 1
        let context = try MontgomeryContext(modulus: m)
        for _ in 0..<20 {
            let a = rng.bigNum(below: m), b = rng.bigNum(below: m), e = rng.bigNum(below: m)
            #expect(context.multiply(a, b) == a.multipliedModulo(b, m))
            #expect(context.montgomeryProduct(a, context.toMontgomery(b)) == a.multipliedModulo(b, m))
            #expect(try context.powerConstantTime(a, e.markedSecret()) == a.power(e, modulo: m))
            var acc = ProductAccumulator(context: context)
            try acc.multiply(a)
            try acc.multiply(b)
            try acc.multiply(e)
            #expect(try acc.finalize() == a.multipliedModulo(b, m).multipliedModulo(e, m))
        }
        #expect(throws: BigNumError.self) { try MontgomeryContext(modulus: BigNum(10)) }
    }
}
