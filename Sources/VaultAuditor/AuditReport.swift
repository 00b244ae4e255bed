/// The state an auditor keeps between verifications: the last checkpoint it verified, signed.
///
/// A later checkpoint must extend it (same origin, size ≥, and the same root at the old size), or the vault has
/// rolled back or forked its log, and the two signed checkpoints are the proof.
public struct AuditorState: Codable, Sendable, Equatable {
    /// The log's origin (the checkpoint's first line).
    public var origin: String
    /// Tree size and base64 root of the last verified checkpoint.
    public var size: Int64
    public var root: String
    /// The signed checkpoint itself (C2SP signed note), kept as evidence.
    public var checkpoint: String
    /// When it was verified (ISO 8601).
    public var verified: String

    public init(origin: String, size: Int64, root: String, checkpoint: String, verified: String) {
        self.origin = origin
        self.size = size
        self.root = root
        self.checkpoint = checkpoint
        self.verified = verified
    }
}

/// Everything `audit verify` found, for the terminal, for `--json` and for the compliance report.
public struct AuditReport: Codable, Sendable {
    /// The overall outcome.
    public enum Verdict: String, Codable, Sendable {
        /// Every check passed.
        case pass
        /// Some check failed: the data or the log does not match what was signed.
        case fail
        /// The vault signed two checkpoints that cannot both be true (a rollback or a fork).
        case misbehaviour
    }

    /// One named check.
    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    /// One problem, named by batch and entry where it concerns one.
    public struct Problem: Codable, Sendable, Equatable {
        public var check: String
        public var entry: Int64?
        public var batch: String?
        public var message: String
    }

    /// Proof of misbehaviour: two signed checkpoints that cannot both be true.
    public struct Misbehaviour: Codable, Sendable, Equatable {
        /// `rollback` (the new checkpoint is smaller) or `fork` (same prefix, different roots).
        public var kind: String
        public var earlier: String
        public var later: String
    }

    public struct PolicyEvent: Codable, Sendable, Equatable {
        public var entry: Int64
        public var time: String
        public var id: String
        public var version: Int
        public var sha256: String
    }

    public struct SchoolEvent: Codable, Sendable, Equatable {
        public var entry: Int64
        public var id: String
        /// First 8 bytes of SHA-256 of the Ed25519 key, hex.
        public var keyFingerprint: String
        public var attributes: [String: String]
    }

    public struct KeyEvent: Codable, Sendable, Equatable {
        public var entry: Int64
        public var keyID: String
        public var bits: Int
        /// How the key is held, as the key event records it: `nil` for one bureau key, else e.g.
        /// `threshold 2 of 3 (bureau, auditor, custodian), ceremony tk-…`.
        public var custody: String?
    }

    /// Batches and records per school per month (from the ingest entries' times).
    public struct MonthRow: Codable, Sendable, Equatable {
        public var school: String
        public var month: String
        public var batches: Int
        public var records: Int
    }

    /// A batch older than the retention rule allows and not purged.
    public struct RetentionRow: Codable, Sendable, Equatable {
        public var batch: String
        public var school: String
        public var received: String
        public var records: Int
        public var ageDays: Int
    }

    public var verdict: Verdict
    public var checks: [Check]
    public var problems: [Problem]
    /// What could not be checked (for example batches ingested before the log bound its data), without being wrong.
    public var notes: [Problem]
    public var misbehaviour: Misbehaviour?
    /// The log: entries read, the checkpoint's size and root (hex).
    public var entries: Int64
    public var checkpointSize: Int64
    public var root: String
    public var origin: String
    public var policies: [PolicyEvent]
    public var schools: [SchoolEvent]
    public var keys: [KeyEvent]
    public var months: [MonthRow]
    /// Released cells, and withheld cells by rule; whole queries refused by rule.
    public var releases: Int
    public var releasedCells: Int
    public var withheldByRule: [String: Int]
    public var refusalsByRule: [String: Int]
    public var retention: [RetentionRow]
    public var retentionDays: Int?
    /// The state to keep for the next verification (nil unless the verdict is `pass`).
    public var newState: AuditorState?
}
