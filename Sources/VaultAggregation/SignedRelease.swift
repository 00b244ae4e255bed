public import Foundation
public import VaultAudit
public import VaultStore

/// A release the vault signs with its log key: query releases and model releases (``ReleaseSignature``).
///
/// The vault signs inside the release's transaction, before the log entry binds the file's SHA-256, so the bytes
/// the bureau gets, the bytes the log binds and the bytes the signature covers are the same release. Whoever uses a
/// release's ciphertexts — a threshold party computing a partial decryption, a bureau decrypting, a bureau that
/// requires cosigned checkpoints — checks the signature against the vault's pinned log key first.
public protocol SignedRelease: Sendable {
    /// The vault's signature (`vault_signature`), nil in releases made before releases were signed.
    var vaultSignature: String? { get set }
    /// The release as canonical JSON.
    func jsonData() throws -> Data
}

extension SignedRelease {
    /// The canonical encoding the signature covers: the release without its signature.
    func unsignedCanonical() throws(AggregationError) -> [UInt8] {
        var copy = self
        copy.vaultSignature = nil
        do { return Array(try copy.jsonData()) } catch {
            throw AggregationError(.invalidRelease, "the release cannot be encoded")
        }
    }

    /// Signs the release with `vault`'s log key.
    ///
    /// - Throws: ``AggregationError`` `.storage` when the vault cannot sign.
    public mutating func sign(by vault: Vault) throws(AggregationError) {
        let canonical = try unsignedCanonical()
        do { vaultSignature = try vault.signRelease(canonical) } catch {
            throw AggregationError(.storage, error.message)
        }
    }

    /// Checks that the vault whose log key is `key` made this release, unchanged.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release without a signature, or one whose signature is
    ///   not `key`'s over exactly this release's content.
    public func verifySignature(_ key: NoteVerifierKey) throws(AggregationError) {
        guard let signature = vaultSignature else {
            throw AggregationError(
                .invalidRelease,
                "the release carries no vault signature (made before releases were signed, or the signature was "
                    + "removed), so it cannot be checked against the log key")
        }
        guard ReleaseSignature.isValid(signature, canonical: try unsignedCanonical(), key: key) else {
            throw AggregationError(
                .invalidRelease,
                "the release's vault signature does not verify with the log key \(key.name): the release was changed "
                    + "after the vault made it, or it comes from another vault")
        }
    }
}

extension Release: SignedRelease {}
extension ModelRelease: SignedRelease {}
