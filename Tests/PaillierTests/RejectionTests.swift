import BigNum
import Foundation
import Paillier
import Testing

@Suite("Bad input is refused with a clear error")
struct RejectionTests {
    let key = Fixtures.key1024
    var pub: PublicKey { key.publicKey }

    func privateJSON(p: BigNum, q: BigNum, n: BigNum) -> Data {
        func b64(_ x: BigNum) -> String {
            Data(x.bigEndianBytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let json = """
            {"kty":"DAJ","key_ops":["decrypt"],"p":"\(b64(p))","q":"\(b64(q))",
             "pub":{"kty":"DAJ","alg":"PAI-GN1","key_ops":["encrypt"],"n":"\(b64(n))","kid":"t"},"kid":"t"}
            """
        return Data(json.utf8)
    }

    @Test("Malformed key files")
    func malformedKeys() throws {
        for text in ["", "not json", "[1,2]", "{\"kty\":\"RSA\",\"alg\":\"PAI-GN1\",\"n\":\"AQAB\"}",
                     "{\"kty\":\"DAJ\",\"alg\":\"PAI-GN1\"}", "{\"kty\":\"DAJ\",\"alg\":\"PAI-GN1\",\"n\":\"!!!\"}",
                     "{\"kty\":\"DAJ\",\"alg\":\"PAI-GN1\",\"n\":42}"] {
            let error = #expect(throws: PaillierError.self) {
                try PaillierJSON.decodePublicKey(Data(text.utf8), allowInsecureSize: true)
            }
            #expect(error?.code == .malformedKey, "\(text)")
        }
        // A public key where a private key is expected.
        let pubData = try Fixtures.data("Keys/test/eduvault-1024/public.json")
        let error = #expect(throws: PaillierError.self) {
            _ = try PaillierJSON.decodePrivateKey(pubData, allowInsecureSize: true)
        }
        #expect(error?.code == .malformedKey)
        #expect(error?.message.contains("public key") == true)
    }

