import Foundation
import GRDB
import Primitives
import Testing
import VaultAggregation
@testable import VaultAudit
import VaultAuditor
import VaultModel
@testable import VaultStore

/// The vault's tables read through one open transaction, so a test can change a row, verify, and roll back.
struct TransactionSource: AuditSource, RecordSource {
    let db: Database

    func forEachEntry(_ body: (AuditEntry) throws -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit_log ORDER BY idx")
        while let row = try rows.next() { try body(try AuditLog.entry(from: row)) }
    }
    func latestCheckpoint() throws -> String? {
        try String.fetchOne(db, sql: "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
    }
    func checkpoints() throws -> [AuditExport.CheckpointRow] { try Vault.checkpointRows(db) }
    func cosignatures() throws -> [AuditExport.CosignatureRow] { try Vault.cosignatureRows(db) }
    func schools() throws -> [AuditExport.SchoolRow] { try Vault.schoolRows(db) }
    func releases() throws -> [AuditExport.ReleaseRow] { try Vault.releaseRows(db) }
    func atoms() throws -> [AuditExport.AtomRow] { try Vault.atomRows(db) }
    func purged() throws -> [AuditExport.PurgeRow] { try Vault.purgeRows(db) }
    func records(batch: String) throws -> [AuditExport.RecordRow]? {
        var out: [AuditExport.RecordRow] = []
        try Vault.forEachRecordRow(db, batch: batch) { out.append($0) }
        return out
    }
    func leaves(batch: String) throws -> [[UInt8]]? { try Vault.leafRows(db, batch: batch) }
}

/// Issue 9's tamper suite: on a vault built from the real UCI data, with the log's SQLite triggers dropped, 1,000
/// random single changes across records, leaves, atoms, the audit log, schools, releases and checkpoints. The
/// auditor's verifier, run with `--records` against its earlier state, must notice every one.
@Suite("Tamper suite: every change to stored data or the log is detected", .serialized)
struct TamperTests {
    static func uciVault() async throws -> TestVault {
        let records = try ReconstructionTests.uciRecords()
        let vault = try await TestVault(schools: ["GP": ["region": "urban"], "MS": ["region": "rural"]], records: records)
        for query in [Query(by: ["school", "subject"]), Query(by: ["subject", "sex"]), Query(by: ["subject"], contrast: "residence")] {
            _ = try await vault.ask(query)
        }
        return vault
    }

    enum Table: String, CaseIterable {
        case records, leaves, atoms, auditLog, schools, releases, releaseCells, checkpoints
    }

