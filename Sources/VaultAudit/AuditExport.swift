/// The files `eduvault audit export` writes and `eduvault audit verify --export` reads: everything an auditor needs
/// to check a vault while trusting nothing but the vault's pinned log key.
///
/// | file | content |
/// |---|---|
/// | `entries.jsonl` | every audit entry, in log order (``AuditEntry`` JSON, one a line) |
/// | `checkpoint` | the latest signed checkpoint (a C2SP signed note) |
/// | `checkpoints.jsonl` | every stored checkpoint (``CheckpointRow``) |
/// | `cosignatures.jsonl` | witnesses' cosignatures (``CosignatureRow``) |
/// | `schools.jsonl`, `releases.jsonl`, `atoms.jsonl`, `purged.jsonl` | the vault's tables, to be checked against the log |
/// | `records/<batch>.jsonl` | the stored records of each batch, in stored order (``RecordRow``) |
/// | `leaves/<batch>.txt` | the stored record leaves of each batch (hex, one a line, in batch order) |
/// | `policies/<sha256>.yaml`, `log-key.pub` | conveniences: the policies from the log, the vault's verifier key |
public enum AuditExport {
    public static let entriesFile = "entries.jsonl"
    public static let checkpointFile = "checkpoint"
    public static let checkpointsFile = "checkpoints.jsonl"
    public static let cosignaturesFile = "cosignatures.jsonl"
    public static let schoolsFile = "schools.jsonl"
    public static let releasesFile = "releases.jsonl"
    public static let atomsFile = "atoms.jsonl"
    public static let purgedFile = "purged.jsonl"
    public static let recordsDirectory = "records"
    public static let leavesDirectory = "leaves"
    public static let policiesDirectory = "policies"
    public static let logKeyFile = "log-key.pub"

    /// A row of the `schools` table.
    public struct SchoolRow: Codable, Sendable, Equatable {
        public var id: String
        /// Canonical JSON of the attributes, as stored.
        public var attributes: String
        /// Hex Ed25519 public key.
        public var signingPublicKey: String
        public var registered: String

        public init(id: String, attributes: String, signingPublicKey: String, registered: String) {
            self.id = id
            self.attributes = attributes
            self.signingPublicKey = signingPublicKey
            self.registered = registered
        }

        enum CodingKeys: String, CodingKey {
            case id, attributes, registered
            case signingPublicKey = "signing_public_key"
        }
    }

    /// A released cell as stored.
    public struct CellRow: Codable, Sendable, Equatable {
        public var key: String
        public var count: Int
        public var atoms: [Int64]

        public init(key: String, count: Int, atoms: [Int64]) {
            self.key = key
            self.count = count
            self.atoms = atoms
        }
    }

    /// A row of the `releases` table with its cells.
    public struct ReleaseRow: Codable, Sendable, Equatable {
        public var id: String
        public var logIndex: Int64
        public var created: String
        public var query: String
        public var dpRhoNano: Int64
        public var cells: [CellRow]

        public init(id: String, logIndex: Int64, created: String, query: String, dpRhoNano: Int64, cells: [CellRow]) {
            self.id = id
            self.logIndex = logIndex
            self.created = created
            self.query = query
            self.dpRhoNano = dpRhoNano
            self.cells = cells
        }

        enum CodingKeys: String, CodingKey {
            case id, created, query, cells
            case logIndex = "log_index"
            case dpRhoNano = "dp_rho_nano"
        }
    }

    /// A row of the `atoms` table.
    public struct AtomRow: Codable, Sendable, Equatable {
        public var id: Int64
        public var batch: String
        public var school: String
        public var subject: String
        /// Canonical JSON of the attributes, as stored.
        public var attributes: String
        public var count: Int
        /// Hex SHA-256 over the atom's record leaves in batch order.
        public var digest: String

        public init(
            id: Int64, batch: String, school: String, subject: String, attributes: String, count: Int,
            digest: String
        ) {
            self.id = id
            self.batch = batch
            self.school = school
            self.subject = subject
            self.attributes = attributes
            self.count = count
            self.digest = digest
        }
    }

    /// One stored record.
    public struct RecordRow: Codable, Sendable, Equatable {
        public var rowid: Int64
        /// Hex pseudonym.
        public var pseudonym: String
        public var subject: String
        /// Canonical JSON of the attributes, as stored.
        public var attributes: String
        /// Base64 ciphertext (ciphertext 0).
        public var ciphertext: String
        public var atom: Int64?
        /// Base64 of the record's further ciphertexts (covariate products) concatenated at the key's width; absent
        /// for a record without them (so rows of vaults without covariates export exactly as before).
        public var moments: String?

        public init(
            rowid: Int64, pseudonym: String, subject: String, attributes: String, ciphertext: String,
            atom: Int64?, moments: String? = nil
        ) {
            self.rowid = rowid
            self.pseudonym = pseudonym
            self.subject = subject
            self.attributes = attributes
            self.ciphertext = ciphertext
            self.atom = atom
            self.moments = moments
        }
    }

    /// A stored signed checkpoint.
    public struct CheckpointRow: Codable, Sendable, Equatable {
        public var size: Int64
        public var note: String
        public var created: String

        public init(size: Int64, note: String, created: String) {
            self.size = size
            self.note = note
            self.created = created
        }
    }

    /// A witness's cosignature of a checkpoint: the signature line as it appears in the signed note.
    public struct CosignatureRow: Codable, Sendable, Equatable {
        public var size: Int64
        public var witness: String
        public var line: String

        public init(size: Int64, witness: String, line: String) {
            self.size = size
            self.witness = witness
            self.line = line
        }
    }

    /// A purged batch: its records were deleted under the retention rule; its leaves stay.
    public struct PurgeRow: Codable, Sendable, Equatable {
        public var batch: String
        public var records: Int
        public var logIndex: Int64

        public init(batch: String, records: Int, logIndex: Int64) {
            self.batch = batch
            self.records = records
            self.logIndex = logIndex
        }

        enum CodingKeys: String, CodingKey {
            case batch, records
            case logIndex = "log_index"
        }
    }
}
