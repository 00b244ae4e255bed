import Foundation
import GRDB
public import VaultAudit
import VaultModel

/// Reading and appending the `audit_log` table. Appends always happen inside the caller's write transaction.
enum AuditLog {
    /// Appends an entry after the current last one, inside `db`'s transaction.
    @discardableResult
    static func append(_ db: Database, kind: AuditKind, details: [String: String], time: String = Timestamp.now())
        throws -> AuditEntry
    {
        let last = try Row.fetchOne(db, sql: "SELECT * FROM audit_log ORDER BY idx DESC LIMIT 1").map(entry(from:))
        let entry = try AuditChain.entry(after: last, time: time, kind: kind, details: details)
        try db.execute(
            sql: "INSERT INTO audit_log (idx, time, kind, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                entry.index, entry.time, entry.kind.rawValue, try CanonicalJSON.string(entry.details), entry.prevHash,
                entry.hash,
            ])
        return entry
    }

    /// The index the next appended entry will get.
    static func nextIndex(_ db: Database) throws -> Int64 {
        (try Int64.fetchOne(db, sql: "SELECT MAX(idx) FROM audit_log") ?? 0) + 1
    }

    static func entry(from row: Row) throws -> AuditEntry {
        let index: Int64 = row["idx"]
        let kindText: String = row["kind"]
        let detailsText: String = row["details"]
        guard let kind = AuditKind(rawValue: kindText) else {
            throw AuditError(.malformedEntry, "entry \(index) has an unknown kind", index: index)
        }
        let details: [String: String]
        do {
            details = try CanonicalJSON.decode([String: String].self, from: Array(detailsText.utf8), what: "details")
        } catch {
            throw AuditError(.malformedEntry, "entry \(index) has malformed details", index: index)
        }
        return AuditEntry(
            index: index, time: row["time"], kind: kind, details: details, prevHash: row["prev_hash"], hash: row["hash"]
        )
    }
}

extension Vault {
    /// Calls `body` with every audit entry in order, reading through a cursor (memory flat in the log size).
    ///
    /// - Throws: `.audit` for an unreadable entry, `.database`; errors thrown by `body` are wrapped.
    public func forEachAuditEntry(from index: Int64 = 1, _ body: (AuditEntry) throws -> Void) throws(StoreError) {
        do {
            try pool.read { db in
                let rows = try Row.fetchCursor(
                    db, sql: "SELECT * FROM audit_log WHERE idx >= ? ORDER BY idx", arguments: [index])
                while let row = try rows.next() { try body(try AuditLog.entry(from: row)) }
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// All audit entries from `index` on, at most `limit` (convenience for small logs and tests).
    public func auditEntries(from index: Int64 = 1, limit: Int = .max) throws(StoreError) -> [AuditEntry] {
        var entries: [AuditEntry] = []
        do {
            try pool.read { db in
                let rows = try Row.fetchCursor(
                    db, sql: "SELECT * FROM audit_log WHERE idx >= ? ORDER BY idx LIMIT ?",
                    arguments: [index, Int64(clamping: limit)])
                while let row = try rows.next() { entries.append(try AuditLog.entry(from: row)) }
            }
        } catch { throw StoreError.wrap(error) }
        return entries
    }

    /// Appends a `query.refused` entry in its own transaction (for the aggregation layer).
    ///
    /// - Parameter details: pseudonymous only — rule ids, counts, query hashes; never scores or student ids.
    @discardableResult
    public func logQueryRefusal(details: [String: String]) throws(StoreError) -> AuditEntry {
        do { return try writeLogged { db in try AuditLog.append(db, kind: .queryRefused, details: details) } } catch {
            throw StoreError.wrap(error)
        }
    }
}
