import BigNum
import Foundation
import Paillier
import Testing

@Suite("Homomorphic laws over random values")
struct PropertyTests {
    let key = Fixtures.key1024
    var pub: PublicKey { key.publicKey }

    @Test("Dec(Enc(m)) = m on every encryption path", arguments: [1, 2, 3])
    func roundTrip(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let priv = try Fixtures.privateKey("eduvault-1024")
        for _ in 0..<8 {
            let m = rng.bigNum(below: pub.n)
            #expect(try key.decrypt(pub.encrypt(m)) == m)
            #expect(try key.decrypt(pub.encryptStandard(m)) == m)
            #expect(try key.decrypt(priv.encrypt(m)) == m)
        }
        for m in [BigNum(0), BigNum(1), pub.n - BigNum(1)] {
            #expect(try key.decrypt(pub.encrypt(m)) == m)
        }
    }

    @Test("Dec(Enc(a)·Enc(b)) = a + b mod n; Dec(Enc(a)^k) = k·a mod n; subtract and negate")
    func additiveLaws() throws {
        var rng = SeededRandom(seed: 42)
        for _ in 0..<8 {
            let a = rng.bigNum(below: pub.n), b = rng.bigNum(below: pub.n), k = rng.bigNum(below: pub.n)
            let ca = try pub.encrypt(a), cb = try pub.encrypt(b)
            #expect(try key.decrypt(pub.add(ca, cb)) == (a + b).modulo(pub.n))
            #expect(try key.decrypt(pub.multiply(ca, by: k)) == a.multipliedModulo(k, pub.n))
            #expect(try key.decrypt(pub.subtract(ca, cb)) == (a - b).modulo(pub.n))
            #expect(try key.decrypt(pub.negate(ca)) == (-a).modulo(pub.n))
            #expect(try key.decrypt(pub.add(ca, plaintext: b)) == (a + b).modulo(pub.n))
            #expect(try key.decrypt(pub.multiply(ca, by: BigNum(-3))) == (a * BigNum(-3)).modulo(pub.n))
        }
    }

    @Test("Re-randomised ciphertexts differ and decrypt the same")
    func rerandomize() throws {
        let m = BigNum(123_456)
        let c = try pub.encrypt(m)
        let r1 = try pub.rerandomize(c), r2 = try pub.rerandomize(c)
        #expect(r1 != c && r2 != c && r1 != r2)
        #expect(try key.decrypt(r1) == m && key.decrypt(r2) == m)
        // Two encryptions of one value differ too.
        #expect(try pub.encrypt(m) != pub.encrypt(m))
    }

    @Test("The Montgomery streaming sum equals the plain product, from values and from bytes")
    func sums() throws {
        var rng = SeededRandom(seed: 7)
        let values = (0..<50).map { _ in rng.bigNum(below: BigNum(1_000_000)) }
        let cts = try values.map { try pub.encrypt($0) }
        let expected = values.reduce(BigNum(0), +)
        #expect(try key.decrypt(pub.sum(cts)) == expected)
        var summer = CiphertextSum(key: pub)
        for c in cts { try summer.add(bytes: c.bytes(width: pub.ciphertextByteCount)) }
        #expect(summer.count == 50)
        #expect(try key.decrypt(summer.result()) == expected)
        // Reference: plain modular product.
        let plain = cts.reduce(BigNum(1)) { $0.multipliedModulo($1.value, pub.nSquared) }
        #expect(try pub.sum(cts).value == plain)
        // Edge cases: empty sum is Enc(0) with noise 1; one element is itself.
        #expect(try pub.sum([]).value == BigNum(1))
        #expect(try pub.sum([cts[0]]) == cts[0])
    }

