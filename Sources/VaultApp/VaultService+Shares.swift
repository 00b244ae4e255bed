public import Foundation
public import Paillier
import Primitives
public import VaultAggregation
public import VaultModel
public import VaultStore

/// The answer to `POST /v1/releases/{id}/shares`: the partial the vault stored (201), or the one it already held
/// (200, an identical re-post).
public struct ShareReceipt: Codable, Sendable, Equatable {
    /// The release id.
    public var release: String
    /// The party (the posting member's name).
    public var party: String
    /// Lower-case hex SHA-256 of the partial file as posted.
    public var sha256: String
    /// The `release.share` entry.
    public var logIndex: Int64
    /// When the vault stored it (ISO 8601).
    public var received: String
    /// True for an identical re-post (nothing was written).
    public var alreadyStored: Bool

    public init(release: String, party: String, sha256: String, logIndex: Int64, received: String, alreadyStored: Bool) {
        self.release = release
        self.party = party
        self.sha256 = sha256
        self.logIndex = logIndex
        self.received = received
        self.alreadyStored = alreadyStored
    }

    enum CodingKeys: String, CodingKey {
        case release, party, sha256, received
        case logIndex = "log_index"
        case alreadyStored = "already_stored"
    }
}

/// The answer to `GET /v1/releases/{id}/shares`: every partial decryption the vault accepted for the release.
public struct ReleaseShares: Codable, Sendable, Equatable {
    /// One stored partial.
    public struct Partial: Codable, Sendable, Equatable {
        /// The party.
        public var party: String
        /// Lower-case hex SHA-256 of `partial`'s UTF-8 bytes (the file as posted).
        public var sha256: String
        /// The `release.share` entry.
        public var logIndex: Int64
        /// When the vault stored it.
        public var received: String
        /// The partial decryption file exactly as posted (JSON text, `eduvault-partial/1`).
        public var partial: String

        public init(party: String, sha256: String, logIndex: Int64, received: String, partial: String) {
            self.party = party
            self.sha256 = sha256
            self.logIndex = logIndex
            self.received = received
            self.partial = partial
        }

        enum CodingKeys: String, CodingKey {
            case party, sha256, received, partial
            case logIndex = "log_index"
        }
    }

    /// The release id.
    public var release: String
    /// The stored partials, in the order they arrived.
    public var partials: [Partial]

    public init(release: String, partials: [Partial]) {
        self.release = release
        self.partials = partials
    }
}

extension ServiceRequest {
    /// Reads a posted partial decryption (`POST /v1/releases/{id}/shares`) with the decoder `release decrypt
    /// --threshold` uses (`PartialDecryptionFile.decode`), and checks that its party is the posting member.
    ///
    /// Security: a member posts only under its own name, so the key of one party cannot fill another party's place.
    ///
    /// - Parameter member: the posting member's name.
    /// - Throws: `.badRequest` (400) for a body that is not a partial file (not UTF-8, a repeated JSON key, another
    ///   shape); `.forbidden` (403) for a partial of another party.
    public static func partial(_ body: some Collection<UInt8>, member: String) throws(AppError) -> PartialDecryptionFile {
        let bytes = Array(body)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw AppError(.badRequest, "the body must be a partial decryption file (UTF-8 JSON from `release share`)")
        }
        guard !JSONKeys.hasRepeatedKey(bytes) else {
            throw AppError(.badRequest, "the partial decryption repeats a JSON key; post the file `release share` wrote")
        }
        let file: PartialDecryptionFile
        do { file = try PartialDecryptionFile.decode(Data(bytes)) } catch {
            throw AppError(.badRequest, "the body must be a partial decryption file: \(error.message)")
        }
        guard file.party == member else {
            throw AppError(.forbidden, "member \(member) may post only its own partial decryption; this one is of "
                           + "party \(file.party)")
        }
        return file
    }

    /// Checks a partial decryption read by ``partial(_:member:)`` with ``ThresholdRelease/verify(_:key:partials:)``,
    /// exactly as `release decrypt --threshold` does: this key and ceremony, a party of the key at its index, this
    /// release and its digest, the release's unit layout, and every unit's proof against the party's verification key.
    ///
    /// - Throws: `.unprocessable` (422) naming the party and why (another release or ceremony, an altered value, a
    ///   failed proof), or for a release that is not under the key.
    public static func verifyPartial(_ body: some Collection<UInt8>, party: String, release: some DecryptableRelease,
                                     key: ThresholdPublicKey) async throws(AppError) {
        let verification: ShareVerification
        do { verification = try await ThresholdRelease.verify(release, key: key, partials: [(party, Data(body))]) }
        catch let error as AggregationError { throw AppError(.unprocessable, error.message) }
        catch { throw AppError(.unprocessable, "the partial decryption cannot be checked against this release") }
        if let refusal = verification.refused.first {
            throw AppError(.unprocessable, "the partial decryption of \(refusal.party ?? party) is refused: \(refusal.reason)")
        }
        guard verification.accepted.count == 1 else {
            throw AppError(.unprocessable, "the partial decryption of \(party) is refused")
        }
    }

    /// Whether two partial files are the same partial decryption: equal in everything but the time they were made
    /// and the proofs' randomness (challenge and response). The values c_i = c^(2Δ·s_i) are a function of the
    /// release and the share, so an honest party that runs `release share` again makes the same decryption.
    public static func sameDecryption(_ a: PartialDecryptionFile, _ b: PartialDecryptionFile) -> Bool {
        func values(_ file: PartialDecryptionFile) -> [String] {
            [file.format, file.release, file.releaseSHA256, file.vault, file.keyID, file.ceremony, file.party,
             String(file.index), String(file.cellBits), String(file.cellsPerUnit)]
                + file.units.flatMap { [String($0.firstCell), String($0.cellCount), $0.value] }
        }
        return values(a) == values(b)
    }
}

