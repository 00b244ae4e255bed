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
        #expect(BigNum(bigEndian: [0, 0, 1, 0, 1]) == x)
    }
}
