import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Primitives
import Testing
import VaultAggregation
import VaultApp
import VaultAudit
@testable import VaultClient
@testable import VaultHTTP
import VaultStore

/// Issue 14 for the service: replay across a restart, Host and header-section checks, strict request bodies, and
/// the client's readers of a hostile server's answers. Each finding of the service fuzz targets has its test here.
@Suite("Service hardening", .serialized)
struct HardeningTests {
    static func send(_ client: some TestClientProtocol, _ uri: String, method: HTTPRequest.Method = .get, headers: HTTPFields,
                     body: [UInt8] = []) async throws -> (Int, String) {
        try await client.execute(uri: uri, method: method, headers: headers, body: RouterTests.buffer(body)) {
            (Int($0.status.code), String(buffer: $0.body))
        }
    }

    // MARK: - Replay after a restart

    @Test("A signed request replayed after the server restarts is refused (the nonce journal survives the restart)")
    func replayAfterRestart() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let headers = try RouterTests.headers(try fixture.identity("operator"), .get, "/v1/status", body: [])
        var statuses: [Int] = []
        for _ in 0..<2 {
            // A new application on the same vault directory: everything a restart renews.
            let app = try VaultServer.application(service: try fixture.service(), configuration: RouterTests.configuration())
            statuses.append(try await app.test(.router) { client in try await Self.send(client, "/v1/status", headers: headers).0 })
        }
        #expect(statuses == [200, 401], "\(statuses)")
    }

    @Test("Live: send a signed request, restart `eduvault serve` on the same port, replay it: 401")
    func liveReplayAfterRestart() throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let first = try LiveServer(vault: fixture.vault)
        let port = first.port
        let identity = try fixture.identity("auditor")
        let url = "http://127.0.0.1:\(port)/v1/log/checkpoint"
        let signed = try HTTPMessageSignature.sign(method: "GET", targetURI: url, body: [], keyID: identity.keyID, key: identity.key)
        func send() throws -> Int {
            var request = URLRequest(url: URL(string: url)!)
            request.setValue(signed.contentDigest, forHTTPHeaderField: "Content-Digest")
            request.setValue(signed.signatureInput, forHTTPHeaderField: "Signature-Input")
            request.setValue(signed.signature, forHTTPHeaderField: "Signature")
            let box = StatusBox()
            let done = DispatchSemaphore(value: 0)
            URLSession.shared.dataTask(with: request) { _, response, _ in
                box.status = (response as? HTTPURLResponse)?.statusCode ?? 0
                done.signal()
            }.resume()
            done.wait()
            return box.status
        }
        let before = try send()
        #expect(before == 200 || before == 404, "first request got \(before)")
        #expect(first.stop() == 0)
        let second = try LiveServer(vault: fixture.vault, port: port)
        #expect(try send() == 401, "the replay after a restart was not refused")
        #expect(second.stop() == 0)
    }

    @Test("The nonce journal: a torn last line is ignored, expired nonces are pruned at start, a damaged line refuses to start")
    func nonceJournalFile() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let now: Int64 = 1_767_225_600
        let journal = try NonceJournal(directory: dir, now: now)
        #expect(try journal.insert(keyID: "GP", nonce: "nonce-aaaaaaaaaaaaaaaa", now: now, window: 360))
        #expect(try journal.insert(keyID: "GP", nonce: "nonce-bbbbbbbbbbbbbbbb", now: now - 400, window: 360))  // expired
        let file = dir.appendingPathComponent(NonceJournal.fileName)
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("1767226000 GP torn-without-newl".utf8))
        try handle.close()
        let reopened = try NonceJournal(directory: dir, now: now + 1)
        #expect(try !reopened.insert(keyID: "GP", nonce: "nonce-aaaaaaaaaaaaaaaa", now: now + 1, window: 360))
        #expect(try reopened.insert(keyID: "GP", nonce: "nonce-bbbbbbbbbbbbbbbb", now: now + 1, window: 360))
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(!text.contains("torn") && text.hasSuffix("\n"), "\(text)")
        try Data("garbage line\n".utf8).write(to: file)
        #expect(throws: AppError.self) { try NonceJournal(directory: dir, now: now) }
    }

    // MARK: - Host and header section

    @Test("Two Host headers: 400")
    func twoHosts() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let app = try VaultServer.application(service: try fixture.service(), configuration: RouterTests.configuration())
        var fields = try RouterTests.headers(try fixture.identity("operator"), .get, "/v1/status", body: [])
        fields.append(HTTPField(name: HTTPField.Name("Host")!, value: "evil.example"))
        let headers = fields
        try await app.test(.router) { client in
            let (status, body) = try await Self.send(client, "/v1/status", headers: headers)
            #expect(status == 400 && body.contains("Host"), "\(status) \(body)")
        }
    }

    @Test("A Host with / ? # @, spaces or a bad port is refused (400) even when the signature covers it",
          arguments: ["localhost/v1", "localhost?x=1", "localhost#f", "user@localhost", "local host", "localhost:", "localhost:80:80",
                      "localhost:123456", "[::1", "%6cocalhost", ""])
    func hostCharacters(host: String) throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let service = try fixture.service()
        let identity = try fixture.identity("operator")
        let signed = try HTTPMessageSignature.sign(method: "GET", targetURI: "http://\(host)/v1/status", body: [],
                                                   keyID: identity.keyID, key: identity.key)
        let authenticator = RequestAuthenticator(nonces: NonceJournal()) { id throws(AppError) in try service.principal(id: id) }
        let head = RequestHead(method: "GET", scheme: "http", hosts: [host], target: "/v1/status",
                               signatureInput: [signed.signatureInput], signature: [signed.signature],
                               contentDigest: [signed.contentDigest], headerBytes: 600)
        #expect(throws: RequestRefusal.refused(AppError(.badRequest, "the request needs exactly one Host of the form host[:port]"))) {
            try authenticator.authenticate(head, now: Int64(Date().timeIntervalSince1970))
        }
        // The same request with a plain Host is accepted: the refusal is the Host's.
        let good = try HTTPMessageSignature.sign(method: "GET", targetURI: "http://[::1]:8443/v1/status", body: [],
                                                 keyID: identity.keyID, key: identity.key)
        var plain = head
        plain.hosts = ["[::1]:8443"]
        (plain.signatureInput, plain.signature, plain.contentDigest) = ([good.signatureInput], [good.signature], [good.contentDigest])
        #expect(throws: Never.self) { try authenticator.authenticate(plain, now: Int64(Date().timeIntervalSince1970)) }
    }

    @Test("serve --authority: a request whose Host is not one of the vault's names is refused (400), its own name accepted")
    func authorities() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let headers = try RouterTests.headers(try fixture.identity("operator"), .get, "/v1/status", body: [])
        for (names, expected) in [(["vault.example:8443"], 400), (["vault.example:8443", "LOCALHOST"], 200)] {
            var configuration = RouterTests.configuration()
            configuration.authorities = names
            let app = try VaultServer.application(service: try fixture.service(), configuration: configuration)
            let (status, body) = try await app.test(.router) { client in try await Self.send(client, "/v1/status", headers: headers) }
            #expect(status == expected, "\(names): \(status) \(body)")
        }
        var bad = RouterTests.configuration()
        bad.authorities = ["user@vault.example"]
        #expect(throws: AppError.self) { try bad.validate() }
    }

    @Test("Oversized headers: a signature header over 4 KiB or a header section over 16 KiB is 431, as openapi.yaml says")
    func oversizedHeaders() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let app = try VaultServer.application(service: try fixture.service(), configuration: RouterTests.configuration())
        let identity = try fixture.identity("operator")
        try await app.test(.router) { client in
            var long = try RouterTests.headers(identity, .get, "/v1/status", body: [])
            long[HTTPField.Name("Signature")!] = "sig1=:" + String(repeating: "A", count: 5000) + ":"
            let (status, body) = try await Self.send(client, "/v1/status", headers: long)
            #expect(status == 431 && body.contains("header"), "\(status) \(body)")
            var padded = try RouterTests.headers(identity, .get, "/v1/status", body: [])
            for i in 0..<5 { padded.append(HTTPField(name: HTTPField.Name("X-Padding-\(i)")!, value: String(repeating: "p", count: 4000))) }
            let (paddedStatus, _) = try await Self.send(client, "/v1/status", headers: padded)
            #expect(paddedStatus == 431)
        }
        #expect(OpenAPIDocument.yaml.contains("'431'"))
    }

    // MARK: - Request bodies

    @Test("Query bodies: unknown or repeated keys, separators in names, and oversized lists are refused with 400",
          arguments: [#"{"by":["subject"],"filters":{},"extra":1}"#, #"{"by":["subject"],"filters":{},"Contrast":"region"}"#,
                      #"{"by":["subject"],"filters":{"sex=F":"M"}}"#, #"{"by":["school,subject"],"filters":{}}"#,
                      #"{"by":["subject"],"filters":{},"by":["school"]}"#,
                      #"{"by":[\#((0..<17).map { "\"a\($0)\"" }.joined(separator: ","))],"filters":{}}"#,
                      #"{"by":["subject"],"filters":{"sex":"\#(String(repeating: "F", count: 300))"}}"#,
                      // service-request's first finding, as it found it: "by" held "subject=" and was run as such
                      #"{ "by" : [ " Subject=" ], "filters" : { " Sex " : " F " } , "contrast" : null }"#])
    func strictQueryBodies(text: String) async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let app = try VaultServer.application(service: try fixture.service(), configuration: RouterTests.configuration())
        let body = Array(text.utf8)
        let headers = try RouterTests.headers(try fixture.identity("bureau"), .post, "/v1/queries", body: body)
        try await app.test(.router) { client in
            let (status, answer) = try await Self.send(client, "/v1/queries", method: .post, headers: headers, body: body)
            #expect(status == 400, "\(text): \(status) \(answer)")
        }
    }

    @Test("A query body decodes to what it says, and the client's encoding decodes back to the same query")
    func queryRoundTrip() throws {
        let query = try ServiceRequest.query(Array(#"{"by":[" Subject "],"filters":{" Sex ":" F "},"contrast":"region"}"#.utf8))
        #expect(query.by == ["subject"] && query.filters == ["sex": "F"] && query.contrast == "region")
        #expect(try ServiceRequest.query(try ServiceRequest.encode(query)) == query)
        #expect(try ServiceRequest.query(Array(#"{"by":["subject"]}"#.utf8)).filters.isEmpty)
    }

    // MARK: - A server that does not answer

    @Test("The client waits for a server that accepts but never answers in poll(2), not a busy loop, and gives up with one line")
    func clientStalledServer() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        // A listening socket nobody accepts from: the kernel completes the handshake and nothing ever answers, as when
        // every --max-connections slot is taken.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let client = try VaultHTTPClient(server: "http://127.0.0.1:\(port)", identity: try fixture.identity("operator"),
                                         caCertificate: nil, timeouts: .init(connectSeconds: 2, stalledSeconds: 2, totalSeconds: 20))
        let request = try client.request("GET", "/v1/status")
        // On a thread of its own, so its CPU time is the client's alone.
        let (outcome, seconds, cpu) = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                func cpuSeconds() -> Double {
                    var usage = rusage()
                    getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (Linux), which Glibc does not export
                    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
                }
                let (started, cpuBefore) = (Date(), cpuSeconds())
                let result = Result { () throws(AppError) in try client.sendBlocking(request) }
                continuation.resume(returning: (result, Date().timeIntervalSince(started), cpuSeconds() - cpuBefore))
            }
        }
        guard case .failure(let error) = outcome else { Issue.record("a silent server answered?"); return }
        #expect(error.message == "the server accepted the connection but sent nothing for 2 s (overloaded?); try again later")
        #expect(seconds > 1.5 && seconds < 15, "\(seconds) s")
        #expect(cpu < 0.5, "the client used \(cpu) s of CPU while waiting \(seconds) s")
    }

    // MARK: - A hostile server's answers (the client's readers)

    @Test("A problem's detail is shown as one short printable line: no terminal escapes, no carriage return, bounded")
    func problemIsPrintable() throws {
        let detail = "\u{1B}[2J\u{1B}[31mfake success\r\u{85}\u{202E}" + String(repeating: "x", count: 5000)
        let body = try JSONSerialization.data(withJSONObject: ["detail": detail, "rule": "R\u{1B}[0m"])
        let error = ServiceAnswer.problem(status: 403, body: body)
        #expect(!error.message.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}" })
        #expect(error.message.count <= ServiceAnswer.maxMessageCharacters && error.code == .forbidden)
        #expect(error.rule.map { !$0.contains("\u{1B}") } ?? true)
        #expect(ServiceAnswer.problem(status: 408, body: Data()).code == .timeout)
        #expect(ServiceAnswer.problem(status: 431, body: Data()).code == .headersTooLarge)
    }

    @Test("Leaves that are not 64 hex digits (signs, spaces) are refused, not read as other bytes")
    func leavesAreStrictHex() throws {
        for leaf in [String(repeating: "+f", count: 32), String(repeating: "-0", count: 32), String(repeating: " f", count: 32)] {
            #expect(throws: AppError.self) { try ServiceAnswer.leaves(LeavesPage(leaves: [leaf])) }
        }
        #expect(try ServiceAnswer.leaves(LeavesPage(leaves: [String(repeating: "aB", count: 32)])) == [[UInt8](repeating: 0xAB, count: 32)])
    }

    @Test("A page of log entries that does not start where asked, skips or goes back is refused, so paging always advances")
    func entriesPagesAdvance() throws {
        func page(_ indexes: [Int64], size: Int64) throws -> Data {
            let entries = indexes.map { AuditEntryFixture.entry(index: $0) }
            return try JSONEncoder().encode(LogEntriesPage(entries: entries, size: size))
        }
        // The server answers every request with entry 1 of a 10-entry log: before, the client asked for entry 2 forever.
        #expect(throws: AppError.self) { try ServiceAnswer.entries(status: 200, body: try page([1], size: 10), start: 2, end: 1002) }
        #expect(throws: AppError.self) { try ServiceAnswer.entries(status: 200, body: try page([2, 4], size: 10), start: 2, end: 1002) }
        #expect(throws: AppError.self) { try ServiceAnswer.entries(status: 200, body: try page([2, 3], size: 2), start: 2, end: 1002) }
        let good = try ServiceAnswer.entries(status: 200, body: try page([2, 3], size: 10), start: 2, end: 1002)
        #expect(ServiceAnswer.next(after: good, start: 2) == 4)
    }

    @Test("A member key file whose public_key is not its private key's is refused")
    func memberKeyMismatch() throws {
        let a = try MemberKeyFile.generate(), b = try MemberKeyFile.generate()
        let mixed = MemberKeyFile(format: MemberKeyFile.currentFormat, privateKey: a.privateKey, publicKey: b.publicKey)
        #expect(throws: AppError.self) { try Identity.load(try JSONEncoder().encode(mixed)) }
        #expect(throws: Never.self) { try Identity.load(try JSONEncoder().encode(a)) }
    }
}

final class StatusBox: @unchecked Sendable {
    // @unchecked: written once before the semaphore signals, read after the wait.
    var status = 0
}

enum AuditEntryFixture {
    static func entry(index: Int64) -> AuditEntry {
        AuditEntry(index: index, time: "2026-01-01T00:00:00Z", kind: .queryRefused, details: [:],
                   prevHash: String(repeating: "0", count: 64), hash: String(repeating: "1", count: 64))
    }
}
