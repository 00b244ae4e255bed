import BigNum
// Model release files (`release decrypt` on a model release): the vault's encrypted block sums and public counts.
//
// Path: ModelRelease.decode, then DecryptedModel.decrypt with the fixture key when the release names it, then the
// model fit, as `release decrypt` does before it prints.
// Properties: a model release that decodes is consistent (every term's level counts add up to the total, every pair
// table to its terms' levels, the groups to the total and the levels; one sum per ciphertext of the layout); it
// re-encodes to a file that decodes to the same release; decrypted, every block keeps its count and has a value
// for every product of the layout; the fit fails only with an AggregationError, never a crash.
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier
import VaultAggregation

let key = Fuzz.fixtureKey

Fuzz.run { data in
    guard let release = try? ModelRelease.decode(data) else { return }
    for blocks in release.levels {
        Fuzz.require(blocks.reduce(0) { $0 + $1.count } == release.total.count, "level counts do not add up")
    }
    if let random = release.random {
        Fuzz.require(random.blocks.reduce(0) { $0 + $1.count } == release.total.count, "group counts do not add up")
    }
    Fuzz.require(
        release.allBlocks.allSatisfy { $0.sums.count == release.layout.ciphertextCount && $0.count >= 1 },
        "a block without one sum per ciphertext")
    guard let encoded = try? release.jsonData(), let again = try? ModelRelease.decode(encoded) else {
        return Fuzz.require(false, "the re-encoded model release does not decode")
    }
    Fuzz.require(again == release, "decode → encode → decode changed the model release")

    guard release.keyID == key.publicKey.keyID else { return }
    let outcome = Fuzz.wait { try await DecryptedModel.decrypt(release, key: key) }
    guard case .success(let decrypted) = outcome else {
        if case .failure(let error) = outcome {
            Fuzz.require(
                error is AggregationError, "decrypting failed with a \(type(of: error)), not an AggregationError")
        }
        return
    }
    let blocks = [decrypted.total] + decrypted.levels.flatMap { $0 } + decrypted.groups
    Fuzz.require(blocks.map(\.count) == release.allBlocks.map(\.count), "a decrypted block lost its count")
    Fuzz.require(blocks.allSatisfy { $0.products.count == release.layout.products.count }, "a product has no value")
    do { _ = try decrypted.fit() } catch {
        Fuzz.require(error is AggregationError, "the fit failed with a \(type(of: error)), not an AggregationError")
    }
}
