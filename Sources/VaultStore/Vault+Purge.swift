public import Foundation
import GRDB
import VaultAudit
import VaultModel

extension Vault {
    /// What a purge did (or, with `dryRun`, would do).
    public struct PurgeSummary: Sendable, Equatable {
        /// Batches whose records were deleted, and how many records.
        public var batches: Int
        public var records: Int
    }

    /// Deletes the records of every batch received before `cutoff` (retention), one transaction per batch with its
    /// `batch.purged` entry. The batch's leaves, its atoms (as history for LIN-AUDIT) and its ingest entry stay, so
    /// the log still verifies: an auditor re-derives the batch's record root from the stored leaves.
    ///
    /// - Throws: `.database`; `.io` for a cutoff in the future.
    @discardableResult
    public func purge(before cutoff: Date, dryRun: Bool = false, now: Date = Date()) throws(StoreError) -> PurgeSummary
    {
        guard cutoff <= now else { throw StoreError(.io, "the cutoff date is in the future") }
        do {
            let due = try pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, received, record_count FROM batches
                        WHERE id NOT IN (SELECT batch_id FROM purged_batches) ORDER BY log_index
                        """
                ).compactMap { row -> (id: String, records: Int)? in
                    let received: String = row[1]
                    guard let date = Timestamp.parse(received), date < cutoff else { return nil }
                    return (row[0], row[2])
                }
            }
            var summary = PurgeSummary(batches: 0, records: 0)
            for batch in due {
                summary.batches += 1
                summary.records += batch.records
                guard !dryRun else { continue }
                try writeLogged { db in
                    try db.execute(
                        sql: """
                            DELETE FROM record_moments
                            WHERE record_id IN (SELECT rowid FROM records WHERE batch_id = ?)
                            """, arguments: [batch.id])
                    try db.execute(sql: "DELETE FROM records WHERE batch_id = ?", arguments: [batch.id])
                    let entry = try AuditLog.append(
                        db, kind: .batchPurged,
                        details: [
                            "batch": batch.id, "records": String(batch.records),
                            "before": Timestamp.format(cutoff), "reason": "retention",
                        ])
                    try db.execute(
                        sql: "INSERT INTO purged_batches (batch_id, records, log_index) VALUES (?, ?, ?)",
                        arguments: [batch.id, batch.records, entry.index])
                }
            }
            return summary
        } catch { throw StoreError.wrap(error) }
    }
}