extension VaultService {
    /// Why `key` is not the threshold key the descriptor's custody names, or nil when it is: the same Paillier key,
    /// ceremony id, threshold, parties (in order) and SHA-256 of the verification keys.
    public static func custodyMismatch(_ key: ThresholdPublicKey, descriptor: Descriptor) -> String? {
        guard let custody = descriptor.custody else { return "the vault's key is one bureau key, not a threshold key" }
        guard key.publicKey.keyID == descriptor.keyID else {
            return "it is for key \(key.publicKey.keyID), not the vault's key \(descriptor.keyID)"
        }
        guard key.ceremonyID == custody.ceremony else {
            return "it is of ceremony \(key.ceremonyID), not the vault's \(custody.ceremony)"
        }
        guard key.threshold == custody.threshold, key.parties.map(\.name) == custody.parties,
              Hex.encode(key.verificationKeysDigest) == custody.verificationKeysSHA256
        else { return "its parties, threshold or verification keys differ from the custody the vault recorded" }
        return nil
    }

    /// The vault's threshold key, read from the file it holds and checked against its descriptor's custody.
    ///
    /// - Throws: `.conflict` (409) for a vault under one bureau key, or a threshold vault that does not hold its
    ///   `threshold.json` yet (the message says how to store it); `.unavailable` when the stored file is damaged.
    public func thresholdKey() throws(AppError) -> ThresholdPublicKey {
        guard vault.descriptor.custody != nil else {
            throw AppError(.conflict, "this vault's key is one bureau key, not a threshold key: it takes no partial "
                           + "decryptions (decrypt with the private key)")
        }
        let stored: [UInt8]?
        do { stored = try vault.thresholdKeyFile() } catch { throw AppError(error) }
        guard let stored else {
            throw AppError(.conflict, "this threshold vault does not hold its threshold.json yet; the operator stores it "
                           + "with `eduvault vault threshold --vault DIR threshold.json`")
        }
        let key: ThresholdPublicKey
        do { key = try ThresholdJSON.decode(Data(stored), allowInsecureSize: true) } catch {
            throw AppError(.unavailable, "the vault's stored threshold key does not decode: \(error.message)")
        }
        if let mismatch = Self.custodyMismatch(key, descriptor: vault.descriptor) {
            throw AppError(.unavailable, "the vault's stored threshold key is not its custody's: \(mismatch)")
        }
        return key
    }

    /// Stores `threshold.json` in a threshold vault made before the vault kept it (`eduvault vault threshold`), with
    /// a `threshold.stored` entry, after checking it against the custody the descriptor and the log recorded.
    ///
    /// - Returns: false when the vault already holds exactly this file.
    /// - Throws: `.conflict` for a vault without threshold custody, a file of another ceremony or key, or a
    ///   different file already stored; `.badRequest` for a file that is not a threshold key.
    @discardableResult
    public func storeThresholdKey(_ data: Data) throws(AppError) -> Bool {
        guard let custody = vault.descriptor.custody else {
            throw AppError(.conflict, "this vault's key is one bureau key, not a threshold key")
        }
        let key: ThresholdPublicKey
        do { key = try ThresholdJSON.decode(data, allowInsecureSize: true) } catch {
            throw AppError(.badRequest, "not a threshold key file: \(error.message)")
        }
        if let mismatch = Self.custodyMismatch(key, descriptor: vault.descriptor) {
            throw AppError(.conflict, "this threshold.json is not the vault's: \(mismatch)")
        }
        do {
            return try vault.storeThresholdKey(
                Array(data), details: ["ceremony": custody.ceremony, "verification_keys_sha256": custody.verificationKeysSHA256])
        } catch { throw AppError(error) }
    }

