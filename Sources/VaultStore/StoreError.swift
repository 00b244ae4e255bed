import GRDB
import VaultAudit
import VaultModel
import VaultPolicy

/// An error from the vault store.
///
/// Messages are one line, say what to do, and never contain SQL arguments, scores, student ids or pseudonyms.
/// Batch refusals carry the batch line at fault when there is one.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong. The raw values of refusal codes are written into `batch.refused` audit entries.
    public enum Code: String, Sendable {
        /// The directory holds no vault.
        case notAVault = "not_a_vault"
        /// The directory already holds a vault.
        case vaultExists = "vault_exists"
        /// The descriptor is invalid or does not match the vault.
        case invalidDescriptor = "invalid_descriptor"
        /// The policy file is invalid.
        case invalidPolicy = "invalid_policy"
        /// The descriptor names a different policy than the one supplied.
        case policyMismatch = "policy_mismatch"
        /// The key is smaller than the policy's `KEY-MIN`.
        case keyTooSmall = "key_too_small"
        /// The key's custody is weaker than the policy's `DECRYPT-QUORUM` (e.g. one holder where a quorum is required).
        case quorumTooSmall = "quorum_too_small"
        /// A school id is already registered.
        case schoolExists = "school_exists"
        /// A school's registration data is invalid.
        case invalidSchool = "invalid_school"
        /// Batch refused: the school is not registered.
        case unknownSchool = "unknown_school"
        /// Batch refused: it is meant for another vault.
        case wrongVault = "wrong_vault"
        /// Batch refused: it was encrypted under another key.
        case wrongKey = "wrong_key"
        /// Batch refused: it follows another schema.
        case wrongSchema = "wrong_schema"
        /// Batch refused: a line is malformed.
        case malformedBatch = "malformed_batch"
        /// Batch refused: a subject or attribute does not follow the schema.
        case invalidRecord = "invalid_record"
        /// Batch refused: a ciphertext failed validation.
        case invalidCiphertext = "invalid_ciphertext"
        /// Batch refused: a student already has a record for that subject and term.
        case duplicateRecord = "duplicate_record"
        /// Batch refused: the content hash in the trailer does not match.
        case hashMismatch = "hash_mismatch"
        /// Batch refused: the signature does not verify under the school's key.
        case badSignature = "bad_signature"
        /// Batch refused: the file changed while it was being ingested.
        case changedDuringIngest = "changed_during_ingest"
        /// Batch refused: the school's key was revoked (`eduvault member revoke`).
        case revokedSchool = "revoked_school"
        /// A release is malformed (member sets, duplicate ids).
        case invalidRelease = "invalid_release"
        /// A party already posted a different partial decryption of this release (`POST /v1/releases/{id}/shares`),
        /// or the vault already holds a different threshold key file.
        case shareConflict = "share_conflict"
        /// The audit log could not be extended or read.
        case audit = "audit"
        /// SQLite reported an error.
        case database = "database"
        /// A file could not be read or written.
        case io = "io"
    }

    /// The machine-readable reason.
    public var code: Code
    /// A one-line message.
    public var message: String
    /// The batch line at fault, for refusals that have one.
    public var line: Int?

    /// Makes an error.
    public init(_ code: Code, _ message: String, line: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
    }

    /// `true` for the codes that refuse a batch (and are logged as `batch.refused`).
    public var isBatchRefusal: Bool {
        switch code {
        case .unknownSchool, .wrongVault, .wrongKey, .wrongSchema, .malformedBatch, .invalidRecord, .invalidCiphertext,
            .duplicateRecord, .hashMismatch, .badSignature, .changedDuringIngest, .revokedSchool:
            true
        default:
            false
        }
    }

    /// The message, prefixed with the batch line when there is one.
    public var description: String { line.map { "line \($0): \(message)" } ?? message }

    /// Maps any error met inside the store to a `StoreError`, without SQL arguments.
    static func wrap(_ error: any Error) -> StoreError {
        switch error {
        case let error as StoreError:
            return error
        case let error as DatabaseError:
            return StoreError(
                .database, "SQLite error \(error.extendedResultCode.rawValue): \(error.message ?? "unknown")")
        case let error as AuditError:
            return StoreError(.audit, error.message)
        case let error as ModelError:
            return StoreError(.invalidDescriptor, error.description)
        case let error as PolicyError:
            return StoreError(.invalidPolicy, error.message)
        default:
            return StoreError(.database, "unexpected storage failure")
        }
    }

    /// Maps a batch-reading error to its refusal code.
    static func refusal(_ error: ModelError) -> StoreError {
        let code: Code =
            switch error.code {
            case .batchHashMismatch: .hashMismatch
            case .badSignature: .badSignature
            case .invalidSubject, .unknownAttribute, .attributeValueNotAllowed: .invalidRecord
            case .io: .io
            default: .malformedBatch
            }
        return StoreError(code, error.message, line: error.line)
    }
}