    /// One random change in `db`; returns a description, or nil if the change happened to change nothing.
    static func mutate(_ db: Database, _ table: Table, _ rng: inout Seeded) throws -> String? {
        func pick(_ sql: String) throws -> Int64? {
            let ids = try Int64.fetchAll(db, sql: sql)
            return ids.isEmpty ? nil : ids[Int(rng.next() % UInt64(ids.count))]
        }
        func flip(_ data: Data) -> Data {
            var bytes = Array(data)
            let i = Int(rng.next() % UInt64(max(bytes.count, 1)))
            if bytes.isEmpty { return Data([1]) }
            bytes[i] ^= UInt8(1 + rng.next() % 255)
            return Data(bytes)
        }
        let kind = Int(rng.next() % 4)  // edit, delete, insert, swap
        switch table {
        case .records:
            guard let a = try pick("SELECT rowid FROM records"), let b = try pick("SELECT rowid FROM records") else { return nil }
            switch kind {
            case 0:
                let column = ["ciphertext", "pseudonym", "attrs", "subject"][Int(rng.next() % 4)]
                if column == "ciphertext" || column == "pseudonym" {
                    let value = try Data.fetchOne(db, sql: "SELECT \(column) FROM records WHERE rowid = ?", arguments: [a])!
                    try db.execute(sql: "UPDATE records SET \(column) = ? WHERE rowid = ?", arguments: [flip(value), a])
                } else if column == "attrs" {
                    try db.execute(sql: "UPDATE records SET attrs = replace(replace(attrs, '\"F\"', '\"X\"'), '\"M\"', '\"F\"') WHERE rowid = ?",
                                   arguments: [a])
                } else {
                    try db.execute(sql: "UPDATE records SET subject = subject || 'x' WHERE rowid = ?", arguments: [a])
                }
                return "edit records.\(column)"
            case 1:
                try db.execute(sql: "DELETE FROM records WHERE rowid = ?", arguments: [a])
                return "delete a record"
            case 2:
                try db.execute(sql: """
                    INSERT INTO records (batch_id, school_id, pseudonym, subject, attrs, term, ciphertext, atom_id)
                    SELECT batch_id, school_id, randomblob(32), subject, attrs, term, ciphertext, atom_id FROM records WHERE rowid = ?
                    """, arguments: [a])
                return "insert a record"
            default:
                guard a != b else { return nil }
                let ca = try Data.fetchOne(db, sql: "SELECT ciphertext FROM records WHERE rowid = ?", arguments: [a])!
                let cb = try Data.fetchOne(db, sql: "SELECT ciphertext FROM records WHERE rowid = ?", arguments: [b])!
                guard ca != cb else { return nil }
                try db.execute(sql: "UPDATE records SET ciphertext = ? WHERE rowid = ?", arguments: [cb, a])
                try db.execute(sql: "UPDATE records SET ciphertext = ? WHERE rowid = ?", arguments: [ca, b])
                return "swap two ciphertexts"
            }
        case .leaves:
            guard let row = try Row.fetchAll(db, sql: "SELECT batch_id, leaves FROM batch_leaves").randomElement(using: &rng)
            else { return nil }
            var leaves = Array(row[1] as Data)
            if kind == 1, leaves.count >= 32 {
                let i = Int(rng.next() % UInt64(leaves.count / 32))
                leaves.removeSubrange((i * 32)..<(i * 32 + 32))
                try db.execute(sql: "UPDATE batch_leaves SET leaves = ? WHERE batch_id = ?", arguments: [Data(leaves), row[0]])
                return "delete a leaf"
            }
            try db.execute(sql: "UPDATE batch_leaves SET leaves = ? WHERE batch_id = ?", arguments: [flip(Data(leaves)), row[0]])
            return "edit a leaf"
        case .atoms:
            guard let a = try pick("SELECT id FROM atoms") else { return nil }
            if kind % 2 == 0 {
                try db.execute(sql: "UPDATE atoms SET record_count = record_count + 1 WHERE id = ?", arguments: [a])
                return "edit an atom's size"
            }
            try db.execute(sql: "UPDATE atoms SET digest = randomblob(32) WHERE id = ?", arguments: [a])
            return "edit an atom's digest"
        case .auditLog:
            guard let a = try pick("SELECT idx FROM audit_log"), let b = try pick("SELECT idx FROM audit_log") else { return nil }
            switch kind {
            case 0:
                try db.execute(sql: "UPDATE audit_log SET time = '2020-01-01T00:00:00Z' WHERE idx = ?", arguments: [a])
                return "edit an entry's time"
            case 1:
                try db.execute(sql: "DELETE FROM audit_log WHERE idx = ?", arguments: [a])
                return "delete an entry"
            case 2:
                try db.execute(sql: "INSERT INTO audit_log (idx, time, kind, details, prev_hash, hash) SELECT (SELECT MAX(idx) + 1 FROM audit_log), time, kind, details, prev_hash, hash FROM audit_log WHERE idx = ?", arguments: [a])
                return "insert an entry"
            default:
                guard a != b else { return nil }
                let da = try String.fetchOne(db, sql: "SELECT details FROM audit_log WHERE idx = ?", arguments: [a])!
                let dbb = try String.fetchOne(db, sql: "SELECT details FROM audit_log WHERE idx = ?", arguments: [b])!
                guard da != dbb else { return nil }
                try db.execute(sql: "UPDATE audit_log SET details = ? WHERE idx = ?", arguments: [dbb, a])
                try db.execute(sql: "UPDATE audit_log SET details = ? WHERE idx = ?", arguments: [da, b])
                return "swap two entries' details"
            }
        case .schools:
            let ids = try String.fetchAll(db, sql: "SELECT id FROM schools")
            guard let id = ids.randomElement(using: &rng) else { return nil }
            switch kind {
            case 0:
                try db.execute(sql: "UPDATE schools SET signing_public_key = randomblob(32) WHERE id = ?", arguments: [id])
                return "replace a school's key"
            case 1:
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                try db.execute(sql: "DELETE FROM schools WHERE id = ?", arguments: [id])
                return "delete a school"
            case 2:
                try db.execute(sql: "INSERT INTO schools (id, attributes, signing_public_key, registered) VALUES ('ZZ', '{}', randomblob(32), '2025-01-01T00:00:00Z')")
                return "insert a school"
            default:
                try db.execute(sql: "UPDATE schools SET attributes = '{\"region\":\"rural\",\"x\":\"1\"}' WHERE id = ?", arguments: [id])
                return "edit a school's attributes"
            }
        case .releases:
            let ids = try String.fetchAll(db, sql: "SELECT id FROM releases")
            guard let id = ids.randomElement(using: &rng) else { return nil }
            switch kind {
            case 0:
                try db.execute(sql: "UPDATE releases SET log_index = log_index - 1 WHERE id = ?", arguments: [id])
                return "move a release"
            case 1:
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                try db.execute(sql: "DELETE FROM releases WHERE id = ?", arguments: [id])
                return "delete a release"
            case 2:
                try db.execute(sql: "INSERT INTO releases (id, created, query, log_index, dp_rho_nano) SELECT id || 'x', created, query, log_index, dp_rho_nano FROM releases WHERE id = ?", arguments: [id])
                return "insert a release"
            default:
                try db.execute(sql: "UPDATE releases SET id = id || 'y' WHERE id = ?", arguments: [id])
                return "rename a release"
            }
        case .releaseCells:
            guard let cell = try pick("SELECT rowid FROM release_cells") else { return nil }
            switch kind {
            case 0:
                try db.execute(sql: "UPDATE release_cells SET record_count = record_count + 1 WHERE rowid = ?", arguments: [cell])
                return "edit a released cell's count"
            case 1:
                try db.execute(sql: "DELETE FROM release_cells WHERE rowid = ?", arguments: [cell])
                return "delete a released cell"
            case 2:
                let atoms = try Data.fetchOne(db, sql: "SELECT atoms FROM release_cells WHERE rowid = ?", arguments: [cell]) ?? Data()
                var ids = try MemberSet.decode(atoms)
                ids.append((ids.last ?? 0) + 1)
                try db.execute(sql: "UPDATE release_cells SET atoms = ? WHERE rowid = ?",
                               arguments: [Data(try MemberSet.encode(ids)), cell])
                return "add an atom to a released cell"
            default:
                let atoms = try Data.fetchOne(db, sql: "SELECT atoms FROM release_cells WHERE rowid = ?", arguments: [cell]) ?? Data()
                let ids = try MemberSet.decode(atoms)
                guard ids.count > 1 else { return nil }
                try db.execute(sql: "UPDATE release_cells SET atoms = ? WHERE rowid = ?",
                               arguments: [Data(try MemberSet.encode(Array(ids.dropLast()))), cell])
                return "drop an atom from a released cell"
            }
        case .checkpoints:
            guard let size = try pick("SELECT size FROM checkpoints") else { return nil }
            switch kind {
            case 0, 3:
                let note = try String.fetchOne(db, sql: "SELECT note FROM checkpoints WHERE size = ?", arguments: [size])!
                var bytes = Array(note.utf8)
                let i = Int(rng.next() % UInt64(bytes.count - 1))
                bytes[i] = bytes[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
                try db.execute(sql: "UPDATE checkpoints SET note = ? WHERE size = ?", arguments: [String(decoding: bytes, as: UTF8.self), size])
                return "edit a checkpoint"
            case 1:
                let latest = try Int64.fetchOne(db, sql: "SELECT MAX(size) FROM checkpoints")!
                try db.execute(sql: "DELETE FROM checkpoints WHERE size = ?", arguments: [latest])
                return "delete the latest checkpoint"
            default:
                try db.execute(sql: "INSERT INTO checkpoints (size, note, created) SELECT size + 1000, note, created FROM checkpoints WHERE size = ?",
                               arguments: [size])
                return "insert a checkpoint"
            }
        }
    }

    @Test("1,000 random single changes across records, leaves, atoms, log, schools, releases and checkpoints: all detected")
    func tamperSuite() async throws {
        let vault = try await Self.uciVault()
        let key = try NoteVerifierKey(encoded: try #require(vault.vault.descriptor.logKey))
        // The auditor's earlier state: a verification that passed.
        let baseline = try AuditVerifier(logKey: key).verify(vault.vault.auditSource, records: vault.vault.auditSource)
        #expect(baseline.verdict == .pass, "\(baseline.problems.map(\.message))")
        let state = try #require(baseline.newState)
        let path = vault.vault.directory.appendingPathComponent(Vault.databaseFileName).path
        let queue = try DatabaseQueue(path: path)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete")
        }
        var rng = Seeded(state: 9162)
        var tried = 0, detected = 0
        var missed: [String] = []
        var byTable: [String: Int] = [:]
        while tried < 1000 {
            let table = Table.allCases[Int(rng.next() % UInt64(Table.allCases.count))]
            try queue.inTransaction { db in
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")  // the operator breaks references too; we roll back
                guard let what = try Self.mutate(db, table, &rng) else { return .rollback }
                tried += 1
                byTable[table.rawValue, default: 0] += 1
                let source = TransactionSource(db: db)
                let report = try AuditVerifier(logKey: key, state: state).verify(source, records: source)
                if report.verdict != .pass { detected += 1 } else { missed.append(what) }
                return .rollback
            }
        }
        print("TAMPER: \(detected) of \(tried) detected; by table \(byTable.sorted { $0.key < $1.key })")
        #expect(detected == tried, "missed: \(missed.prefix(10))")
        #expect(byTable.count == Table.allCases.count)
    }

    @Test("An operator who rebuilds the whole log consistently (re-chained, re-signed) is caught by the auditor's state")
    func consistentRebuild() async throws {
        let vault = try await Self.uciVault()
        let key = try NoteVerifierKey(encoded: try #require(vault.vault.descriptor.logKey))
        let baseline = try AuditVerifier(logKey: key).verify(vault.vault.auditSource, records: vault.vault.auditSource)
        let state = try #require(baseline.newState)
        let signer = try #require(vault.vault.logSigner)
        let queue = try DatabaseQueue(path: vault.vault.directory.appendingPathComponent(Vault.databaseFileName).path)
        for keepSize in [false, true] {
            try queue.inTransaction { db in
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                try db.execute(sql: "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete")
                // Rewrite history: drop the last release's entry (or, keeping the size, change its details), re-chain
                // every entry, rebuild the tree and re-sign every checkpoint with the vault's own log key.
                var entries = try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY idx").map(AuditLog.entry(from:))
                let target = try #require(entries.lastIndex { $0.kind == .queryReleased })
                if keepSize { entries[target].details["cells"] = "0" } else { entries.remove(at: target) }
                try db.execute(sql: "DELETE FROM audit_log; DELETE FROM log_state; DELETE FROM log_nodes; DELETE FROM checkpoints")
                var previous: AuditEntry? = nil
                for old in entries {
                    let entry = try AuditChain.entry(after: previous, time: old.time, kind: old.kind, details: old.details)
                    try db.execute(sql: "INSERT INTO audit_log (idx, time, kind, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: [entry.index, entry.time, entry.kind.rawValue,
                                               try CanonicalJSON.string(entry.details), entry.prevHash, entry.hash])
                    previous = entry
                }
                try Vault.sealLog(db, signer: signer)
                let source = TransactionSource(db: db)
                // On its own the rebuilt log is consistent: a fresh auditor with no state sees nothing wrong in the chain
                // and checkpoint; the auditor who kept its state has proof of misbehaviour.
                let fresh = try AuditVerifier(logKey: key).verify(source)
                #expect(fresh.checks.first { $0.name == "signed checkpoint" }?.passed == true)
                let report = try AuditVerifier(logKey: key, state: state).verify(source)
                #expect(report.verdict == .misbehaviour)
                #expect(report.misbehaviour?.kind == (keepSize ? "fork" : "rollback"))
                return .rollback
            }
        }
    }
}
