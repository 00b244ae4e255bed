/// Where an auditor's verifier reads a vault from: an export directory, the vault's own database (`vault check`), or
/// (with the service) a server. The verifier trusts none of them; it checks everything against the pinned log key.
public protocol AuditSource {
    /// Calls `body` with every log entry, in log order.
    func forEachEntry(_ body: (AuditEntry) throws -> Void) throws
    /// The latest signed checkpoint (a C2SP signed note), if any.
    func latestCheckpoint() throws -> String?
    /// Every stored checkpoint.
    func checkpoints() throws -> [AuditExport.CheckpointRow]
    /// Stored cosignatures.
    func cosignatures() throws -> [AuditExport.CosignatureRow]
    /// The vault's tables, to check against the log.
    func schools() throws -> [AuditExport.SchoolRow]
    func releases() throws -> [AuditExport.ReleaseRow]
    func atoms() throws -> [AuditExport.AtomRow]
    func purged() throws -> [AuditExport.PurgeRow]
}

/// Where the verifier reads stored records from (`--records`).
public protocol RecordSource {
    /// The stored records of a batch in stored order, or nil when the source has none for it.
    func records(batch: String) throws -> [AuditExport.RecordRow]?
    /// The stored leaves of a batch in batch order, or nil.
    func leaves(batch: String) throws -> [[UInt8]]?
}
