import Primitives
public import VaultModel

/// An error from the audit layer.
///
/// Messages name the entry index and never contain entry details.
public struct AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// Indexes are not 1, 2, 3, … in order.
        case indexOutOfOrder
        /// An entry's `prevHash` is not the previous entry's `hash`.
        case brokenLink
        /// An entry's `hash` does not match its content.
        case hashMismatch
        /// An entry could not be encoded or a hash is malformed.
        case malformedEntry
        /// A Merkle proof is malformed or does not verify, or a proof was asked for sizes that have none.
        case invalidProof
        /// A `MerkleNodeSource` could not give a stored subtree hash, or gave one that is not 32 bytes.
        case nodeUnavailable
        /// A C2SP signed note is not in the strict form this module reads, or is over a size limit.
        case malformedNote
        /// A C2SP tlog-checkpoint body is not in the strict form this module reads, or is over a size limit.
        case malformedCheckpoint
        /// A verifier key (`name+hash+base64`) or key name is malformed, of the wrong type, or its hash is wrong.
        case malformedKey
        /// A signature could not be made (OpenSSL failed) or its inputs are out of range (a timestamp ≥ 2^63).
        case signingFailed
    }

    /// The machine-readable reason.
    public var code: Code
    /// A one-line message.
    public var message: String
    /// The first broken entry, when the error is about one.
    public var index: Int64?

    /// Makes an error.
    public init(_ code: Code, _ message: String, index: Int64? = nil) {
        self.code = code
        self.message = message
        self.index = index
    }

    /// The message.
    public var description: String { message }
}

/// What an audit entry records.
public enum AuditKind: String, Sendable, Codable, CaseIterable {
    /// The vault was created.
    case vaultCreated = "vault.created"
    /// A Paillier public key was registered.
    case keyRegistered = "key.registered"
    /// A policy was loaded (its hash is in the details).
    case policyLoaded = "policy.loaded"
    /// A school was registered.
    case schoolRegistered = "school.registered"
    /// A batch was stored.
    case batchIngested = "batch.ingested"
    /// A batch was refused (reason code in the details).
    case batchRefused = "batch.refused"
    /// An aggregate was released.
    case queryReleased = "query.released"
    /// A query was refused by policy.
    case queryRefused = "query.refused"
    /// The records of a batch were deleted under the retention rule (its leaves stay).
    case batchPurged = "batch.purged"
    /// The log's signing key was created (its verifier key is in the details).
    case logKeyRegistered = "log.key.registered"
    /// A member (bureau, auditor, custodian or operator) was registered with its Ed25519 request key (issue 10).
    case memberAdded = "member.added"
    /// A principal's request key was revoked: a member, or a school (whose batches it then refuses).
    case memberRevoked = "member.revoked"
    /// A signed request was denied by the policy's ROLES rule (principal, role, action; never a body).
    case requestDenied = "request.denied"
    /// A threshold key's public file (`threshold.json`) was stored in a vault made before the vault kept it
    /// (`eduvault vault threshold`); its verification keys match the custody of `key.registered`.
    case thresholdStored = "threshold.stored"
    /// A party's partial decryption of a release was verified and stored (`POST /v1/releases/{id}/shares`): the
    /// release id, the party, the posting principal and the SHA-256 of the partial file; never a value.
    case releaseShare = "release.share"
}

/// One entry of the append-only, hash-chained audit log.
///
/// `hash = SHA-256(prevHash raw bytes ‖ canonical JSON of {details, index, kind, time})`, the JSON with sorted keys
/// as `CanonicalJSON` writes it. The first entry has index 1 and a `prevHash` of 32 zero bytes.
///
/// Security: `details` are pseudonymous only — hashes, counts, school and batch ids; never scores or student ids.
public struct AuditEntry: Sendable, Codable, Equatable {
    /// Position in the log, from 1.
    public var index: Int64
    /// When the entry was written (ISO 8601).
    public var time: String
    /// What happened.
    public var kind: AuditKind
    /// Pseudonymous details.
    public var details: [String: String]
    /// Lower-case hex hash of the previous entry (64 zeros for the first).
    public var prevHash: String
    /// Lower-case hex hash of this entry.
    public var hash: String

