import Foundation
import FuzzSupport
import Primitives
import VaultAggregation
import VaultApp
import VaultAudit
import VaultModel
import VaultStore

/// The service targets' seeds: signed requests of every route (service-signature), query bodies (service-request),
/// the answers of `vault` as the server sends them (service-answer), and member key files (member-key).
func serviceSeeds(vault: Vault) async throws {
    let school = FuzzService.signers[0], bureau = FuzzService.signers[1], revoked = FuzzService.signers[2]
    let query = Array(#"{"by":["subject"],"contrast":"region","filters":{"sex":"F"}}"#.utf8)
    let requests: [(String, FuzzService.TextRequest)] = [
        ("status.txt", FuzzService.signed(bureau, method: "GET", target: "/v1/status", nonce: "fuzz-nonce-status-0001")),
        ("query.txt", FuzzService.signed(bureau, method: "POST", target: "/v1/queries", body: query, nonce: "fuzz-nonce-query-00001")),
        ("entries.txt", FuzzService.signed(bureau, method: "GET", target: "/v1/log/entries?start=1&end=5",
                                           host: "127.0.0.1:8443", scheme: "http", nonce: "fuzz-nonce-entries-001")),
        ("receipt-ipv6.txt", FuzzService.signed(school, method: "GET", target: "/v1/receipts/" + String(repeating: "ab", count: 32),
                                                host: "[::1]:8443", scheme: "http", nonce: "fuzz-nonce-receipt-001")),
        ("batch.txt", FuzzService.signed(school, method: "POST", target: "/v1/batches", body: Array("{\"format\":\"x\"}\n".utf8),
                                         nonce: "fuzz-nonce-batch-000001")),
        ("revoked.txt", FuzzService.signed(revoked, method: "GET", target: "/v1/audit/tables", nonce: "fuzz-nonce-revoked-001")),
    ]
    for (name, request) in requests { try seed("service-signature", name, request.encoded) }

    for (name, body) in [
        ("query.json", #"{"by":["subject"],"contrast":"region","filters":{"sex":"F"}}"#),
        ("minimal.json", #"{"by":["subject"],"filters":{}}"#),
        ("contrast-only.json", #"{"by":[],"contrast":"sex","filters":{"term":"2024-1","region":"rural"}}"#),
        ("client.json", String(decoding: try ServiceRequest.encode(.init(by: ["school", "subject"], filters: ["grade": "7"])), as: UTF8.self)),
        ("spaces.json", #"{ "by" : [ " Subject " ], "filters" : { " Sex " : " F " } , "contrast" : null }"#),
    ] { try seed("service-request", name, Data(body.utf8)) }

    // Answers: kind byte, status byte (index into the target's list), start byte, then the body as the server sends it.
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    func answer(_ name: String, kind: UInt8, status: UInt8 = 0, start: UInt8 = 0, _ body: Data) throws {
        try seed("service-answer", name, Data([kind, status, start]) + body)
    }
    let service = try VaultService(vault: vault)
    try answer("problem-403.json", kind: 0, status: 4, Data(#"{"detail":"role auditor may not query.request under policy p v1","rule":"ROLES","status":403,"title":"Forbidden","type":"https://eduvault.invalid/problems/forbidden"}"#.utf8))
    try answer("problem-plain.txt", kind: 0, status: 13, Data("upstream proxy error".utf8))
    let receipt = Receipt(batchID: String(repeating: "ab", count: 32), schoolID: try SchoolID("GP"), recordCount: 60,
                          contentHash: String(repeating: "cd", count: 32), logIndex: 4, receivedAt: "2026-01-01T00:00:00Z",
                          alreadyStored: false)
    try answer("receipt.json", kind: 1, status: 1, try encoder.encode(receipt))
    try answer("status.json", kind: 2, try encoder.encode(try service.status()))
    try answer("entries.json", kind: 3, try encoder.encode(try await service.entries(start: 1, end: 6)))
    try answer("entries-from-3.json", kind: 3, start: 2, try encoder.encode(try await service.entries(start: 3, end: 5)))
    try answer("proof.json", kind: 4, try encoder.encode(try await service.inclusionProof(index: 2, size: 4)))
    if let batch = try service.statusBatchIDs().first {
        try answer("leaves.json", kind: 5, try encoder.encode(try await service.leaves(batch: batch)))
        try answer("records.json", kind: 7, try encoder.encode(Array(try await service.records(batch: batch).prefix(3))))
    }
    try answer("tables.json", kind: 6, try encoder.encode(try await service.auditTables()))

    let member = MemberKeyFile(format: MemberKeyFile.currentFormat,
                               privateKey: Data(bureau.key.rawRepresentation).base64EncodedString(),
                               publicKey: Data(bureau.key.publicKey.rawRepresentation).base64EncodedString())
    let pretty = JSONEncoder()
    pretty.outputFormatting = [.sortedKeys, .prettyPrinted]
    try seed("member-key", "member.key", try pretty.encode(member))
    try seed("member-key", "member.key.pub", try pretty.encode(member.publicPart))
    let keys = try SchoolKeys(schoolID: try SchoolID("GP"), vaultID: "fuzz-vault", signingSeed: school.key.rawRepresentation,
                              pseudonymKey: SHA256.hash(Array("GP".utf8)))
    try seed("member-key", "school.keys", try pretty.encode(keys))
}

extension VaultService {
    /// The ids of the stored batches (for the leaves and records answers).
    func statusBatchIDs() throws -> [String] {
        try vault.auditEntries().filter { $0.kind == .batchIngested }.compactMap { $0.details["batch"] }
    }
}
