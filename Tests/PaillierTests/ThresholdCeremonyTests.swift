import BigNum
import Foundation
import Paillier
import Testing

@Suite("Threshold ceremony (small, test-only sizes)")
struct ThresholdCeremonyTests {
    @Test("A 512-bit 2-of-3 ceremony: every pair decrypts, proofs verify, python-paillier's g = n + 1 encryption")
    func smallCeremony() throws {
        let outcome = try ThresholdCeremony.run(bits: 512, parties: ["bureau", "auditor", "custodian"], threshold: 2,
                                                allowInsecureSize: true)
        let key = outcome.key
        #expect(key.publicKey.bitCount == 512)
        #expect(key.delta == BigNum(6))
        let m = BigNum(123_456_789)
        let c = try key.publicKey.encrypt(m)
        let context = Array("test".utf8)
        let partials = try outcome.shares.map { try $0.partiallyDecrypt(c, context: context) }
        for p in partials { #expect(key.verify(p, of: c, context: context) == nil) }
        for pair in [[0, 1], [0, 2], [1, 2]] {
            #expect(try key.combine(pair.map { partials[$0] }, of: c) == m)
        }
    }
}