    /// Verifies and stores a party's partial decryption of release `releaseID`, posted by `member`
    /// (`POST /v1/releases/{id}/shares`), with a `release.share` entry.
    ///
    /// Each party posts one partial per release. Posting the same decryption again (the same file, or `release
    /// share` run again: the same values with fresh proofs) is answered with the stored receipt and writes nothing;
    /// a partial whose values differ from the stored one is refused (409) before its proofs are checked. The proofs
    /// are checked on the read queue (a few exponentiations modulo n² per unit); the store and its entry are one
    /// write transaction.
    ///
    /// - Throws: `.conflict` (409) for a vault without threshold custody or a partial that differs from the one the
    ///   party posted; `.notFound` for an unknown release; `.unprocessable` for a partial the checks refuse (see ``ServiceRequest/verifyPartial(_:party:release:key:)``); `.forbidden` for another party's
    ///   partial; `.badRequest` for a body that is not one; `.unavailable` when it cannot be stored.
    public func postShare(releaseID: String, body: [UInt8], member: Principal) async throws(AppError) -> ShareReceipt {
        let key = try thresholdKey()
        let file = try await releaseFile(id: releaseID)
        // A query release or a model release: partials of either are checked the same way (their proofs live in
        // separate domains, so one kind never verifies for the other).
        let release: any DecryptableRelease
        do {
            release = ModelRelease.isModelRelease(Data(file))
                ? try ModelRelease.decode(Data(file)) : try Release.decode(Data(file))
        } catch {
            throw AppError(.unprocessable, "release \(releaseID) does not decode: \(error.message)")
        }
        let partial = try ServiceRequest.partial(body, member: member.name)
        let earlier: StoredShare?
        do { earlier = try vault.releaseShares(releaseID: release.id).first { $0.party == partial.party } } catch {
            throw AppError(error)
        }
        if let earlier {
            let same = (try? PartialDecryptionFile.decode(Data(earlier.json))).map { ServiceRequest.sameDecryption($0, partial) }
            guard same == true else {
                throw AppError(.conflict, "\(partial.party) already posted a different partial decryption of this release "
                               + "(log #\(earlier.logIndex)); each party posts one")
            }
            return ShareReceipt(release: earlier.releaseID, party: earlier.party, sha256: earlier.sha256,
                                logIndex: earlier.logIndex, received: earlier.received, alreadyStored: true)
        }
        try await ServiceRequest.verifyPartial(body, party: partial.party, release: release, key: key)
        return try await write { () throws(AppError) -> ShareReceipt in
            let stored: (share: StoredShare, alreadyStored: Bool)
            do { stored = try self.vault.storeReleaseShare(releaseID: release.id, party: partial.party, principal: member.id,
                                                             json: body) }
            catch { throw AppError(error) }
            let share = stored.share
            return ShareReceipt(release: share.releaseID, party: share.party, sha256: share.sha256,
                                logIndex: share.logIndex, received: share.received, alreadyStored: stored.alreadyStored)
        }
    }

    /// The partial decryptions stored for a release (`GET /v1/releases/{id}/shares`).
    ///
    /// - Throws: `.conflict` for a vault without threshold custody, `.notFound` for an unknown release.
    public func shares(releaseID: String) async throws(AppError) -> ReleaseShares {
        guard vault.descriptor.custody != nil else {
            throw AppError(.conflict, "this vault's key is one bureau key, not a threshold key: it holds no partial "
                           + "decryptions")
        }
        _ = try await releaseFile(id: releaseID)
        return try await read { () throws(AppError) -> ReleaseShares in
            let stored: [StoredShare]
            do { stored = try self.vault.releaseShares(releaseID: releaseID) } catch { throw AppError(error) }
            return ReleaseShares(release: releaseID, partials: stored.map {
                .init(party: $0.party, sha256: $0.sha256, logIndex: $0.logIndex, received: $0.received,
                      partial: String(decoding: $0.json, as: UTF8.self))
            })
        }
    }
}
