public import Foundation
import GRDB
import Primitives
import VaultAudit
import VaultModel

extension Vault {
    /// What an export wrote.
    public struct AuditExportSummary: Sendable {
        public var entries: Int64
        public var checkpoints: Int
        public var batches: Int
        public var records: Int
        public var releases: Int
    }

    /// Writes everything an auditor needs into `directory` (which must not exist, or be empty): the log, the
    /// checkpoints and cosignatures, the vault's tables to check against the log, and every batch's stored records
    /// and leaves (``AuditExport``). Everything comes from one read snapshot; every file is written atomically.
    ///
    /// Complexity: one pass over the log and the records; memory flat in their number.
    /// - Throws: `.io` when the directory exists and is not empty or a file cannot be written; `.database`.
    public func exportAudit(to directory: URL, progress: (String) -> Void = { _ in }) throws(StoreError)
        -> AuditExportSummary
    {
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: directory.path), !existing.isEmpty {
            throw StoreError(.io, "\(directory.path) is not empty; export into a new directory")
        }
        do {
            for sub in ["", AuditExport.recordsDirectory, AuditExport.leavesDirectory, AuditExport.policiesDirectory] {
                try fm.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
        } catch { throw StoreError(.io, "cannot create \(directory.path)") }
        do {
            return try pool.read { db in
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
                func jsonl<T: Encodable>(_ name: String, _ rows: [T]) throws {
                    var data = Data()
                    for row in rows {
                        data.append(try encoder.encode(row))
                        data.append(10)
                    }
                    try AtomicFile.write(data, to: url(name), overwrite: false)
                }

                // The log, streamed.
                var summary = AuditExportSummary(entries: 0, checkpoints: 0, batches: 0, records: 0, releases: 0)
                let writer = try AtomicFile.begin(for: url(AuditExport.entriesFile))
                let entries = try Row.fetchCursor(db, sql: "SELECT * FROM audit_log ORDER BY idx")
                var buffer = Data()
                while let row = try entries.next() {
                    let entry = try AuditLog.entry(from: row)
                    buffer.append(try encoder.encode(entry))
                    buffer.append(10)
                    summary.entries += 1
                    if buffer.count > 1 << 20 {
                        try writer.write(buffer)
                        buffer.removeAll(keepingCapacity: true)
                    }
                    if entry.kind == .policyLoaded, let text = entry.details["text"], let sha = entry.details["sha256"],
                       sha.count == 64, sha.allSatisfy(\.isHexDigit) {
                        try AtomicFile.write(Data(text.utf8), to: url("\(AuditExport.policiesDirectory)/\(sha).yaml"),
                                             overwrite: true)
                    }
                }
                try writer.write(buffer)
                try writer.stage().commit(overwrite: false)
                progress("\(summary.entries) log entries")

                let checkpoints = try Vault.checkpointRows(db)
                summary.checkpoints = checkpoints.count
                try jsonl(AuditExport.checkpointsFile, checkpoints)
                if let latest = checkpoints.last {
                    try AtomicFile.write(Data(latest.note.utf8), to: url(AuditExport.checkpointFile), overwrite: false)
                }
                try jsonl(AuditExport.cosignaturesFile, try Vault.cosignatureRows(db))
                if let key = descriptor.logKey {
                    try AtomicFile.write(Data((key + "\n").utf8), to: url(AuditExport.logKeyFile), overwrite: false)
                }
                try jsonl(AuditExport.schoolsFile, try Vault.schoolRows(db))
                let releases = try Vault.releaseRows(db)
                summary.releases = releases.count
                try jsonl(AuditExport.releasesFile, releases)
                try jsonl(AuditExport.atomsFile, try Vault.atomRows(db))
                try jsonl(AuditExport.purgedFile, try Vault.purgeRows(db))

                // Records and leaves, batch by batch.
                let batches = try String.fetchAll(db, sql: "SELECT id FROM batches ORDER BY log_index")
                for batch in batches {
                    var records = Data()
                    let recordWriter = try AtomicFile.begin(for: url("\(AuditExport.recordsDirectory)/\(batch).jsonl"))
                    try Vault.forEachRecordRow(db, batch: batch) { record in
                        records.append(try encoder.encode(record))
                        records.append(10)
                        summary.records += 1
                        if records.count > 1 << 20 {
                            try recordWriter.write(records)
                            records.removeAll(keepingCapacity: true)
                        }
                    }
                    try recordWriter.write(records)
                    try recordWriter.stage().commit(overwrite: false)
                    let leaves = try Vault.leafRows(db, batch: batch) ?? []
                    try AtomicFile.write(Data(leaves.map { Hex.encode($0) + "\n" }.joined().utf8),
                                         to: url("\(AuditExport.leavesDirectory)/\(batch).txt"), overwrite: false)
                    summary.batches += 1
                }
                progress("\(summary.batches) batches, \(summary.records) records")
                return summary
            }
        } catch let error as AtomicFileError {
            throw StoreError(.io, "cannot write the export: \(error.description)")
        } catch { throw StoreError.wrap(error) }
    }
}
