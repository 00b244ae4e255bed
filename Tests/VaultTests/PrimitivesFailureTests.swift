import Foundation
@testable import Primitives
import Testing
import VaultModel

/// Issue 14: every failure path of an OpenSSL call in Primitives is reachable and ends in a typed error.
@Suite("Every Primitives C failure path ends in a typed error")
struct PrimitivesFailureTests {
    func expectFailure(_ name: String, _ code: PrimitivesError.Code, _ body: () throws -> some Any,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        PrimitivesFaults.$failing.withValue([name]) {
            do {
                let value = try body()
                Issue.record("\(name): nothing was thrown; got \(value)", sourceLocation: sourceLocation)
            } catch {
                #expect((error as? PrimitivesError)?.code == code, "\(name): \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("Keys, signatures, HMAC and randomness: injected failures throw, never answer")
    func signaturesAndMACs() throws {
        let seed = [UInt8](repeating: 7, count: 32)
        let key = try Ed25519.PrivateKey(rawRepresentation: seed)
        let message: [UInt8] = Array("batch".utf8)
        let signature = try key.signature(for: message)
        expectFailure("EVP_PKEY_new_raw_private_key", .invalidKey) { try Ed25519.PrivateKey(rawRepresentation: seed) }
        expectFailure("EVP_PKEY_get_raw_public_key", .internalFailure) { try Ed25519.PrivateKey(rawRepresentation: seed) }
        expectFailure("EVP_PKEY_new_raw_public_key", .invalidKey) { try Ed25519.PublicKey(rawRepresentation: key.publicKey.rawRepresentation) }
        expectFailure("EVP_MD_CTX_new", .internalFailure) { try key.signature(for: message) }
        expectFailure("EVP_DigestSignInit", .internalFailure) { try key.signature(for: message) }
        expectFailure("EVP_DigestSign", .internalFailure) { try key.signature(for: message) }
        expectFailure("EVP_DigestVerifyInit", .internalFailure) { try key.publicKey.isValidSignature(signature, for: message) }
        expectFailure("EVP_DigestVerify", .internalFailure) { try key.publicKey.isValidSignature(signature, for: message) }
        expectFailure("HMAC", .internalFailure) { try HMACSHA256.authenticate(key: seed, message: message) }
        expectFailure("RAND_priv_bytes", .randomnessUnavailable) { try SecureRandom.bytes(16) }
        // The same calls succeed without the fault, and an altered signature is an answer (false), not an error.
        #expect(try key.publicKey.isValidSignature(signature, for: message))
        var altered = signature
        altered[5] ^= 1
        #expect(try !key.publicKey.isValidSignature(altered, for: message))
        #expect(try !key.publicKey.isValidSignature([1, 2, 3], for: message))
        #expect(throws: PrimitivesError.self) { try HMACSHA256.authenticate(key: [UInt8](repeating: 1, count: 70_000), message: message) }
        // A pseudonym never falls back to anything: the HMAC failure reaches the caller as a ModelError.
        PrimitivesFaults.$failing.withValue(["HMAC"]) {
            let error = #expect(throws: ModelError.self) { try Pseudonym(studentID: "s1", key: seed) }
            #expect(error?.code == .crypto)
            #expect(error?.message.contains("s1") == false)
        }
    }

    @Test("Passphrase sealing: bad parameters are refused before scrypt runs; injected failures throw")
    func sealing() throws {
        let cheap: (n: UInt64, r: UInt64, p: UInt64) = (16, 1, 1)
        let sealed = try PassphraseSealing.seal(Array("secret".utf8), passphrase: "pw", cost: cheap)
        #expect(try PassphraseSealing.open(sealed, passphrase: "pw") == Array("secret".utf8))
        let wrong = #expect(throws: PrimitivesError.self) { try PassphraseSealing.open(sealed, passphrase: "nope") }
        #expect(wrong?.code == .authenticationFailed)
        for (n, r, p) in [(UInt64(3), UInt64(1), UInt64(1)), (0, 1, 1), (16, 0, 1), (16, 1, 0), (1 << 20, 8, 1),
                          (1 << 14, 8, 1 << 10), (1 << 62, 1 << 10, 1), (UInt64.max, UInt64.max, UInt64.max)] {
            var bad = sealed
            (bad.n, bad.r, bad.p) = (n, r, p)
            let error = #expect(throws: PrimitivesError.self, "\(n) \(r) \(p)") { try PassphraseSealing.open(bad, passphrase: "pw") }
            #expect(error?.code == .invalidKey)
        }
        var badSalt = sealed
        badSalt.salt = []
        #expect(throws: PrimitivesError.self) { try PassphraseSealing.open(badSalt, passphrase: "pw") }
        var badKDF = sealed
        badKDF.kdf = "argon2"
        #expect(throws: PrimitivesError.self) { try PassphraseSealing.open(badKDF, passphrase: "pw") }
        expectFailure("EVP_PBE_scrypt", .internalFailure) { try PassphraseSealing.open(sealed, passphrase: "pw") }
        expectFailure("EVP_CIPHER_CTX_new", .internalFailure) { try PassphraseSealing.open(sealed, passphrase: "pw") }
        expectFailure("EVP_CipherInit_ex", .internalFailure) { try PassphraseSealing.open(sealed, passphrase: "pw") }
        expectFailure("EVP_CipherUpdate", .internalFailure) { try PassphraseSealing.open(sealed, passphrase: "pw") }
        expectFailure("EVP_CIPHER_CTX_ctrl", .internalFailure) { try PassphraseSealing.open(sealed, passphrase: "pw") }
        expectFailure("EVP_CipherFinal_ex", .authenticationFailed) { try PassphraseSealing.open(sealed, passphrase: "pw") }
        expectFailure("EVP_CIPHER_CTX_ctrl", .internalFailure) { try PassphraseSealing.seal([1], passphrase: "pw", cost: cheap) }
        expectFailure("EVP_CipherFinal_ex", .internalFailure) { try PassphraseSealing.seal([1], passphrase: "pw", cost: cheap) }
        expectFailure("RAND_priv_bytes", .randomnessUnavailable) { try PassphraseSealing.seal([1], passphrase: "pw", cost: cheap) }
    }
}
