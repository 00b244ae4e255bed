public import Foundation
public import Paillier

/// A release whose encrypted sums the bureau's key or a quorum of threshold shares decrypts: a query release
/// (`eduvault-release/1` and `/2`) or a model release (`eduvault-release-model/1`).
///
/// Everything custody needs from a release is here: which ciphertexts it holds, in what order, how many low bits of
/// each plaintext an EduVault sum can occupy, and what a partial decryption of it is called. ``ReleaseDecryptor``,
/// ``ReleaseUnits`` and ``ThresholdRelease`` work from this and nothing else, so both kinds of release go through the
/// same partial decryptions, proofs and combination; what the plaintexts mean (cells, or blocks of model sums) stays
/// with each kind's own decryption (``DecryptedRelease``, ``DecryptedModel``).
public protocol DecryptableRelease: SignedRelease {
    /// The `format` of a partial decryption of this kind of release.
    static var partialFormat: String { get }
    /// The first field of every proof context: a partial made for one kind of release verifies for no other.
    static var proofDomain: String { get }
    /// What one decrypted ciphertext is called in messages ("cells", "sums").
    static var sumNoun: String { get }

    /// The release id.
    var id: String { get }
    /// The vault it came from.
    var vault: String { get }
    /// The Paillier key id it was made under.
    var keyID: String { get }
    /// How many low bits of each ciphertext's plaintext an EduVault sum can occupy (slot bits × slots used).
    var packedBits: Int { get }

    /// The release's ciphertexts, in release order, checked to be ciphertexts of `key`.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release made under another key (`keyDescription`
    ///   names the key in the message) or a sum that is not a ciphertext of `key`.
    func encryptedSums(under key: PublicKey, keyDescription: String) throws(AggregationError) -> [Ciphertext]

    /// How a quorum groups the ciphertexts into units under `key` (see ``ReleaseUnits``).
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` when the release cannot be decrypted by units.
    func units(under key: PublicKey) throws(AggregationError) -> ReleaseUnits

    /// The release as canonical JSON (sorted keys): what a partial decryption's digest covers.
    func jsonData() throws -> Data
}

extension Release: DecryptableRelease {
    /// `eduvault-partial/1`.
    public static var partialFormat: String { PartialDecryptionFile.formatTag }
    /// "EduVault release unit v1".
    public static var proofDomain: String { "EduVault release unit v1" }
    /// "cells".
    public static var sumNoun: String { "cells" }

    /// Slot bits × slots per cell.
    public var packedBits: Int { slotBits * slotCount }

    /// The released cells' sums (see ``cellCiphertexts(under:keyDescription:)``).
    public func encryptedSums(under key: PublicKey, keyDescription: String) throws(AggregationError) -> [Ciphertext] {
        try cellCiphertexts(under: key, keyDescription: keyDescription)
    }

    /// ``ReleaseUnits/init(release:key:)``: refuses a release whose cell does not fit the key with its guard bits.
    public func units(under key: PublicKey) throws(AggregationError) -> ReleaseUnits {
        try ReleaseUnits(release: self, key: key)
    }
}

extension ModelRelease: DecryptableRelease {
    /// `eduvault-partial-model/1`.
    public static var partialFormat: String { PartialDecryptionFile.modelFormatTag }
    /// "EduVault model release unit v1".
    public static var proofDomain: String { "EduVault model release unit v1" }
    /// "sums".
    public static var sumNoun: String { "sums" }

    /// Slot bits × (the highest slot any product occupies + 1): the unused slots above it are 0 in every sum
    /// EduVault writes (every record adds 0 there), so a ciphertext's plaintext lies below 2^packedBits.
    public var packedBits: Int { layout.slotBits * ((layout.products.map(\.slot).max() ?? 0) + 1) }

    /// Every block's sums in release order (``allBlocks``: the total, each level of each term, each random group),
    /// each block's ``ModelRelease/Layout/ciphertextCount`` sums in layout order.
    public func encryptedSums(under key: PublicKey, keyDescription: String) throws(AggregationError) -> [Ciphertext] {
        guard keyID == key.keyID else {
            throw AggregationError(.invalidRelease,
                                   "the release was made under key \(keyID), not \(keyDescription) (\(key.keyID))")
        }
        var ciphertexts: [Ciphertext] = []
        for block in allBlocks {
            for sum in block.sums { ciphertexts.append(try Release.releasedCiphertext(sum, key: key)) }
        }
        return ciphertexts
    }

    /// Units of as many sums as fit with guard bits; a sum too wide for that is a unit of its own, decrypted as is.
    public func units(under key: PublicKey) throws(AggregationError) -> ReleaseUnits {
        ReleaseUnits(count: allBlocks.reduce(0) { $0 + $1.sums.count }, packedBits: packedBits, key: key)
    }
}
