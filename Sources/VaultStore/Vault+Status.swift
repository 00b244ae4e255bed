import Foundation
import GRDB
public import VaultAudit
public import VaultModel

/// Record counts for one school and subject.
public struct RecordCount: Sendable, Equatable {
    /// The school.
    public var schoolID: String
    /// The subject.
    public var subject: String
    /// Stored records.
    public var count: Int

    /// Makes a count.
    public init(schoolID: String, subject: String, count: Int) {
        self.schoolID = schoolID
        self.subject = subject
        self.count = count
    }
}

/// What an operator sees with `status`.
public struct VaultStatus: Sendable {
    /// The vault id.
    public var vaultID: String
    /// The Paillier key id.
    public var keyID: String
    /// The key size in bits.
    public var keyBits: Int
    /// The policy in force.
    public var policy: PolicyReference
    /// Registered schools.
    public var schools: [SchoolInfo]
    /// Records per school and subject, ordered by school then subject.
    public var recordCounts: [RecordCount]
    /// Stored batches.
    public var batchCount: Int
    /// Audit log length.
    public var auditEntryCount: Int64
    /// Bytes on disk: the database plus its write-ahead log.
    public var fileBytes: Int64
    /// Releases recorded.
    public var releaseCount: Int
    /// The zCDP budget spent by all releases, in units of 10⁻⁹.
    public var privacySpentNano: Int64
}

/// The result of `integrityCheck()`.
public struct IntegrityReport: Sendable {
    /// Lines from `PRAGMA integrity_check` (`["ok"]` when healthy).
    public var sqliteIntegrity: [String]
    /// Rows reported by `PRAGMA foreign_key_check`.
    public var foreignKeyViolations: Int
    /// Audit entries verified (up to the first broken one).
    public var auditEntriesVerified: Int64
    /// The first audit chain failure, if any.
    public var auditFailure: AuditError?
    /// Records whose atom is missing or disagrees with them, plus atoms whose record count is wrong.
    public var atomProblems: Int

    /// `true` when SQLite, foreign keys, atoms and the audit chain are all sound.
    public var isHealthy: Bool {
        sqliteIntegrity == ["ok"] && foreignKeyViolations == 0 && auditFailure == nil && atomProblems == 0
    }
}

extension Vault {
    /// Schools, record counts, key, policy and file size.
    public func status() throws(StoreError) -> VaultStatus {
        do {
            let schools = try schools()
            let (counts, batches, entries, policy, releases) = try pool.read { db in
                let counts = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT school_id, subject, COUNT(*) AS n FROM records
                        GROUP BY school_id, subject ORDER BY 1, 2
                        """
                ).map { RecordCount(schoolID: $0["school_id"], subject: $0["subject"], count: $0["n"]) }
                let batches = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batches") ?? 0
                let entries = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log") ?? 0
                let meta = try Row.fetchOne(db, sql: "SELECT policy_id, policy_version, policy_sha256 FROM meta")
                let policy = meta.map {
                    PolicyReference(id: $0["policy_id"], version: $0["policy_version"], sha256: $0["policy_sha256"])
                }
                let releases = try Row.fetchOne(
                    db, sql: "SELECT COUNT(*), COALESCE(SUM(dp_rho_nano), 0) FROM releases")
                let releaseCount: Int = releases?[0] ?? 0
                let spent: Int64 = releases?[1] ?? 0
                return (counts, batches, entries, policy, (count: releaseCount, spent: spent))
            }
            var bytes: Int64 = 0
            let path = directory.appendingPathComponent(Vault.databaseFileName).path
            for suffix in ["", "-wal"] {
                let attributes = try? FileManager.default.attributesOfItem(atPath: path + suffix)
                bytes += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            }
            return VaultStatus(
                vaultID: descriptor.vaultID, keyID: descriptor.keyID, keyBits: descriptor.keyBits,
                policy: policy ?? descriptor.policy, schools: schools, recordCounts: counts, batchCount: batches,
                auditEntryCount: entries, fileBytes: bytes, releaseCount: releases.count,
                privacySpentNano: releases.spent)
        } catch { throw StoreError.wrap(error) }
    }

    /// Runs `PRAGMA integrity_check`, `PRAGMA foreign_key_check` and verifies the whole audit chain.
    ///
    /// Complexity: reads the whole database once; memory flat in the log size.
    /// - Throws: `.database` only when the checks cannot run; problems found are in the report.
    public func integrityCheck() throws(StoreError) -> IntegrityReport {
        do {
            return try pool.read { db in
                let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
                let violations = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count
                var verifier = AuditChainVerifier()
                var failure: AuditError?
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit_log ORDER BY idx")
                while let row = try rows.next() {
                    do { try verifier.append(try AuditLog.entry(from: row)) } catch let error as AuditError {
                        failure = error
                        break
                    }
                }
                // Every record belongs to the atom of its batch, subject and attributes; atom sizes are exact.
                var atomProblems = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM records r LEFT JOIN atoms a ON a.id = r.atom_id
                        WHERE a.id IS NULL OR a.batch_id != r.batch_id OR a.school_id != r.school_id
                            OR a.subject != r.subject OR a.attrs != r.attrs
                        """) ?? 0
                var counted: [Int64: Int] = [:]
                let groups = try Row.fetchCursor(
                    db, sql: "SELECT atom_id, COUNT(*) FROM records WHERE atom_id IS NOT NULL GROUP BY atom_id")
                while let row = try groups.next() { counted[row[0]] = row[1] }
                let atoms = try Row.fetchCursor(
                    db, sql: "SELECT id, record_count FROM atoms WHERE batch_id NOT IN (SELECT batch_id FROM purged_batches)")
                while let row = try atoms.next() {
                    let id: Int64 = row[0], size: Int = row[1]
                    if counted[id] ?? 0 != size { atomProblems += 1 }
                }
                return IntegrityReport(
                    sqliteIntegrity: integrity, foreignKeyViolations: violations,
                    auditEntriesVerified: verifier.count, auditFailure: failure, atomProblems: atomProblems)
            }
        } catch { throw StoreError.wrap(error) }
    }
}
