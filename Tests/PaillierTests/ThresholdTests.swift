import BigNum
import Foundation
@testable import Paillier
import Primitives
import Testing

/// The committed TEST-ONLY ceremonies (768 bits): (2,3) and (3,5).
enum ThresholdFixture {
    static let names = ["threshold-2of3-768", "threshold-3of5-768"]

    static func key(_ name: String) throws -> ThresholdPublicKey {
        try ThresholdJSON.decode(Fixtures.data("Keys/test/\(name)/threshold.json"), allowInsecureSize: true)
    }

    static func shares(_ name: String) throws -> [ThresholdShare] {
        try key(name).parties.map { party in
            try ThresholdJSON.decodeShare(Fixtures.data("Keys/test/\(name)/share-\(party.name).json"),
                                          allowInsecureSize: true)
        }
    }

    /// Every subset of `size` elements of `0 ..< count`.
    static func subsets(of count: Int, size: Int) -> [[Int]] {
        guard size > 0 else { return [[]] }
        guard count >= size else { return [] }
        return subsets(of: count - 1, size: size) + subsets(of: count - 1, size: size - 1).map { $0 + [count - 1] }
    }
}

@Suite("Threshold Paillier")
struct ThresholdTests {
    struct KAT: Decodable {
        struct Partial: Decodable {
            let index: Int
            let value, nonce, challenge, response: String
        }
        struct Vector: Decodable {
            let m, r, c: String
            let partials: [Partial]
        }
        struct Fixture: Decodable {
            let name: String
            let threshold, parties: Int
            let vectors: [Vector]
        }
        let context: String
        let fixtures: [Fixture]
    }

    @Test("Known answers (independent Python): c, every partial and its proof for a fixed nonce, every t-subset's plaintext")
    func knownAnswers() throws {
        let kat = try JSONDecoder().decode(KAT.self, from: Fixtures.data("Tests/PaillierTests/Vectors/threshold-kat.json"))
        #expect(kat.fixtures.map(\.name) == ThresholdFixture.names)
        let context = Array(kat.context.utf8)
        for fixture in kat.fixtures {
            let key = try ThresholdFixture.key(fixture.name)
            let shares = try ThresholdFixture.shares(fixture.name)
            #expect(key.threshold == fixture.threshold && key.partyCount == fixture.parties)
            #expect(fixture.vectors.count == 7)
            let n = key.publicKey.n, n2 = key.publicKey.nSquared
            for vector in fixture.vectors {
                let m = try BigNum(decimal: vector.m), r = try BigNum(decimal: vector.r)
                let c = try key.publicKey.ciphertext(validating: BigNum(decimal: vector.c))
                #expect((m * n + BigNum(1)).multipliedModulo(try r.power(n, modulo: n2), n2) == c.value)
                var partials: [PartialDecryption] = []
                for (share, expected) in zip(shares, vector.partials) {
                    #expect(share.party.index == expected.index)
                    let partial = try share.partiallyDecrypt(c, context: context, nonce: BigNum(decimal: expected.nonce))
                    #expect(partial.value == (try BigNum(decimal: expected.value)))
                    #expect(Hex.encode(try partial.challenge.bigEndianBytes(width: 32)) == expected.challenge)
                    #expect(partial.response == (try BigNum(decimal: expected.response)))
                    #expect(key.verify(partial, of: c, context: context) == nil)
                    partials.append(partial)
                }
                for subset in ThresholdFixture.subsets(of: key.partyCount, size: key.threshold) {
                    #expect(try key.combine(subset.map { partials[$0] }, of: c) == m, "subset \(subset)")
                }
            }
        }
    }

