import BigNum
import Foundation
import Paillier
import Testing
@testable import VaultAggregation
import VaultModel

/// Model releases under threshold custody: every t-subset of partial decryptions gives exactly the block sums a CRT
/// decryption gives for the same plaintexts (sums at the top of their slots included), in the packed layout and in a
/// layout too wide for guard bits; and every refusal names the party.
@Suite("Threshold model releases")
struct ThresholdModelTests {
    typealias Fixtures = ThresholdReleaseTests

    /// A model release `score ~ sex + covariates` with a random intercept per school (1 total, 2 levels, 3 groups:
    /// 6 blocks) whose block sums hold `values[block][product]`, encrypted under `key`; and those values by block
    /// and product name.
    ///
    /// `wide`: three covariates at 109 bits a slot, so a block's covariate ciphertexts fill 763 bits of a 768-bit
    /// key and no two fit one unit with guard bits; otherwise one covariate at 96 bits (two sums per unit).
    static func release(id: String, key: PublicKey, wide: Bool) throws -> (ModelRelease, [[String: BigNum]]) {
        let covariates = wide ? ["a", "b", "c"] : ["prior_score"]
        let slotBits = wide ? 109 : 96
        let perCiphertext = (768 - 3) / slotBits  // 7 either way, as the vault lays out a 768-bit key
        var names = ["y", "y2"]
        for (i, v) in covariates.enumerated() {
            names += ["x:\(v)", "x2:\(v)", "xy:\(v)"]
            for w in covariates.dropFirst(i + 1) { names.append("xx:\(v):\(w)") }
        }
        var products: [ModelRelease.Layout.Product] = [.init(name: "y", ciphertext: 0, slot: 0),
                                                        .init(name: "y2", ciphertext: 0, slot: 1)]
        for (i, name) in names.dropFirst(2).enumerated() {
            products.append(.init(name: name, ciphertext: 1 + i / perCiphertext, slot: i % perCiphertext))
        }
        let ciphertextCount = (products.map(\.ciphertext).max() ?? 0) + 1
        let layout = ModelRelease.Layout(slotBits: slotBits, slotsPerCiphertext: perCiphertext,
                                         ciphertextCount: ciphertextCount, products: products)
        let top = BigNum(1).shiftedLeft(slotBits) - BigNum(1)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> BigNum {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            switch state >> 61 {
            case 0: return top  // the largest sum a slot holds
            case 1: return BigNum(0)
            case 2: return top - BigNum(state >> 40)
            default: return BigNum(state >> 3).shiftedLeft(Int(state & 31))  // below 2^92
            }
        }
        let counts = [40, 22, 18, 15, 13, 12]  // total; F, M; schools A, B, C
        var values: [[String: BigNum]] = []
        var blocks: [ModelRelease.Block] = []
        for count in counts {
            var row: [String: BigNum] = [:]
            for name in names { row[name] = next() }
            values.append(row)
            var sums: [String] = []
            for c in 0..<ciphertextCount {
                var packed = BigNum(0)
                for product in products where product.ciphertext == c {
                    packed = packed + (row[product.name] ?? BigNum(0)).shiftedLeft(slotBits * product.slot)
                }
                sums.append(try key.encrypt(packed).value.decimalString)
            }
            blocks.append(ModelRelease.Block(count: count, sums: sums))
        }
        let formula = "score ~ sex + " + covariates.joined(separator: " + ")
        let release = ModelRelease(
            format: ModelRelease.formatTag, id: id, vault: "vault-thr", keyID: key.keyID,
            model: ModelSpec(formula: formula, random: "school", contrast: "sex"),
            policy: PolicyReference(id: "test", version: 1, sha256: String(repeating: "0", count: 64)),
            created: "2026-01-01T00:00:00Z", logIndex: 9, scale: 1, layout: layout,
            numeric: ["score"] + covariates, categorical: [.init(name: "sex", levels: ["F", "M"])],
            total: blocks[0], levels: [[blocks[1], blocks[2]]], pairCounts: [],
            random: .init(name: "school", groups: ["A", "B", "C"], blocks: Array(blocks[3...]),
                          levelCounts: [[[8, 7]], [[7, 6]], [[7, 5]]]))
        return (try ModelRelease.decode(try release.jsonData()), values)
    }

    /// Every block's products, in release order.
    static func products(_ model: DecryptedModel) -> [[String: BigNum]] {
        ([model.total] + model.levels.flatMap { $0 } + model.groups).map(\.products)
    }