    @Test("p = q, composite factors, p·q ≠ n, and n too small are refused")
    func invalidKeys() throws {
        let (p, q) = try Fixtures.privateKey("eduvault-1024").factors
        let same = #expect(throws: PaillierError.self) {
            _ = try PaillierJSON.decodePrivateKey(privateJSON(p: p, q: p, n: p * p), allowInsecureSize: true)
        }
        #expect(same?.code == .invalidKey)
        // An odd neighbour of p that is composite (the first one is, almost always; never skip the check).
        var composite = p + BigNum(2)
        while try composite.isProbablePrime() { composite = composite + BigNum(2) }
        let error = #expect(throws: PaillierError.self) {
            _ = try PaillierJSON.decodePrivateKey(privateJSON(p: composite, q: q, n: composite * q), allowInsecureSize: true)
        }
        #expect(error?.code == .invalidKey)
        #expect(error?.message.contains("not prime") == true)
        let mismatch = #expect(throws: PaillierError.self) {
            _ = try PaillierJSON.decodePrivateKey(privateJSON(p: p, q: q, n: p * q + BigNum(2)), allowInsecureSize: true)
        }
        #expect(mismatch?.code == .invalidKey)
        // A 1024-bit key outside test mode.
        let small = #expect(throws: PaillierError.self) {
            try PaillierJSON.decodePublicKey(Fixtures.data("Keys/test/eduvault-1024/public.json"))
        }
        #expect(small?.code == .keyTooSmall)
        #expect(throws: PaillierError.self) { try PublicKey(n: BigNum(15), allowInsecureSize: true) }
        #expect(throws: PaillierError.self) { try PublicKey(n: p * q + BigNum(1), allowInsecureSize: true) }  // even
    }

    @Test("A public modulus that is a perfect square or has a small factor is refused by the vault's structure check")
    func modulusStructure() throws {
        let (p, q) = try Fixtures.privateKey("eduvault-1024").factors
        try pub.checkModulusStructure()  // a real p·q passes
        for (n, reason) in [(p * p, "perfect square"), (p * q * BigNum(3), "small prime factor"),
                            (q * BigNum(9_973), "small prime factor")] {
            let bad = try PublicKey(n: n, allowInsecureSize: true)
            let error = #expect(throws: PaillierError.self) { try bad.checkModulusStructure() }
            #expect(error?.code == .invalidKey && error?.message.contains(reason) == true, "\(String(describing: error))")
        }
    }

    @Test("Ciphertexts outside Z*_{n²} are refused: ≥ n², 0, negative, sharing a factor with n")
    func invalidCiphertexts() throws {
        let (p, _) = try Fixtures.privateKey("eduvault-1024").factors
        for (value, fragment) in [(pub.nSquared, "below n²"), (pub.nSquared + BigNum(5), "below n²"),
                                  (BigNum(0), "zero"), (BigNum(-5), "negative"), (p, "factor"), (pub.n, "factor")] {
            let error = #expect(throws: PaillierError.self) { try pub.ciphertext(validating: value) }
            #expect(error?.code == .invalidCiphertext)
            #expect(error?.message.contains(fragment) == true, "\(fragment)")
        }
        // JSON-level: non-decimal, leading zeros, missing fields, float exponent.
        for text in ["{}", "{\"v\":\"12x\",\"e\":0}", "{\"v\":\"0012\",\"e\":0}", "{\"v\":12,\"e\":0}",
                     "{\"v\":\"12\",\"e\":0.5}", "{\"v\":\"12\"}", "nope", "{\"v\":\"-12\",\"e\":0}"] {
            #expect(throws: PaillierError.self, "\(text)") { try PaillierJSON.decodeCiphertext(Data(text.utf8), key: pub) }
        }
        // Wrong width in the binary form.
        #expect(throws: PaillierError.self) { try pub.ciphertext(bytes: [1, 2, 3]) }
    }

    @Test("A ciphertext made under another key is refused")
    func otherKey() throws {
        let other = try Fixtures.publicKey("pheutil-1024")
        let c = try other.encrypt(BigNum(5))
        let json = PaillierJSON.encodeCiphertext(.init(ciphertext: c, exponent: 0), key: other)
        let error = #expect(throws: PaillierError.self) { try PaillierJSON.decodeCiphertext(Data(json.utf8), key: pub) }
        #expect(error?.code == .wrongKey)
        // Without the key_id tag (a pheutil file), a foreign value ≥ n² is still caught by the range check.
        let bigger = other.n > pub.n ? other : pub
        let smaller = bigger == other ? pub : other
        var value = try bigger.encrypt(BigNum(1)).value
        while value < smaller.nSquared { value = try bigger.encrypt(BigNum(1)).value }
        #expect(throws: PaillierError.self) { try smaller.ciphertext(validating: value) }
    }

    @Test("Private keys: a wrong passphrase is refused; the right one opens the key")
    func passphrase() throws {
        let priv = try Fixtures.privateKey("eduvault-1024")
        let sealed = try PaillierJSON.encodePrivateKey(priv, kid: "t", publicKid: "t", passphrase: "correct horse")
        #expect(PaillierJSON.isSealed(sealed))
        #expect(!String(decoding: sealed, as: UTF8.self).contains("\"q\":"))
        let wrong = #expect(throws: PaillierError.self) {
            _ = try PaillierJSON.decodePrivateKey(sealed, passphrase: "wrong", allowInsecureSize: true)
        }
        #expect(wrong?.code == .passphrase)
        let missing = #expect(throws: PaillierError.self) { _ = try PaillierJSON.decodePrivateKey(sealed, allowInsecureSize: true) }
        #expect(missing?.code == .passphrase)
        let opened = try PaillierJSON.decodePrivateKey(sealed, passphrase: "correct horse", allowInsecureSize: true)
        #expect(try opened.decryptRaw(pub.encrypt(BigNum(77))) == BigNum(77))
    }
}
