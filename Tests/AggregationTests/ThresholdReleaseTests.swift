import BigNum
import Foundation
@testable import Paillier
import Testing
@testable import VaultAggregation
import VaultModel

/// Threshold decryption of releases (issue 11): the same statistics as the single-key path, for exact and noisy
/// releases, and every refusal named by party.
@Suite("Threshold releases")
struct ThresholdReleaseTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func thresholdKey(_ name: String) throws -> ThresholdPublicKey {
        try ThresholdJSON.decode(Data(contentsOf: root.appendingPathComponent("Keys/test/\(name)/threshold.json")),
                                 allowInsecureSize: true)
    }

    static func shares(_ name: String) throws -> [ThresholdShare] {
        try thresholdKey(name).parties.map { party in
            try ThresholdJSON.decodeShare(
                Data(contentsOf: root.appendingPathComponent("Keys/test/\(name)/share-\(party.name).json")),
                allowInsecureSize: true)
        }
    }

    /// A release of `cells` cells by subject × region (with a contrast) whose packed sums are the signed integers
    /// `values` (slot 0 = Σx, slot 1 = Σx²), encrypted under `key`: exact (format 1) when every slot is ≥ 0, else
    /// noisy (format 2).
    static func release(id: String, key: PublicKey, slots: [(Int, Int)], noisy: Bool) throws -> Release {
        let w = 96
        var cells: [Release.Cell] = []
        for (i, (s0, s1)) in slots.enumerated() {
            let value = BigNum(s0) + BigNum(s1).shiftedLeft(w)
            let c = try key.encrypt(value.modulo(key.n))
            cells.append(Release.Cell(by: ["subject": "s\(i / 2)", "region": i % 2 == 0 ? "rural" : "urban"],
                                      count: 12 + i, sum: c.value.decimalString))
        }
        let noise = noisy ? Release.Noise(mechanism: Release.Noise.discreteGaussian, rho: "0.25", sigma2Sum: "40000",
                                          sigma2SumOfSquares: "1600000000/3", recordsPerStudent: 1) : nil
        return Release(format: noisy ? Release.noisyFormatTag : Release.formatTag, id: id, vault: "vault-thr",
                       keyID: key.keyID, query: Query(by: ["subject"], contrast: "region"),
                       policy: PolicyReference(id: "test", version: 1, sha256: String(repeating: "0", count: 64)),
                       created: "2026-01-01T00:00:00Z", logIndex: 7, scale: 1, slotBits: w, slotCount: 2, cells: cells,
                       suppressed: [], noise: noise)
    }

    static let exactSlots: [(Int, Int)] = (0..<8).map { i in (7_000 + 131 * i, 4_900_000 + 9_871 * i) }
    static let noisySlots: [(Int, Int)] = [(-35, -1_204), (8_011, -77), (-1, 5_300_000), (6_250, 4_000_000),
                                           (0, 0), (-9_999, -1), (123, 456_789), (7_777, 6_100_000)]

    /// Equal, or both NaN (an SD from noisy sums can be undefined).
    static func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }

    /// Every subset of `size` elements of `0 ..< count`.
    static func subsets(of count: Int, size: Int) -> [[Int]] {
        guard size > 0 else { return [[]] }
        guard count >= size else { return [] }
        return subsets(of: count - 1, size: size) + subsets(of: count - 1, size: size - 1).map { $0 + [count - 1] }
    }

    static func roundTrip(_ release: Release) throws -> Release { try Release.decode(try release.jsonData()) }

    static func partialFiles(_ release: some DecryptableRelease, _ shares: [ThresholdShare]) async throws
        -> [(label: String, data: Data)]
    {
        var out: [(label: String, data: Data)] = []
        for share in shares {
            let file = try await ThresholdRelease.partiallyDecrypt(release, with: share, created: "now")
            out.append(("\(share.party.name).json", try file.jsonData()))
        }
        return out
    }

    @Test("Every t-subset decrypts exact and noisy releases to what the single-key path gives for the same plaintexts",
          arguments: [("threshold-2of3-768", false), ("threshold-2of3-768", true), ("threshold-3of5-768", false),
                      ("threshold-3of5-768", true)])
    func sameAsSingleKey(fixture: String, noisy: Bool) async throws {
        let slots = noisy ? Self.noisySlots : Self.exactSlots
        let single = TestVault.privateKey
        let reference = try await DecryptedRelease.decrypt(
            try Self.roundTrip(try Self.release(id: "r-single", key: single.publicKey, slots: slots, noisy: noisy)),
            key: single)
        let key = try Self.thresholdKey(fixture)
        let release = try Self.roundTrip(try Self.release(id: "r-threshold", key: key.publicKey, slots: slots, noisy: noisy))
        let layout = try ReleaseUnits(release: release, key: key.publicKey)
        #expect(layout.cellBits == 200 && layout.cellsPerUnit == 3 && layout.ranges.count == 3)  // 768 bits: 8 cells, 3 units
        let partials = try await Self.partialFiles(release, try Self.shares(fixture))
        let subsets = Self.subsets(of: key.partyCount, size: key.threshold)
        for subset in subsets {
            let verification = try await ThresholdRelease.verify(release, key: key, partials: subset.map { partials[$0] })
            #expect(verification.refused.isEmpty && verification.accepted.count == key.threshold)
            let decrypted = try await DecryptedRelease.decrypt(release, with: try verification.decryptor())
            #expect(decrypted.cells.count == reference.cells.count)
            for (a, b) in zip(decrypted.cells, reference.cells) {
                #expect(a.by == b.by && a.sum == b.sum && a.sumOfSquares == b.sumOfSquares && a.statistics == b.statistics)
                #expect(a.meanCI95.map { [$0.0, $0.1] } == b.meanCI95.map { [$0.0, $0.1] })
                #expect(a.sdCI95.map { [$0.0, $0.1] } == b.sdCI95.map { [$0.0, $0.1] })
            }
            for (i, cell) in decrypted.cells.enumerated() {
                #expect(cell.sum == BigNum(slots[i].0) && cell.sumOfSquares == BigNum(slots[i].1))
            }
            #expect(decrypted.contrasts.count == reference.contrasts.count)
            for (a, b) in zip(decrypted.contrasts, reference.contrasts) {
                #expect(a.by == b.by && a.counts == b.counts && Self.same(a.contrast.gap, b.contrast.gap)
                        && Self.same(a.contrast.d, b.contrast.d) && Self.same(a.contrast.ci95.0, b.contrast.ci95.0))
            }
        }
        // All l partials: the t with the lowest indexes are used.
        let all = try await ThresholdRelease.verify(release, key: key, partials: partials)
        #expect(all.used == key.parties.prefix(key.threshold).map(\.name))
    }

    /// Rewrites a partial file's JSON.
    static func edit(_ data: Data, _ change: (inout [String: Any]) -> Void) throws -> Data {
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        change(&object)
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    static func editUnit(_ data: Data, _ field: String, _ change: (String) -> String) throws -> Data {
        try edit(data) { object in
            var units = object["units"] as? [[String: Any]] ?? []
            units[1][field] = change(units[1][field] as? String ?? "")
            object["units"] = units
        }
    }

    @Test("Refused with the party named: a tampered value, a tampered proof, another release, another ceremony, the same party twice, a wrong s_i; t−1 valid is an error naming who is missing")
    func refusals() async throws {
        let key = try Self.thresholdKey("threshold-2of3-768")
        let shares = try Self.shares("threshold-2of3-768")
        let release = try Self.roundTrip(try Self.release(id: "r-a", key: key.publicKey, slots: Self.exactSlots, noisy: false))
        let partials = try await Self.partialFiles(release, shares)
        let (bureau, auditor, custodian) = (partials[0].data, partials[1].data, partials[2].data)
        let n2 = key.publicKey.nSquared

        func check(_ offered: [(String, Data)], refused party: String?, reason fragment: String, duplicate: Bool = false,
                   sourceLocation: SourceLocation = #_sourceLocation) async throws -> ShareVerification {
            let verification = try await ThresholdRelease.verify(release, key: key, partials: offered.map { ($0.0, $0.1) })
            #expect(verification.refused.count == 1, "\(verification.refused)", sourceLocation: sourceLocation)
            #expect(verification.refused.first?.party == party, sourceLocation: sourceLocation)
            #expect(verification.refused.first?.reason.contains(fragment) == true,
                    "\(verification.refused.first?.reason ?? "none")", sourceLocation: sourceLocation)
            let acceptedNames = verification.accepted.map(\.party.name)
            // A duplicate's first copy is used; any other refused party is not.
            #expect(acceptedNames.contains(party ?? "-") == duplicate, "\(acceptedNames)", sourceLocation: sourceLocation)
            return verification
        }

        // A tampered partial value (another element of Z*_{n²}): the custodian is named, bureau + auditor decrypt.
        let tamperedValue = try Self.editUnit(custodian, "value") { text in
            ((try? BigNum(decimal: text)) ?? BigNum(2)).multipliedModulo(BigNum(4), n2).decimalString
        }
        let v1 = try await check([("b", bureau), ("c", tamperedValue), ("a", auditor)], refused: "custodian",
                                 reason: "does not verify for cells 4–6")
        #expect(v1.used == ["bureau", "auditor"])
        let decrypted = try await DecryptedRelease.decrypt(release, with: try v1.decryptor())
        #expect(decrypted.cells.map(\.sum) == Self.exactSlots.map { BigNum($0.0) })

        // A tampered proof (response + 1, or another challenge).
        _ = try await check([("b", bureau), ("a", try Self.editUnit(auditor, "response") { text in
            (((try? BigNum(decimal: text)) ?? BigNum(0)) + BigNum(1)).decimalString
        })], refused: "auditor", reason: "does not verify")
        _ = try await check([("b", bureau), ("a", try Self.editUnit(auditor, "challenge") { _ in
            String(repeating: "7", count: 64)
        })], refused: "auditor", reason: "does not verify")

        // A proof for another release: as made, relabelled, and relabelled with the digest too.
        let other = try Self.roundTrip(try Self.release(id: "r-b", key: key.publicKey, slots: Self.noisySlots, noisy: true))
        let forOther = try await Self.partialFiles(other, [shares[2]])[0].data
        _ = try await check([("b", bureau), ("c", forOther)], refused: "custodian", reason: "made for release r-b, not r-a")
        let relabelled = try Self.edit(forOther) { $0["release"] = "r-a" }
        _ = try await check([("b", bureau), ("c", relabelled)], refused: "custodian", reason: "different version of release")
        let digest = try ThresholdRelease.digest(release)
        let forged = try Self.edit(forOther) { o in
            o["release"] = "r-a"
            o["release_sha256"] = digest
        }
        _ = try await check([("b", bureau), ("c", forged)], refused: "custodian", reason: "does not verify")

        // A share from another ceremony: its partial of a release under its own key, offered here (as is, and
        // relabelled with this key's ids).
        let foreignKey = try Self.thresholdKey("threshold-3of5-768")
        let foreignRelease = try Self.roundTrip(try Self.release(id: "r-a", key: foreignKey.publicKey,
                                                                  slots: Self.exactSlots, noisy: false))
        let foreign = try await Self.partialFiles(foreignRelease, [try Self.shares("threshold-3of5-768")[1]])[0].data
        _ = try await check([("b", bureau), ("a", foreign)], refused: "auditor", reason: "share from another ceremony")
        let disguised = try Self.edit(foreign) { o in
            o["key_id"] = key.publicKey.keyID
            o["ceremony"] = key.ceremonyID
            o["release_sha256"] = digest
        }
        _ = try await check([("b", bureau), ("a", disguised)], refused: "auditor", reason: "made with a wrong share")

        // The same party twice: counted once, the second named; with t = 2 that is not a quorum.
        let twice = try await check([("b1", bureau), ("b2", bureau)], refused: "bureau", reason: "a second partial from bureau",
                                    duplicate: true)
        let error = #expect(throws: AggregationError.self) { try twice.decryptor() }
        #expect(error?.code == .quorum)
        #expect(error?.message.contains("missing: auditor, custodian") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("refused: bureau") == true)

        // A share with a wrong s_i: its proofs fail, the party is named.
        let wrongShare = try ThresholdShare(unchecked: key, index: 3, secret: shares[2].secret + BigNum(1))
        let wrong = try await ThresholdRelease.partiallyDecrypt(release, with: wrongShare, created: "now").jsonData()
        _ = try await check([("a", auditor), ("c", wrong)], refused: "custodian", reason: "does not verify for cells 1–3")

        // t − 1: refused with who is missing; a file that is no partial at all is named by its label.
        let alone = try await ThresholdRelease.verify(release, key: key, partials: [("a.json", auditor)])
        let lonely = #expect(throws: AggregationError.self) { try alone.decryptor() }
        #expect(lonely?.message.contains("only 1 valid partial decryption of the 2 needed (valid: auditor); missing: "
                                         + "bureau, custodian") == true, "\(lonely?.message ?? "")")
        let junk = try await ThresholdRelease.verify(release, key: key, partials: [("junk.json", Data("{}".utf8))])
        #expect(junk.refused.first?.party == nil && junk.refused.first?.label == "junk.json")
    }

    @Test("A unit splits back into signed cells; a value that does not split is refused, not misread")
    func unitSplitting() throws {
        let key = try Self.thresholdKey("threshold-2of3-768").publicKey
        let release = try Self.release(id: "r", key: key, slots: Self.noisySlots, noisy: true)
        let layout = try ReleaseUnits(release: release, key: key)
        let values: [BigNum] = [BigNum(-5), BigNum(7).shiftedLeft(100), BigNum(-1).shiftedLeft(150)]
        var packed = BigNum(0)
        for (j, v) in values.enumerated() { packed = packed + v.shiftedLeft(layout.cellBits * j) }
        let cells = try layout.cellPlaintexts(unit: 0, plaintext: packed.modulo(key.n), key: key)
        #expect(cells == values.map { $0.modulo(key.n) })
        // Bits above the unit's last cell: refused.
        let overflow = packed + BigNum(1).shiftedLeft(layout.cellBits * 3 + 1)
        #expect(throws: AggregationError.self) { try layout.cellPlaintexts(unit: 0, plaintext: overflow, key: key) }
    }
}