    @Test("t of l shares decrypt a homomorphic sum exactly, for every subset of size t", arguments: ThresholdFixture.names)
    func everySubsetDecrypts(fixture: String) throws {
        let key = try ThresholdFixture.key(fixture)
        let shares = try ThresholdFixture.shares(fixture)
        var rng = SeededRandom(seed: 7)
        let values = (0..<20).map { _ in UInt64.random(in: 0...1_000_000_000, using: &rng) }
        let sum = try key.publicKey.sum(values.map { try key.publicKey.encrypt(BigNum($0)) })
        let expected = BigNum(values.reduce(0, +))
        let partials = try shares.map { try $0.partiallyDecrypt(sum, context: [1, 2, 3]) }
        for p in partials { #expect(key.verify(p, of: sum, context: [1, 2, 3]) == nil) }
        let subsets = ThresholdFixture.subsets(of: key.partyCount, size: key.threshold)
        #expect(subsets.count == (key.partyCount == 3 ? 3 : 10))
        for subset in subsets {
            #expect(try key.combine(subset.map { partials[$0] }, of: sum) == expected, "subset \(subset)")
            // Order does not matter, and a superset uses its first t.
            #expect(try key.combine(subset.reversed().map { partials[$0] }, of: sum) == expected)
        }
        #expect(try key.combine(partials, of: sum) == expected)
        // A negative total (python-paillier's encoding: n − |x|) comes back as that residue.
        let negative = try key.publicKey.encrypt(key.publicKey.n - BigNum(5))
        let np = try shares.prefix(key.threshold).map { try $0.partiallyDecrypt(negative, context: []) }
        #expect(try key.combine(np, of: negative) == key.publicKey.n - BigNum(5))
    }

    @Test("Refused: a tampered value, a tampered proof, another context, another ceremony's share, a wrong s_i; t−1 and a repeated party do not combine")
    func refusals() throws {
        let key = try ThresholdFixture.key("threshold-2of3-768")
        let shares = try ThresholdFixture.shares("threshold-2of3-768")
        let c = try key.publicKey.encrypt(BigNum(4242))
        let context = Array("release A".utf8)
        let good = try shares[0].partiallyDecrypt(c, context: context)
        #expect(key.verify(good, of: c, context: context) == nil)

        var tamperedValue = good
        tamperedValue.value = key.publicKey.core.montN2.multiply(good.value, good.value)
        #expect(key.verify(tamperedValue, of: c, context: context) == "the proof does not verify")
        var tamperedResponse = good
        tamperedResponse.response = good.response + BigNum(1)
        #expect(key.verify(tamperedResponse, of: c, context: context) == "the proof does not verify")
        var tamperedChallenge = good
        tamperedChallenge.challenge = good.challenge + BigNum(1)
        #expect(key.verify(tamperedChallenge, of: c, context: context) != nil)
        // The same partial claimed by another party.
        var otherParty = good
        otherParty.index = 2
        #expect(key.verify(otherParty, of: c, context: context) == "the proof does not verify")
        // A proof for another release (context) or another ciphertext.
        #expect(key.verify(good, of: c, context: Array("release B".utf8)) == "the proof does not verify")
        let other = try key.publicKey.encrypt(BigNum(4242))
        #expect(key.verify(good, of: other, context: context) == "the proof does not verify")
        // Out-of-range values are refused before any exponentiation.
        var huge = good
        huge.response = BigNum(1).shiftedLeft(key.proofNonceBits + 8)
        #expect(key.verify(huge, of: c, context: context) == "the proof's response is out of range")
        var zero = good
        zero.value = BigNum(0)
        #expect(key.verify(zero, of: c, context: context) != nil)

        // A share of another ceremony: its partial does not verify under this key (and its file does not load as one).
        let foreign = try ThresholdFixture.shares("threshold-3of5-768")[0]
        let foreignCiphertext = try foreign.key.publicKey.encrypt(BigNum(1))
        let foreignPartial = try foreign.partiallyDecrypt(foreignCiphertext, context: context)
        #expect(key.verify(foreignPartial, of: c, context: context) != nil)

        // A share computed with a wrong s_i fails its proof (and is refused as a share).
        let wrong = try ThresholdShare(unchecked: key, index: 1, secret: shares[0].secret + BigNum(1))
        let wrongPartial = try wrong.partiallyDecrypt(c, context: context)
        #expect(key.verify(wrongPartial, of: c, context: context) == "the proof does not verify")
        #expect(throws: PaillierError.self) { try ThresholdShare(key: key, index: 1, secret: shares[0].secret + BigNum(1)) }
        // Unverified, it would give a wrong plaintext: that is why every partial is checked first.
        let second = try shares[1].partiallyDecrypt(c, context: context)
        #expect((try? key.combine([wrongPartial, second], of: c)) != BigNum(4242))

        // t − 1 partials, or the same party twice, are not a quorum.
        #expect(throws: PaillierError.self) { try key.combine([good], of: c) }
        #expect(throws: PaillierError.self) { try key.combine([good, good], of: c) }
        #expect(try key.combine([good, second], of: c) == BigNum(4242))
    }

    @Test("Lagrange coefficients Δ·Π j/(j−i) are integers and interpolate f(0)")
    func lagrange() throws {
        let key = try ThresholdFixture.key("threshold-3of5-768")
        #expect(key.delta == BigNum(120))
        #expect(try ThresholdFixture.key("threshold-2of3-768").lagrangeCoefficients([1, 2]) == [BigNum(12), BigNum(-6)])
        // Σ μ_i · f(i) = Δ · f(0) for f(X) = 7 + 3X + 5X².
        for subset in ThresholdFixture.subsets(of: 5, size: 3) {
            let indices = subset.map { $0 + 1 }
            let mu = key.lagrangeCoefficients(indices)
            var total = BigNum(0)
            for (i, m) in zip(indices, mu) { total = total + m * BigNum(7 + 3 * i + 5 * i * i) }
            #expect(total == key.delta * BigNum(7))
        }
    }

    @Test("threshold.json and share files round-trip; altered or inconsistent files are refused; sealed shares need the passphrase")
    func files() throws {
        let key = try ThresholdFixture.key("threshold-2of3-768")
        let data = try ThresholdJSON.encode(key, kid: "TEST-ONLY", created: "2026-01-01T00:00:00Z")
        #expect(try ThresholdJSON.decode(data, allowInsecureSize: true) == key)
        #expect(throws: PaillierError.self) { try ThresholdJSON.decode(data) }  // 768 bits: refused without the flag
        func altered(_ change: (inout [String: Any]) -> Void) throws -> Data {
            var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            change(&object)
            return try JSONSerialization.data(withJSONObject: object)
        }
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("delta", { $0["delta"] = "7" }),
            ("ceremony", { $0["ceremony"] = "tk-00000000000000000000000000000000" }),
            ("key id", { $0["key_id"] = "pk-00000000000000000000000000000000" }),
            ("threshold", { $0["threshold"] = 4 }),
            ("format", { $0["format"] = "eduvault-threshold/9" }),
            ("duplicate party", { o in
                var parties = o["parties"] as? [[String: Any]] ?? []
                parties[1]["name"] = parties[0]["name"]
                o["parties"] = parties
            }),
            ("verification key", { o in
                var parties = o["parties"] as? [[String: Any]] ?? []
                parties[2]["verification_key"] = parties[1]["verification_key"]
                o["parties"] = parties
            }),
        ]
        for (what, change) in cases {
            #expect(throws: PaillierError.self, "\(what)") { try ThresholdJSON.decode(try altered(change), allowInsecureSize: true) }
        }

        let share = try ThresholdFixture.shares("threshold-2of3-768")[1]
        let cheap: (n: UInt64, r: UInt64, p: UInt64) = (1 << 4, 8, 1)
        let sealed = try ThresholdJSON.encode(share, kid: "TEST-ONLY", keyKid: "TEST-ONLY", created: "now",
                                              passphrase: "correct horse", cost: cheap)
        #expect(ThresholdJSON.isSealed(sealed))
        #expect(!String(decoding: sealed, as: UTF8.self).contains(Base64URL.encode(share.secret.bigEndianBytes)))
        #expect(ThresholdJSON.partyName(sealed) == "auditor")
        let opened = try ThresholdJSON.decodeShare(sealed, passphrase: "correct horse", allowInsecureSize: true)
        #expect(opened.secret == share.secret && opened.party == share.party)
        #expect(throws: PaillierError.self) { try ThresholdJSON.decodeShare(sealed, allowInsecureSize: true) }
        #expect(throws: PaillierError.self) { try ThresholdJSON.decodeShare(sealed, passphrase: "wrong", allowInsecureSize: true) }
        // A share file whose value was changed no longer matches its verification key.
        let plain = try ThresholdJSON.encode(share, kid: "TEST-ONLY", keyKid: "TEST-ONLY", created: "now")
        var object = try #require(try JSONSerialization.jsonObject(with: plain) as? [String: Any])
        object["share"] = Base64URL.encode((share.secret + BigNum(2)).bigEndianBytes)
        let error = #expect(throws: PaillierError.self) {
            try ThresholdJSON.decodeShare(try JSONSerialization.data(withJSONObject: object), allowInsecureSize: true)
        }
        #expect(error?.code == .invalidKey)
        // A share of one ceremony inside another ceremony's key file.
        var mixed = object
        mixed["share"] = Base64URL.encode(share.secret.bigEndianBytes)
        mixed["threshold_key"] = try JSONSerialization.jsonObject(with: Fixtures.data("Keys/test/threshold-3of5-768/threshold.json"))
        #expect(throws: PaillierError.self) {
            try ThresholdJSON.decodeShare(try JSONSerialization.data(withJSONObject: mixed), allowInsecureSize: true)
        }
    }
}
