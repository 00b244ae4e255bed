import Foundation
import GRDB
import Primitives
public import VaultAudit
import VaultModel

extension Vault {
    /// The vault's own database as an audit source (for `eduvault vault check`).
    public var auditSource: LocalAuditSource { LocalAuditSource(vault: self) }
}

/// The vault's own database as an audit source, for `eduvault vault check`: the same verifier an auditor runs on an
/// export, reading the tables directly (each call is one read snapshot).
public struct LocalAuditSource: AuditSource, RecordSource {
    let vault: Vault
    var pool: DatabasePool { vault.pool }

    public func forEachEntry(_ body: (AuditEntry) throws -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit_log ORDER BY idx")
            while let row = try rows.next() { try body(try AuditLog.entry(from: row)) }
        }
    }

    public func latestCheckpoint() throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1") }
    }

    public func checkpoints() throws -> [AuditExport.CheckpointRow] {
        try pool.read { db in try Vault.checkpointRows(db) }
    }

    public func cosignatures() throws -> [AuditExport.CosignatureRow] {
        try pool.read { db in try Vault.cosignatureRows(db) }
    }

    public func schools() throws -> [AuditExport.SchoolRow] { try pool.read { db in try Vault.schoolRows(db) } }
    public func releases() throws -> [AuditExport.ReleaseRow] { try pool.read { db in try Vault.releaseRows(db) } }
    public func atoms() throws -> [AuditExport.AtomRow] { try pool.read { db in try Vault.atomRows(db) } }
    public func purged() throws -> [AuditExport.PurgeRow] { try pool.read { db in try Vault.purgeRows(db) } }

    public func records(batch: String) throws -> [AuditExport.RecordRow]? {
        try pool.read { db in
            var out: [AuditExport.RecordRow] = []
            try Vault.forEachRecordRow(db, batch: batch) { out.append($0) }
            return out
        }
    }

    public func leaves(batch: String) throws -> [[UInt8]]? {
        try pool.read { db in try Vault.leafRows(db, batch: batch) }
    }

}

extension Vault {
    // MARK: - Rows shared with the export and the local audit source

    static func checkpointRows(_ db: Database) throws -> [AuditExport.CheckpointRow] {
        try Row.fetchAll(db, sql: "SELECT size, note, created FROM checkpoints ORDER BY size")
            .map { AuditExport.CheckpointRow(size: $0[0], note: $0[1], created: $0[2]) }
    }

    static func cosignatureRows(_ db: Database) throws -> [AuditExport.CosignatureRow] {
        try Row.fetchAll(db, sql: "SELECT size, witness, line FROM cosignatures ORDER BY size, witness")
            .map { AuditExport.CosignatureRow(size: $0[0], witness: $0[1], line: $0[2]) }
    }

    static func schoolRows(_ db: Database) throws -> [AuditExport.SchoolRow] {
        try Row.fetchAll(db, sql: "SELECT id, attributes, signing_public_key, registered FROM schools ORDER BY id").map
        {
            AuditExport.SchoolRow(
                id: $0[0], attributes: $0[1], signingPublicKey: Hex.encode(Array($0[2] as Data)),
                registered: $0[3])
        }
    }

    static func releaseRows(_ db: Database) throws -> [AuditExport.ReleaseRow] {
        var releases: [AuditExport.ReleaseRow] = []
        for row in try Row.fetchAll(
            db, sql: "SELECT id, log_index, created, query, dp_rho_nano FROM releases ORDER BY log_index")
        {
            let id: String = row[0]
            let cells = try Row.fetchAll(
                db, sql: "SELECT cell_key, record_count, atoms FROM release_cells WHERE release_id = ? ORDER BY rowid",
                arguments: [id]
            ).map { cell in
                AuditExport.CellRow(
                    key: cell[0], count: cell[1], atoms: try MemberSet.decode((cell[2] as Data?) ?? Data()))
            }
            releases.append(
                AuditExport.ReleaseRow(
                    id: id, logIndex: row[1], created: row[2], query: row[3],
                    dpRhoNano: row[4], cells: cells))
        }
        return releases
    }

    static func atomRows(_ db: Database) throws -> [AuditExport.AtomRow] {
        try Row.fetchAll(
            db, sql: "SELECT id, batch_id, school_id, subject, attrs, record_count, digest FROM atoms ORDER BY id"
        )
        .map {
            AuditExport.AtomRow(
                id: $0[0], batch: $0[1], school: $0[2], subject: $0[3], attributes: $0[4],
                count: $0[5], digest: Hex.encode(Array(($0[6] as Data?) ?? Data())))
        }
    }

    static func purgeRows(_ db: Database) throws -> [AuditExport.PurgeRow] {
        try Row.fetchAll(db, sql: "SELECT batch_id, records, log_index FROM purged_batches ORDER BY log_index")
            .map { AuditExport.PurgeRow(batch: $0[0], records: $0[1], logIndex: $0[2]) }
    }

    static func forEachRecordRow(_ db: Database, batch: String, _ body: (AuditExport.RecordRow) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql:
                """
                SELECT rowid, pseudonym, subject, attrs, ciphertext, atom_id,
                       (SELECT ciphertexts FROM record_moments WHERE record_id = records.rowid)
                FROM records WHERE batch_id = ? ORDER BY rowid
                """,
            arguments: [batch])
        while let row = try rows.next() {
            try body(
                AuditExport.RecordRow(
                    rowid: row[0], pseudonym: Hex.encode(Array(row[1] as Data)), subject: row[2], attributes: row[3],
                    ciphertext: (row[4] as Data).base64EncodedString(), atom: row[5],
                    moments: (row[6] as Data?)?.base64EncodedString()))
        }
    }

    static func leafRows(_ db: Database, batch: String) throws -> [[UInt8]]? {
        guard
            let blob = try Data.fetchOne(
                db, sql: "SELECT leaves FROM batch_leaves WHERE batch_id = ?", arguments: [batch])
        else { return nil }
        let bytes = Array(blob)
        return stride(from: 0, to: bytes.count - bytes.count % 32, by: 32).map { Array(bytes[$0..<($0 + 32)]) }
    }
}