    @Test("Every t-subset decrypts a model release to exactly the sums CRT gives for the same plaintexts",
          arguments: [("threshold-2of3-768", false), ("threshold-2of3-768", true), ("threshold-3of5-768", false)])
    func sameAsSingleKey(fixture: String, wide: Bool) async throws {
        let single = TestVault.privateKey
        let (reference, expected) = try Self.release(id: "m-single", key: single.publicKey, wide: wide)
        let crt = Self.products(try await DecryptedModel.decrypt(reference, key: single))
        #expect(crt == expected)

        let key = try Fixtures.thresholdKey(fixture)
        let (release, values) = try Self.release(id: "m-threshold", key: key.publicKey, wide: wide)
        #expect(values == expected)
        let layout = try release.units(under: key.publicKey)
        let sums = 6 * release.layout.ciphertextCount
        if wide {
            #expect(release.layout.ciphertextCount == 3 && layout.cellsPerUnit == 1 && layout.ranges.count == sums)
        } else {
            #expect(layout.cellBits == 3 * 96 + 8 && layout.cellsPerUnit == 2 && layout.ranges.count == sums / 2)
        }
        let partials = try await Fixtures.partialFiles(release, try Fixtures.shares(fixture))
        let format = try JSONSerialization.jsonObject(with: partials[0].data) as? [String: Any]
        #expect(format?["format"] as? String == "eduvault-partial-model/1")
        for subset in Fixtures.subsets(of: key.partyCount, size: key.threshold) {
            let verification = try await ThresholdRelease.verify(release, key: key, partials: subset.map { partials[$0] })
            #expect(verification.refused.isEmpty && verification.accepted.count == key.threshold)
            let decrypted = try await DecryptedModel.decrypt(release, with: try verification.decryptor())
            #expect(Self.products(decrypted) == expected, "parties \(subset)")
            #expect(decrypted.total.count == 40 && decrypted.groups.map(\.count) == [15, 13, 12])
        }
    }

    @Test("Model partials: a tampered value or proof names the party; query and model partials do not mix; t−1 says who is missing")
    func refusals() async throws {
        let key = try Fixtures.thresholdKey("threshold-2of3-768")
        let shares = try Fixtures.shares("threshold-2of3-768")
        let (release, expected) = try Self.release(id: "m-a", key: key.publicKey, wide: false)
        let partials = try await Fixtures.partialFiles(release, shares)
        let (bureau, auditor, custodian) = (partials[0].data, partials[1].data, partials[2].data)

        func check(_ offered: [(String, Data)], refused party: String, reason: String) async throws {
            let verification = try await ThresholdRelease.verify(release, key: key, partials: offered)
            let refusal = verification.refused.first { $0.party == party }
            #expect(refusal?.reason.contains(reason) == true, "\(verification.refused)")
            #expect(!verification.accepted.contains { $0.party.name == party })
        }
        // A tampered value in the last unit, and a tampered response: named, never used.
        let lastValue = try Fixtures.edit(auditor) { o in
            var units = o["units"] as? [[String: Any]] ?? []
            let value = (try? BigNum(decimal: units[units.count - 1]["value"] as? String ?? "")) ?? BigNum(0)
            units[units.count - 1]["value"] = value.multipliedModulo(BigNum(4), key.publicKey.nSquared).decimalString
            o["units"] = units
        }
        try await check([("b", bureau), ("a", lastValue)], refused: "auditor", reason: "does not verify for sums 11–12")
        try await check([("b", bureau), ("a", try Fixtures.editUnit(auditor, "response") { text in
            (((try? BigNum(decimal: text)) ?? BigNum(0)) + BigNum(1)).decimalString
        })], refused: "auditor", reason: "does not verify")
        // The honest pair still decrypts with the forged one offered too.
        let mixed = try await ThresholdRelease.verify(release, key: key,
                                                      partials: [("a", lastValue), ("b", bureau), ("c", custodian)])
        #expect(mixed.used == ["bureau", "custodian"])
        #expect(Self.products(try await DecryptedModel.decrypt(release, with: try mixed.decryptor())) == expected)

        // A query release's partial offered for the model release, and the other way round; a model partial
        // relabelled as a query partial fails its format check, and its proofs would fail (another domain).
        let query = try Fixtures.roundTrip(try Fixtures.release(id: "m-a", key: key.publicKey,
                                                                slots: Fixtures.exactSlots, noisy: false))
        let queryPartial = try await Fixtures.partialFiles(query, [shares[1]])[0].data
        try await check([("b", bureau), ("a", queryPartial)], refused: "auditor",
                        reason: "a partial decryption of a query release, not of this model release")
        let backwards = try await ThresholdRelease.verify(query, key: key, partials: [("a", auditor)])
        #expect(backwards.refused.first?.reason.contains("a partial decryption of a model release") == true)
        let relabelled = try Fixtures.edit(auditor) { $0["format"] = "eduvault-partial/1" }
        try await check([("b", bureau), ("a", relabelled)], refused: "auditor", reason: "a partial decryption of a query")

        // Another model release: the id, then the digest, then the proofs give it away.
        let (other, _) = try Self.release(id: "m-b", key: key.publicKey, wide: false)
        let forOther = try await Fixtures.partialFiles(other, [shares[2]])[0].data
        try await check([("b", bureau), ("c", forOther)], refused: "custodian", reason: "made for release m-b, not m-a")
        let digest = try ThresholdRelease.digest(release)
        let disguised = try Fixtures.edit(forOther) { o in
            o["release"] = "m-a"
            o["release_sha256"] = digest
        }
        try await check([("b", bureau), ("c", disguised)], refused: "custodian", reason: "does not verify")

        // t − 1 valid partials: an error naming who is missing and who was refused.
        let alone = try await ThresholdRelease.verify(release, key: key, partials: [("a", auditor), ("c", disguised)])
        let error = #expect(throws: AggregationError.self) { try alone.decryptor() }
        #expect(error?.code == .quorum)
        #expect(error?.message.contains("only 1 valid partial decryption of the 2 needed (valid: auditor); missing: "
                                        + "bureau, custodian (refused: custodian)") == true, "\(error?.message ?? "")")
    }
}