    @Test("Per-cell sums (CiphertextSums) equal a separate sum per cell; empty cells give nil; bad input is refused")
    func cellSums() throws {
        var rng = SeededRandom(seed: 11)
        let width = pub.ciphertextByteCount
        let cells = 5
        var sums = CiphertextSums(key: pub, cells: cells)
        var expected = [BigNum](repeating: BigNum(0), count: cells)
        var counts = [Int](repeating: 0, count: cells)
        var perCell = [[Ciphertext]](repeating: [], count: cells)
        for _ in 0..<40 {
            let cell = Int(rng.next() % 4)  // cell 4 stays empty
            let m = rng.bigNum(below: BigNum(1_000_000))
            let c = try pub.encrypt(m)
            try c.bytes(width: width).withUnsafeBytes { raw in try sums.add(bytes: raw, to: cell) }
            perCell[cell].append(c)
            expected[cell] = expected[cell] + m
            counts[cell] += 1
        }
        for cell in 0..<cells {
            #expect(sums.count(of: cell) == counts[cell])
            guard counts[cell] > 0 else {
                #expect(try sums.result(cell) == nil)
                continue
            }
            let sum = try #require(try sums.result(cell))
            #expect(sum == (try pub.sum(perCell[cell])))
            #expect(try key.decrypt(sum) == expected[cell])
        }
        // Zero, n² and a wrong width are refused, and count nothing.
        for bad in [[UInt8](repeating: 0, count: width), pub.nSquared.bigEndianBytes, [UInt8](repeating: 1, count: width - 1)] {
            #expect(throws: PaillierError.self) {
                try bad.withUnsafeBytes { raw in try sums.add(bytes: raw, to: 0) }
            }
        }
        #expect(sums.count(of: 0) == counts[0])
    }

    @Test("Signed and fixed-point encoding round-trips like python-paillier")
    func encoding() throws {
        for text in ["0", "5", "-7", "87.5", "0.1", "-2.25", "1e-3", "123456789012345678901234567890"] {
            let encoded = try EncodedNumber(parsing: text)
            let plaintext = try encoded.plaintext(for: pub)
            let decoded = try EncodedNumber.decode(key.decrypt(pub.encrypt(plaintext)), exponent: encoded.exponent, key: pub)
            #expect(decoded.mantissa == encoded.mantissa, "\(text)")
            #expect(Double(try decoded.displayString) == Double(text), "\(text)")
        }
        // python-paillier's float rule: 87.5 = 0x57.8 keeps 53 bits → exponent ⌊(7 − 53)/4⌋ = −12.
        #expect(try EncodedNumber(parsing: "87.5").exponent == -12)
        #expect(try EncodedNumber(parsing: "87.5").decreasingExponent(to: -32).exactDecimalString == "87.5")
        #expect(try EncodedNumber(parsing: "-12").exactDecimalString == "-12")
    }

    @Test("Values beyond max_int are refused; sums that overflow into the guard band are reported, not returned")
    func overflow() throws {
        let tooBig = EncodedNumber(integer: pub.maxInt + BigNum(1))
        #expect(throws: PaillierError.self) { try tooBig.plaintext(for: pub) }
        let big = try EncodedNumber(integer: pub.maxInt).plaintext(for: pub)
        let sum = pub.add(try pub.encrypt(big), try pub.encrypt(big))  // 2·max_int: in the guard band
        let error = #expect(throws: PaillierError.self) {
            try EncodedNumber.decode(key.decrypt(sum), exponent: 0, key: pub)
        }
        #expect(error?.code == .overflow)
        #expect(throws: PaillierError.self) { try pub.encrypt(pub.n) }
    }

    @Test("Packing adds slot-wise; the overflow check is exact at its boundary")
    func packing() throws {
        let layout = try SlotLayout(slotBits: 20, slotCount: 2)
        #expect(layout.fits(pub))
        var rng = SeededRandom(seed: 99)
        var sx = BigNum(0), sx2 = BigNum(0)
        var sum = try pub.encrypt(BigNum(0))
        for _ in 0..<10 {
            let x = UInt64.random(in: 0...100, using: &rng)
            sx = sx + BigNum(x)
            sx2 = sx2 + BigNum(x * x)
            sum = pub.add(sum, try pub.encrypt(layout.pack([x, x * x])))
        }
        #expect(try layout.unpack(key.decrypt(sum)) == [sx, sx2])
        // Boundary: 2^20 − 1 = 1,048,575. With max 10,000 per value, 104 values fit and 105 do not.
        let maxima = [BigNum(10_000), BigNum(10_000)]
        #expect(layout.canSum(count: 104, slotMaxima: maxima))
        #expect(!layout.canSum(count: 105, slotMaxima: maxima))
        #expect(layout.maxSafeCount(slotMaxima: maxima) == BigNum(104))
        // Exactly at the limit: 1,048,575 = 3 · 5² · 11 · 31 · 41, so 41 values of 25,575 fill a slot exactly.
        #expect(layout.canSum(count: 41, slotMaxima: [BigNum(25_575), BigNum(0)]))
        #expect(!layout.canSum(count: 41, slotMaxima: [BigNum(25_576), BigNum(0)]))
        // And the arithmetic agrees: 41 · 25,575 decrypts into slot 0 intact; one more unit spills into slot 1.
        let full = try pub.sum((0..<41).map { _ in try pub.encrypt(layout.pack([25_575, 0] as [UInt64])) })
        #expect(try layout.unpack(key.decrypt(full)) == [BigNum(1_048_575), BigNum(0)])
        let spilled = pub.add(full, try pub.encrypt(layout.pack([1, 0] as [UInt64])))
        #expect(try layout.unpack(key.decrypt(spilled)) == [BigNum(0), BigNum(1)])
        #expect(throws: PaillierError.self) { try layout.pack([1 << 20, 0] as [UInt64]) }
    }

    @Test("The laws hold over several freshly generated keys of different sizes", arguments: [256, 384, 640])
    func randomKeys(bits: Int) throws {
        let fresh = try PrivateKey.generate(bits: bits, allowInsecureSize: true)
        let p = fresh.publicKey
        var rng = SeededRandom(seed: UInt64(bits))
        for _ in 0..<6 {
            let a = rng.bigNum(below: p.n), b = rng.bigNum(below: p.n), k = rng.bigNum(below: p.n)
            let ca = try p.encrypt(a), cb = try p.encryptStandard(b)
            #expect(try fresh.decryptRaw(ca) == a && fresh.decryptRaw(cb) == b && fresh.decryptRaw(fresh.encrypt(a)) == a)
            #expect(try fresh.decryptRaw(p.add(ca, cb)) == (a + b).modulo(p.n))
            #expect(try fresh.decryptRaw(p.multiply(ca, by: k)) == a.multipliedModulo(k, p.n))
            let r = try p.rerandomize(ca)
            #expect(r != ca)
            #expect(try fresh.decryptRaw(r) == a)
        }
    }

    @Test("A freshly generated key satisfies every law too")
    func freshKey() throws {
        let fresh = try PrivateKey.generate(bits: 512, allowInsecureSize: true)
        let p = fresh.publicKey
        #expect(p.bitCount == 512)
        let (fp, fq) = fresh.factors
        #expect(try fp.isProbablePrime())
        #expect(try fq.isProbablePrime())
        #expect(fp != fq && fp * fq == p.n)
        let a = BigNum(31337), b = BigNum(4242)
        #expect(try fresh.decryptRaw(p.add(p.encrypt(a), p.encrypt(b))) == a + b)
        #expect(throws: PaillierError.self) { _ = try PrivateKey.generate(bits: 1024) }
    }
}

