// Release files (`release decrypt`): the vault's encrypted counts and sums per cell.
//
// Path: Release.decode, then DecryptedRelease.decrypt with the fixture key when the release names it, as
// `release decrypt` does before it formats the table.
// Properties: a release that decodes has consistent cells (keyed by exactly the query's attributes, distinct, each
// released cell with ≥ 1 record and a canonical sum, counts that add up); it re-encodes to a file that decodes to
// the same release; decrypted, it has one statistics row per released cell with that cell's count, and every
// contrast compares two values with their counts.
import Foundation
import BigNum
import FuzzDriver
import FuzzSupport
import Paillier
import VaultAggregation

let key = Fuzz.fixtureKey

Fuzz.run { data in
    guard let release = try? Release.decode(data) else { return }
    let attributes = Set(release.query.cellAttributes)
    Fuzz.require(release.cells.allSatisfy { Set($0.by.keys) == attributes && $0.count >= 1 }, "inconsistent cells")
    Fuzz.require(release.suppressed.allSatisfy { Set($0.by.keys) == attributes }, "inconsistent withheld cells")
    var total = 0
    for cell in release.cells {
        let (sum, overflow) = total.addingReportingOverflow(cell.count)
        Fuzz.require(!overflow, "cell counts overflow")
        total = sum
    }
    guard let encoded = try? release.jsonData(), let again = try? Release.decode(encoded) else {
        return Fuzz.require(false, "the re-encoded release does not decode")
    }
    Fuzz.require(again == release, "decode → encode → decode changed the release")

    guard release.keyID == key.publicKey.keyID else { return }
    let outcome = Fuzz.wait { try await DecryptedRelease.decrypt(release, key: key) }
    guard case .success(let decrypted) = outcome else {
        if case .failure(let error) = outcome {
            Fuzz.require(error is AggregationError, "release decrypt failed with a \(type(of: error)), not an AggregationError")
        }
        return
    }
    Fuzz.require(decrypted.cells.count == release.cells.count, "decrypted \(decrypted.cells.count) of \(release.cells.count) cells")
    for (cell, plain) in zip(release.cells, decrypted.cells) {
        Fuzz.require(cell.by == plain.by && plain.statistics.count == cell.count, "a decrypted cell lost its count or key")
        Fuzz.require(!plain.sum.isNegative && !plain.sumOfSquares.isNegative, "a negative decrypted sum")
    }
    for contrast in decrypted.contrasts {
        Fuzz.require(contrast.values.count == 2 && contrast.counts.count == 2 && contrast.counts.allSatisfy { $0 >= 2 },
                     "a contrast without two values of at least two records each")
    }
}
