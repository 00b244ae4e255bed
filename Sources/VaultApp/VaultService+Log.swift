import Foundation
public import VaultAudit
import VaultStore

/// A page of log entries, `GET /v1/log/entries?start=&end=`.
public struct LogEntriesPage: Codable, Sendable {
    /// The entries with start ≤ index < end, in order.
    public var entries: [AuditEntry]
    /// The log's size when read.
    public var size: Int64
    public init(entries: [AuditEntry], size: Int64) {
        self.entries = entries
        self.size = size
    }
}

/// A Merkle proof (RFC 9162): the hashes, base64.
public struct LogProof: Codable, Sendable {
    public var hashes: [String]
    public init(hashes: [String]) { self.hashes = hashes }
}

/// A batch's stored record leaves, hex.
public struct LeavesPage: Codable, Sendable {
    public var leaves: [String]
    public init(leaves: [String]) { self.leaves = leaves }
}

/// Every table an auditor checks against the log, `GET /v1/audit/tables`.
public struct AuditTables: Codable, Sendable {
    public var checkpoints: [AuditExport.CheckpointRow]
    public var cosignatures: [AuditExport.CosignatureRow]
    public var schools: [AuditExport.SchoolRow]
    public var releases: [AuditExport.ReleaseRow]
    public var atoms: [AuditExport.AtomRow]
    public var purged: [AuditExport.PurgeRow]
    public init(checkpoints: [AuditExport.CheckpointRow], cosignatures: [AuditExport.CosignatureRow],
                schools: [AuditExport.SchoolRow], releases: [AuditExport.ReleaseRow], atoms: [AuditExport.AtomRow],
                purged: [AuditExport.PurgeRow]) {
        self.checkpoints = checkpoints
        self.cosignatures = cosignatures
        self.schools = schools
        self.releases = releases
        self.atoms = atoms
        self.purged = purged
    }
}

extension VaultService {
    /// The most entries one page returns.
    public static let maxEntriesPerPage: Int64 = 1000

    /// The latest signed checkpoint with its cosignatures (a C2SP signed note).
    public func checkpoint() async throws(AppError) -> String {
        try await read { () throws(AppError) -> String in
            let note: String?
            do { note = try self.vault.latestCheckpointNote() } catch { throw AppError(error) }
            guard let note else { throw AppError(.notFound, "the vault has no signed checkpoint yet") }
            return note
        }
    }

    /// Entries start ≤ index < end (1-based), at most `maxEntriesPerPage`.
    public func entries(start: Int64, end: Int64?) async throws(AppError) -> LogEntriesPage {
        guard start >= 1, start <= Int64(Int32.max) else { throw AppError(.badRequest, "start must be ≥ 1") }
        let end = end ?? (start + Self.maxEntriesPerPage)
        guard end > start else { throw AppError(.badRequest, "end must be greater than start") }
        let limit = min(end - start, Self.maxEntriesPerPage)
        return try await read { () throws(AppError) -> LogEntriesPage in
            do {
                let size = try self.vault.auditLogSize()
                let entries = try self.vault.auditEntries(from: start, limit: Int(limit))
                return LogEntriesPage(entries: entries, size: size)
            } catch { throw AppError(error) }
        }
    }

    /// The inclusion proof of entry `index` (1-based) in the tree of `size` entries.
    public func inclusionProof(index: Int64, size: Int64) async throws(AppError) -> LogProof {
        guard index >= 1, size >= index, size <= Int64(Int32.max) else {
            throw AppError(.badRequest, "need 1 ≤ index ≤ size")
        }
        return try await read { () throws(AppError) -> LogProof in
            try self.requireSize(size)
            do { return LogProof(hashes: try self.vault.inclusionProof(entry: index, size: size).map { Data($0).base64EncodedString() }) }
            catch { throw AppError(.notFound, "no inclusion proof for those sizes") }
        }
    }

    /// The consistency proof between the trees of `from` and `to` entries.
    public func consistencyProof(from: Int64, to: Int64) async throws(AppError) -> LogProof {
        guard from >= 1, to >= from, to <= Int64(Int32.max) else { throw AppError(.badRequest, "need 1 ≤ from ≤ to") }
        return try await read { () throws(AppError) -> LogProof in
            try self.requireSize(to)
            do { return LogProof(hashes: try self.vault.consistencyProof(from: from, to: to).map { Data($0).base64EncodedString() }) }
            catch { throw AppError(.notFound, "no consistency proof for those sizes") }
        }
    }

    func requireSize(_ size: Int64) throws(AppError) {
        let current: Int64
        do { current = try vault.auditLogSize() } catch { throw AppError(error) }
        guard size <= current else { throw AppError(.notFound, "the log has only \(current) entries") }
    }

    /// The tables an auditor checks against the log.
    public func auditTables() async throws(AppError) -> AuditTables {
        try await read { () throws(AppError) -> AuditTables in
            let source = self.vault.auditSource
            do {
                return AuditTables(checkpoints: try source.checkpoints(), cosignatures: try source.cosignatures(),
                                   schools: try source.schools(), releases: try source.releases(),
                                   atoms: try source.atoms(), purged: try source.purged())
            } catch { throw AppError(.unavailable, "the vault's tables cannot be read") }
        }
    }

    /// A batch's stored records (pseudonyms and ciphertexts, as an export holds them).
    public func records(batch: String) async throws(AppError) -> [AuditExport.RecordRow] {
        guard batch.count == 64, batch.allSatisfy(\.isHexDigit) else { throw AppError(.notFound, "no such batch") }
        return try await read { () throws(AppError) -> [AuditExport.RecordRow] in
            do { return try self.vault.auditSource.records(batch: batch.lowercased()) ?? [] } catch {
                throw AppError(.unavailable, "the batch's records cannot be read")
            }
        }
    }

    /// A batch's stored record leaves.
    public func leaves(batch: String) async throws(AppError) -> LeavesPage {
        guard batch.count == 64, batch.allSatisfy(\.isHexDigit) else { throw AppError(.notFound, "no such batch") }
        return try await read { () throws(AppError) -> LeavesPage in
            let leaves: [[UInt8]]?
            do { leaves = try self.vault.auditSource.leaves(batch: batch.lowercased()) } catch {
                throw AppError(.unavailable, "the batch's leaves cannot be read")
            }
            guard let leaves else { throw AppError(.notFound, "no stored leaves for that batch") }
            return LeavesPage(leaves: leaves.map { $0.map { String(format: "%02x", $0) }.joined() })
        }
    }
}
