import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
@testable import VaultHTTP
import VaultApp
import VaultAudit
import VaultStore

/// Every signed route through Hummingbird's router test client, each with the eight cases of issue 10.
@Suite("Service routes", .serialized)
struct RouterTests {
    enum Route: String, CaseIterable, Sendable {
        case uploadBatch, receipt, query, model, release, status, checkpoint, entries, inclusion, consistency, tables, records, leaves

        var method: HTTPRequest.Method { self == .uploadBatch || self == .query || self == .model ? .post : .get }

        func uri(_ f: ServiceFixture) -> String {
            switch self {
            case .uploadBatch: "/v1/batches"
            case .receipt: "/v1/receipts/\(f.storedBatch)"
            case .query: "/v1/queries"
            case .model: "/v1/models"
            case .release: "/v1/releases/\(f.releaseID)"
            case .status: "/v1/status"
            case .checkpoint: "/v1/log/checkpoint"
            case .entries: "/v1/log/entries?start=1&end=5"
            case .inclusion: "/v1/log/proofs/inclusion?index=2&size=5"
            case .consistency: "/v1/log/proofs/consistency?from=2&to=5"
            case .tables: "/v1/audit/tables"
            case .records: "/v1/audit/records/\(f.storedBatch)"
            case .leaves: "/v1/audit/leaves/\(f.storedBatch)"
            }
        }

        func body(_ f: ServiceFixture) throws -> [UInt8] {
            switch self {
            case .uploadBatch: Array(try Data(contentsOf: f.freshBatch))
            case .query: Array(#"{"by":["subject"],"filters":{},"contrast":"region"}"#.utf8)
            case .model: Array(#"{"formula":"score ~ sex","filters":{"subject":"math"}}"#.utf8)
            default: []
            }
        }

        /// A principal whose role the default policy's ROLES rule allows, one it does not, and a revoked one.
        var right: String {
            switch self {
            case .uploadBatch, .receipt: "GP"
            case .query, .model, .release: "bureau"
            case .status: "operator"
            default: "auditor"
            }
        }
        var wrong: String {
            switch self {
            case .uploadBatch, .receipt: "bureau"
            case .query, .model: "auditor"
            case .release, .status: "GP"
            default: "bureau"
            }
        }
        var revoked: String {
            switch self {
            case .uploadBatch, .receipt: "RV"
            case .query, .model, .release: "revoked-bureau"
            case .status: "revoked-operator"
            default: "revoked-auditor"
            }
        }
        var success: Set<Int> {
            switch self {
            case .uploadBatch: [201, 200]
            case .query, .model: [201]
            default: [200]
            }
        }
    }

    static func configuration() -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.maxBatchBytes = 256 << 10
        // The router test client sends `Host: localhost`. Without --authority a server answers to its own names with
        // the port it listens on, which a router test never does (tests on a real socket set this back to []).
        configuration.authorities = ["localhost"]
        return configuration
    }

    /// Signed headers for a router-test request (the test client's authority is `localhost`, scheme http).
    static func headers(_ identity: Identity, _ method: HTTPRequest.Method, _ uri: String, body: [UInt8],
                        created: Int64 = Int64(Date().timeIntervalSince1970), nonce: String? = nil) throws -> HTTPFields {
        let signed = try HTTPMessageSignature.sign(method: method.rawValue, targetURI: "http://localhost" + uri, body: body,
                                                   keyID: identity.keyID, key: identity.key, created: created, nonce: nonce)
        var fields = HTTPFields()
        fields[HTTPField.Name("Content-Digest")!] = signed.contentDigest
        fields[HTTPField.Name("Signature-Input")!] = signed.signatureInput
        fields[HTTPField.Name("Signature")!] = signed.signature
        return fields
    }

    static func buffer(_ bytes: [UInt8]) -> ByteBuffer? { bytes.isEmpty ? nil : ByteBuffer(bytes: bytes) }

