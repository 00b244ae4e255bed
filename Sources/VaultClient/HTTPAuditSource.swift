import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
public import VaultApp
public import VaultAudit

/// The auditor's verifier reading a live vault over HTTP (issue 9's server form): the same `AuditSource` and
/// `RecordSource` interface as an export directory, so `AuditVerifier` runs unchanged. It trusts nothing the server
/// says: every answer is checked against the pinned log key.
///
/// Reads are synchronous (the verifier's interface is); each call is one or more signed requests.
public struct HTTPAuditSource: AuditSource, RecordSource {
    let client: VaultHTTPClient
    /// The tables, fetched once per source (one snapshot of the vault's tables).
    let tables: AuditTables

    public init(client: VaultHTTPClient) throws(AppError) {
        self.client = client
        let response = try client.sendBlocking(try client.request("GET", "/v1/audit/tables"))
        tables = try client.expect(AuditTables.self, response)
    }

    public func forEachEntry(_ body: (AuditEntry) throws -> Void) throws {
        var start: Int64 = 1
        while true {
            let end = start + VaultService.maxEntriesPerPage
            let response = try client.sendBlocking(try client.request(
                "GET", "/v1/log/entries",
                query: [URLQueryItem(name: "start", value: String(start)), URLQueryItem(name: "end", value: String(end))]))
            let page = try ServiceAnswer.entries(status: response.status, body: response.body, start: start, end: end)
            for entry in page.entries { try body(entry) }
            guard let next = ServiceAnswer.next(after: page, start: start) else { return }
            start = next
        }
    }

    public func latestCheckpoint() throws -> String? {
        let response = try client.sendBlocking(try client.request("GET", "/v1/log/checkpoint"))
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw VaultHTTPClient.problem(response) }
        return String(decoding: response.body, as: UTF8.self)
    }

    public func checkpoints() throws -> [AuditExport.CheckpointRow] { tables.checkpoints }
    public func cosignatures() throws -> [AuditExport.CosignatureRow] { tables.cosignatures }
    public func schools() throws -> [AuditExport.SchoolRow] { tables.schools }
    public func releases() throws -> [AuditExport.ReleaseRow] { tables.releases }
    public func atoms() throws -> [AuditExport.AtomRow] { tables.atoms }
    public func purged() throws -> [AuditExport.PurgeRow] { tables.purged }

    public func records(batch: String) throws -> [AuditExport.RecordRow]? {
        let response = try client.sendBlocking(try client.request("GET", "/v1/audit/records/\(batch)"))
        if response.status == 404 { return nil }
        return try client.expect([AuditExport.RecordRow].self, response)
    }

    public func leaves(batch: String) throws -> [[UInt8]]? {
        let response = try client.sendBlocking(try client.request("GET", "/v1/audit/leaves/\(batch)"))
        if response.status == 404 { return nil }
        return try ServiceAnswer.leaves(try client.expect(LeavesPage.self, response))
    }
}