    /// Makes an entry from stored fields (no check; use `AuditChain.verify`).
    public init(index: Int64, time: String, kind: AuditKind, details: [String: String], prevHash: String, hash: String)
    {
        self.index = index
        self.time = time
        self.kind = kind
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
    }

    enum CodingKeys: String, CodingKey {
        case index, time, kind, details, hash
        case prevHash = "prev_hash"
    }
}

/// The hashed part of an entry.
private struct HashedContent: Encodable {
    var index: Int64
    var time: String
    var kind: String
    var details: [String: String]
}

/// Building and checking the hash chain.
public enum AuditChain {
    /// The `prevHash` of entry 1: 32 zero bytes.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    /// The hash of an entry with these fields.
    ///
    /// - Throws: `AuditError.malformedEntry` if `prevHash` is not 32 bytes or the content cannot be encoded.
    public static func hash(
        prevHash: [UInt8], index: Int64, time: String, kind: AuditKind, details: [String: String]
    ) throws(AuditError) -> [UInt8] {
        guard prevHash.count == 32 else {
            throw AuditError(.malformedEntry, "entry \(index) has a malformed previous hash", index: index)
        }
        let json: [UInt8]
        do {
            json = try CanonicalJSON.encode(
                HashedContent(index: index, time: time, kind: kind.rawValue, details: details))
        } catch {
            throw AuditError(.malformedEntry, "entry \(index) cannot be encoded", index: index)
        }
        return SHA256.hash(prevHash + json)
    }

    /// The entry that follows `previous` (or the first entry when `previous` is nil).
    public static func entry(
        after previous: AuditEntry?, time: String = Timestamp.now(), kind: AuditKind, details: [String: String]
    ) throws(AuditError) -> AuditEntry {
        let index = (previous?.index ?? 0) + 1
        let prev: [UInt8]
        if let previous {
            guard let bytes = Hex.decode(previous.hash), bytes.count == 32 else {
                throw AuditError(.malformedEntry, "entry \(previous.index) has a malformed hash", index: previous.index)
            }
            prev = bytes
        } else {
            prev = genesisHash
        }
        let hash = try hash(prevHash: prev, index: index, time: time, kind: kind, details: details)
        return AuditEntry(
            index: index, time: time, kind: kind, details: details, prevHash: Hex.encode(prev), hash: Hex.encode(hash))
    }

    /// Checks a whole log from entry 1: indexes contiguous, links intact, every hash recomputed.
    ///
    /// Complexity: O(n) time, O(1) memory beyond one entry.
    /// - Returns: the number of entries checked.
    /// - Throws: `AuditError` naming the first broken index.
    @discardableResult
    public static func verify(_ entries: some Sequence<AuditEntry>) throws(AuditError) -> Int64 {
        var verifier = AuditChainVerifier()
        for entry in entries { try verifier.append(entry) }
        return verifier.count
    }
}

/// Incremental chain verification, for logs read through a cursor.
public struct AuditChainVerifier: Sendable {
    /// Entries checked so far.
    public private(set) var count: Int64 = 0
    /// The hash of the last entry checked (the genesis hash before any).
    public private(set) var lastHash: [UInt8] = AuditChain.genesisHash

    /// Starts at the beginning of the log.
    public init() {}

    /// Checks the next entry.
    ///
    /// - Throws: `AuditError` with the entry's index.
    public mutating func append(_ entry: AuditEntry) throws(AuditError) {
        let expected = count + 1
        guard entry.index == expected else {
            throw AuditError(.indexOutOfOrder, "entry \(expected) is missing or out of order", index: expected)
        }
        guard let prev = Hex.decode(entry.prevHash), prev == lastHash else {
            throw AuditError(
                .brokenLink, "entry \(entry.index) does not link to the entry before it", index: entry.index)
        }
        let recomputed = try AuditChain.hash(
            prevHash: prev, index: entry.index, time: entry.time, kind: entry.kind, details: entry.details)
        guard let stored = Hex.decode(entry.hash), stored == recomputed else {
            throw AuditError(
                .hashMismatch, "entry \(entry.index) does not match its hash: it was altered", index: entry.index)
        }
        count = expected
        lastHash = recomputed
    }
}