    @Test("Each route: right role, unsigned, wrong role, revoked key, stale created, replayed nonce, body changed after signing, oversized body",
          arguments: Route.allCases)
    func eightCases(route: Route) async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let service = try fixture.service()
        let configuration = Self.configuration()
        let app = try VaultServer.application(service: service, configuration: configuration)
        let uri = route.uri(fixture)
        let body = try route.body(fixture)
        try await app.test(.router) { client in
            try await Self.eightCases(client, label: "\(route)", identity: fixture.identity, method: route.method, uri: uri,
                                      body: body, right: route.right, wrong: route.wrong, revoked: route.revoked,
                                      success: route.success,
                                      limit: route == .uploadBatch ? configuration.maxBatchBytes : configuration.maxRequestBytes)
        }
    }

    /// The eight cases of issue 10 against one route: signed by `right` (a status in `success`), unsigned (401), by
    /// `wrong` (403 citing ROLES), by `revoked` (401), created too old or too far ahead (401), a replayed nonce
    /// (401), the body changed after signing (401), a body over `limit` (413).
    static func eightCases(_ client: some TestClientProtocol, label: String, identity: (String) throws -> Identity,
                           method: HTTPRequest.Method, uri: String, body: [UInt8], right: String, wrong: String,
                           revoked: String, success: Set<Int>, limit: Int) async throws {
        func send(_ name: String?, body sent: [UInt8]? = nil, created: Int64? = nil, nonce: String? = nil,
                  signedBody: [UInt8]? = nil) async throws -> (Int, String) {
            var fields = HTTPFields()
            if let name {
                fields = try headers(try identity(name), method, uri, body: signedBody ?? body,
                                     created: created ?? Int64(Date().timeIntervalSince1970), nonce: nonce)
            }
            return try await client.execute(uri: uri, method: method, headers: fields, body: buffer(sent ?? body)) { response in
                (Int(response.status.code), String(buffer: response.body))
            }
        }
        // 1. signed by the right role
        let (ok, okBody) = try await send(right)
        #expect(success.contains(ok), "\(label): right role got \(ok): \(okBody)")
        // 2. unsigned
        let (unsigned, unsignedBody) = try await send(nil)
        #expect(unsigned == 401 && unsignedBody.contains("not signed"), "\(label): unsigned got \(unsigned)")
        // 3. signed by the wrong role: 403 citing ROLES
        let (wrongStatus, wrongBody) = try await send(wrong)
        #expect(wrongStatus == 403 && wrongBody.contains("\"rule\":\"ROLES\""), "\(label): wrong role got \(wrongStatus): \(wrongBody)")
        // 4. revoked key
        let (revokedStatus, revokedBody) = try await send(revoked)
        #expect(revokedStatus == 401 && revokedBody.contains("revoked"), "\(label): revoked got \(revokedStatus): \(revokedBody)")
        // 5. stale created (301 s old), and one too far ahead
        let (stale, _) = try await send(right, created: Int64(Date().timeIntervalSince1970) - 301)
        #expect(stale == 401, "\(label): stale got \(stale)")
        let (ahead, _) = try await send(right, created: Int64(Date().timeIntervalSince1970) + 120)
        #expect(ahead == 401, "\(label): future got \(ahead)")
        // 6. replayed nonce: the same signature twice
        let nonce = try HTTPMessageSignature.newNonce()
        let (first, _) = try await send(right, nonce: nonce)
        let (replayed, replayedBody) = try await send(right, nonce: nonce)
        #expect(success.contains(first), "\(label): first of a pair got \(first)")
        #expect(replayed == 401 && replayedBody.contains("nonce"), "\(label): replay got \(replayed): \(replayedBody)")
        // 7. body changed after signing
        var changed = body.isEmpty ? Array("x".utf8) : body
        changed[changed.count / 2] ^= 0x01
        let (tampered, tamperedBody) = try await send(right, body: changed, signedBody: body)
        #expect(tampered == 401 && tamperedBody.contains("Content-Digest"), "\(label): changed body got \(tampered): \(tamperedBody)")
        // 8. oversized body, correctly signed
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: limit + 1)
        let (oversized, oversizedBody) = try await send(right, body: big, signedBody: big)
        #expect(oversized == 413, "\(label): oversized got \(oversized): \(oversizedBody)")
    }

    @Test("Unsigned public routes: health, Prometheus metrics, the OpenAPI document (equal to the file in the repository)")
    func publicRoutes() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let app = try VaultServer.application(service: try fixture.service(), configuration: Self.configuration())
        let file = try String(contentsOf: Tool.root.appendingPathComponent("Sources/VaultHTTP/openapi.yaml"), encoding: .utf8)
        #expect(OpenAPIDocument.yaml == file, "OpenAPIDocument.swift must embed Sources/VaultHTTP/openapi.yaml byte for byte")
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body) == file)
            }
            try await client.execute(uri: "/v1/status", method: .get) { #expect($0.status.code == 401) }
            try await client.execute(uri: "/v1/nothing", method: .get) { #expect($0.status.code == 404) }
            try await client.execute(uri: "/v1/status", method: .post) { #expect($0.status.code == 405) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"eduvault_http_requests_total{method="GET",route="/v1/status",status="401"} 1"#), "\(text)")
                #expect(text.contains("eduvault_http_request_duration_seconds_bucket"))
                #expect(text.contains(#"eduvault_authentication_failures_total{reason="missing"} 1"#))
                #expect(text.contains("eduvault_records_ingested_total 0"))
            }
        }
    }

    @Test("A denial is logged like a query refusal (request.denied, rule ROLES) and counted by rule")
    func denialIsLogged() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let service = try fixture.service()
        let app = try VaultServer.application(service: service, configuration: Self.configuration())
        let before = try service.vault.auditEntries().count
        try await app.test(.router) { client in
            let headers = try Self.headers(try fixture.identity("GP"), .get, "/v1/status", body: [])
            try await client.execute(uri: "/v1/status", method: .get, headers: headers) { #expect($0.status.code == 403) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains(#"eduvault_refusals_total{rule="ROLES"} 1"#))
            }
        }
        let entries = try service.vault.auditEntries()
        #expect(entries.count == before + 1)
        let denial = try #require(entries.last)
        #expect(denial.kind.rawValue == "request.denied")
        #expect(denial.details["rule"] == "ROLES" && denial.details["principal"] == "GP" && denial.details["action"] == "status.read")
    }

    @Test("A school uploads only batches signed for itself; another school's receipt is not found; records counted")
    func schoolsStayInTheirLane() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let app = try VaultServer.application(service: try fixture.service(), configuration: Self.configuration())
        let batch = Array(try Data(contentsOf: fixture.freshBatch))
        try await app.test(.router) { client in
            let ms = try fixture.identity("MS")
            try await client.execute(uri: "/v1/batches", method: .post,
                                     headers: try Self.headers(ms, .post, "/v1/batches", body: batch), body: ByteBuffer(bytes: batch)) {
                #expect($0.status.code == 403 && String(buffer: $0.body).contains("signed for itself"))
            }
            let receipt = "/v1/receipts/\(fixture.storedBatch)"
            try await client.execute(uri: receipt, method: .get, headers: try Self.headers(ms, .get, receipt, body: [])) {
                #expect($0.status.code == 404)
            }
            let gp = try fixture.identity("GP")
            try await client.execute(uri: "/v1/batches", method: .post,
                                     headers: try Self.headers(gp, .post, "/v1/batches", body: batch), body: ByteBuffer(bytes: batch)) {
                #expect($0.status.code == 201)
            }
            try await client.execute(uri: "/v1/batches", method: .post,
                                     headers: try Self.headers(gp, .post, "/v1/batches", body: batch), body: ByteBuffer(bytes: batch)) {
                #expect($0.status.code == 200 && String(buffer: $0.body).contains("\"already_stored\":true"))
            }
            try await client.execute(uri: "/metrics", method: .get) {
                #expect(String(buffer: $0.body).contains("eduvault_records_ingested_total 30"))
            }
        }
    }

    @Test("Per-principal rate limit: past the burst, 429 with Retry-After")
    func rateLimit() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        var configuration = Self.configuration()
        configuration.ratePerMinute = 6
        configuration.rateBurst = 2
        let app = try VaultServer.application(service: try fixture.service(), configuration: configuration)
        try await app.test(.router) { client in
            var statuses: [Int] = []
            for _ in 0..<4 {
                let headers = try Self.headers(try fixture.identity("operator"), .get, "/v1/status", body: [])
                statuses.append(try await client.execute(uri: "/v1/status", method: .get, headers: headers) { Int($0.status.code) })
            }
            #expect(statuses == [200, 200, 429, 429], "\(statuses)")
            // Another principal has its own bucket.
            let headers = try Self.headers(try fixture.identity("auditor"), .get, "/v1/status", body: [])
            try await client.execute(uri: "/v1/status", method: .get, headers: headers) { #expect($0.status.code == 200) }
        }
    }

    @Test("--rate-limit 5: the burst is the rate (not 120), so the 6th request at once is 429 with Retry-After ≈ 12 s")
    func rateLimitBelowBurst() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        var configuration = Self.configuration()
        configuration.ratePerMinute = 5
        #expect(configuration.burst == 5)
        let app = try VaultServer.application(service: try fixture.service(), configuration: configuration)
        try await app.test(.router) { client in
            var statuses: [Int] = []
            var retryAfter: [String] = []
            for _ in 0..<7 {
                let headers = try Self.headers(try fixture.identity("operator"), .get, "/v1/status", body: [])
                try await client.execute(uri: "/v1/status", method: .get, headers: headers) { response in
                    statuses.append(Int(response.status.code))
                    retryAfter.append(response.headers[.retryAfter] ?? "-")
                }
            }
            #expect(statuses == [200, 200, 200, 200, 200, 429, 429], "\(statuses)")
            // One token every 12 s: the wait is (1 - tokens) × 12 s, rounded up, so 11 or 12 right after the burst.
            let waits = retryAfter.suffix(2).compactMap(Int.init)
            #expect(waits.count == 2 && waits.allSatisfy { (11...12).contains($0) }, "\(retryAfter)")
        }
        #expect(RateLimiter.retryAfter(0.0001) == 1 && RateLimiter.retryAfter(2.01) == 3 && RateLimiter.retryAfter(3) == 3)
    }

    @Test("Fail closed: when the audit entry cannot be written the upload gets 503 and nothing of the batch is stored")
    func failClosed() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        // Every new audit entry now fails, as on a full disk or a read-only database.
        let queue = try DatabaseQueue(path: fixture.vault.appendingPathComponent("vault.sqlite").path)
        try await queue.write { db in
            try db.execute(sql: "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        try queue.close()
        let service = try fixture.service()
        let batchesBefore = try service.vault.status().batchCount
        let app = try VaultServer.application(service: service, configuration: Self.configuration())
        let batch = Array(try Data(contentsOf: fixture.freshBatch))
        try await app.test(.router) { client in
            let headers = try Self.headers(try fixture.identity("GP"), .post, "/v1/batches", body: batch)
            try await client.execute(uri: "/v1/batches", method: .post, headers: headers, body: ByteBuffer(bytes: batch)) { response in
                #expect(response.status.code == 503, "\(String(buffer: response.body))")
                #expect(String(buffer: response.body).contains("nothing was stored"))
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            let query = Array(#"{"by":["subject"],"filters":{}}"#.utf8)
            let qh = try Self.headers(try fixture.identity("bureau"), .post, "/v1/queries", body: query)
            try await client.execute(uri: "/v1/queries", method: .post, headers: qh, body: ByteBuffer(bytes: query)) {
                #expect($0.status.code == 503)
            }
        }
        #expect(try service.vault.status().batchCount == batchesBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.vault.appendingPathComponent("incoming").path).isEmpty)
    }

    @Test("While shutting down every request gets 503")
    func shuttingDown() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let flag = ShutdownFlag()
        flag.set()
        let app = try VaultServer.makeApplication(service: try fixture.service(), configuration: Self.configuration(),
                                                  logger: Logger(label: "test"), now: nil, shutdown: flag, onListening: { _ in })
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status.code == 503) }
        }
    }

    @Test("A query refused by the policy cites its rule (422); a malformed query is 400")
    func queryRefusals() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let app = try VaultServer.application(service: try fixture.service(), configuration: Self.configuration())
        try await app.test(.router) { client in
            for (text, status, fragment) in [(#"{"by":["pseudonym"],"filters":{}}"#, 422, "unknown attribute"),
                                             (#"{"by":"subject"}"#, 400, "JSON query"), ("[]", 400, "JSON query")] {
                let body = Array(text.utf8)
                let headers = try Self.headers(try fixture.identity("bureau"), .post, "/v1/queries", body: body)
                try await client.execute(uri: "/v1/queries", method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
                    #expect(Int($0.status.code) == status && String(buffer: $0.body).contains(fragment), "\(String(buffer: $0.body))")
                }
            }
        }
    }
}
