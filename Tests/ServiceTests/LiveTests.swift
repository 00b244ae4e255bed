import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import VaultApp

/// A running `eduvault serve` process on an ephemeral loopback port.
final class LiveServer: @unchecked Sendable {
    // @unchecked: the process and pipes are used from the test's task only.
    let process = Process()
    let output = Pipe()
    let errors = Pipe()
    var port = 0
    var url: String { "\(scheme)://127.0.0.1:\(port)" }
    let scheme: String

    init(vault: URL, extra: [String] = [], scheme: String = "http", port: Int = 0) throws {
        self.scheme = scheme
        process.executableURL = Tool.executable
        process.arguments = ["serve", "--vault", vault.path, "--listen", "127.0.0.1:\(port)"] + extra
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The first line names the port.
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while !text.contains("\n") && Date() < deadline && process.isRunning {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { Thread.sleep(forTimeInterval: 0.05) }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, let colon = line.lastIndex(of: ":"),
              let port = Int(line[line.index(after: colon)...])
        else { throw FixtureError("the server did not report its port: \(text)") }
        self.port = port
    }

    /// Sends a signal and waits for the exit status.
    func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    var log: String { String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

@Suite("Live service", .serialized)
struct LiveTests {
    static func logKey(_ fixture: ServiceFixture) throws -> String {
        struct D: Decodable { var log_key: String }
        return try JSONDecoder().decode(D.self, from: Data(contentsOf: fixture.vault.appendingPathComponent("descriptor.json"))).log_key
    }

    /// The cells and contrasts of `release decrypt --format json`, without the release id, log index and time.
    static func decrypted(_ release: String) throws -> String {
        let key = Tool.root.appendingPathComponent("Keys/test/eduvault-1024/private.json").path
        let out = try Tool.must(["release", "decrypt", "--private-key", key, "--insecure-test-key", "--format", "json", release])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let kept: [String: Any] = ["cells": object["cells"] ?? [], "contrasts": object["contrasts"] ?? [],
                                   "suppressed": object["suppressed"] ?? []]
        return String(decoding: try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("Every client command against a live `eduvault serve`; the decrypted release equals the local path's; SIGTERM drains and exits 0")
    func everyClientCommand() throws {
        let f = try ServiceFixture.make()
        defer { f.remove() }
        let server = try LiveServer(vault: f.vault)
        let s = server.url
        // School: upload (201), again (200, original receipt), and only its own batches.
        let up = try Tool.must(["school", "upload", "--server", s, "--keys", f.path("GP.key"), f.freshBatch.path])
        #expect(up.hasPrefix("stored: GP-2.batch") && up.contains("records 30"), "\(up)")
        let again = try Tool.must(["school", "upload", "--server", s, "--keys", f.path("GP.key"), "--json", f.freshBatch.path])
        #expect(again.contains("\"already_stored\":true"), "\(again)")
        let other = try Tool.eduvault(["school", "upload", "--server", s, "--keys", f.path("MS.key"), f.freshBatch.path])
        #expect(other.status != 0 && other.stderr.contains("signed for itself") && other.stderr.contains("403"), "\(other.stderr)")
        // Bureau: query, fetch the stored release again (same bytes).
        let q = try Tool.must(["query", "--server", s, "--identity", f.path("bureau.key"), "--by", "subject", "--contrast", "region",
                               "--out", f.path("remote.json")])
        #expect(q.contains("released cells:   4"), "\(q)")
        struct Rel: Decodable { var id: String }
        let id = try JSONDecoder().decode(Rel.self, from: Data(contentsOf: URL(fileURLWithPath: f.path("remote.json")))).id
        try Tool.must(["release", "fetch", "--server", s, "--identity", f.path("auditor.key"), id, "--out", f.path("fetched.json")])
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.path("fetched.json"))) == Data(contentsOf: URL(fileURLWithPath: f.path("remote.json"))))
        let denied = try Tool.eduvault(["query", "--server", s, "--identity", f.path("auditor.key"), "--by", "subject", "--out", f.path("x.json")])
        #expect(denied.status != 0 && denied.stderr.contains("403"), "\(denied.stderr)")
        // Bureau: a model through the service; the stored bytes are what it got; the policy's refusals reach it.
        let m = try Tool.must(["analyze", "--server", s, "--identity", f.path("bureau.key"), "--model", "score ~ sex",
                               "--where", "subject=math", "--out", f.path("model.json")])
        #expect(m.contains("model release") && m.contains("records: 75"), "\(m)")
        let modelID = try JSONDecoder().decode(Rel.self, from: Data(contentsOf: URL(fileURLWithPath: f.path("model.json")))).id
        try Tool.must(["release", "fetch", "--server", s, "--identity", f.path("bureau.key"), modelID, "--out", f.path("model-fetched.json")])
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.path("model-fetched.json"))) == Data(contentsOf: URL(fileURLWithPath: f.path("model.json"))))
        let refusedModel = try Tool.eduvault(["analyze", "--server", s, "--identity", f.path("bureau.key"), "--model",
                                              "score ~ school + region", "--out", f.path("m2.json")])
        #expect(refusedModel.status != 0 && refusedModel.stderr.contains("MODEL-SATURATED"), "\(refusedModel.stderr)")
        // Operator: status over HTTP, the same table as the local command.
        let status = try Tool.must(["vault", "status", "--server", s, "--identity", f.path("operator.key")])
        #expect(status.contains("3 batches, 150 records") && status.contains("GP              90"), "\(status)")
        // Auditor: issue 9's verifier over HTTP, records included, with a state file.
        let verified = try Tool.eduvault(["audit", "verify", "--server", s, "--identity", f.path("auditor.key"), "--log-key",
                                          try Self.logKey(f), "--with-records", "--state", f.path("auditor.state")])
        #expect(verified.status == 0 && verified.stdout.contains("verdict: pass"), "\(verified.stdout)\(verified.stderr)")
        // --records with --server: the server's URL means "fetch and re-derive the records" (as --with-records);
        // anything else (a path, another URL) is refused with one line instead of being ignored.
        let viaRecords = try Tool.eduvault(["audit", "verify", "--server", s, "--identity", f.path("auditor.key"), "--log-key",
                                            try Self.logKey(f), "--records", s + "/"])
        #expect(viaRecords.status == 0 && viaRecords.stdout.contains("ok   stored records"), "\(viaRecords.stdout)\(viaRecords.stderr)")
        let without = try Tool.eduvault(["audit", "verify", "--server", s, "--identity", f.path("auditor.key"), "--log-key",
                                         try Self.logKey(f)])
        #expect(without.status == 0 && !without.stdout.contains("stored records"), "\(without.stdout)")
        for other in ["/nonexistent", f.path("e"), "https://elsewhere.example:8443"] {
            let refused = try Tool.eduvault(["audit", "verify", "--server", s, "--identity", f.path("auditor.key"),
                                             "--log-key", try Self.logKey(f), "--records", other])
            #expect(refused.status != 0 && refused.stderr.contains("--records takes the server's URL"), "\(other): \(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1 && refused.stdout.isEmpty, "\(refused.stderr)")
        }
        // Unsigned public routes.
        let metrics = try String(contentsOf: URL(string: s + "/metrics")!, encoding: .utf8)
        #expect(metrics.contains("eduvault_records_ingested_total 30"), "\(metrics)")
        // SIGTERM: drains, exits 0.
        #expect(server.stop(SIGTERM) == 0)
        let log = server.log
        #expect(log.contains("route=/v1/batches status=201") && log.contains("principal=GP"), "\(log)")
        #expect(!log.contains("g1,") && !log.contains("Signature"), "the log carries no body or signature")
        // The local path on the same vault: the same query, decrypted, gives the same table.
        try Tool.must(["query", "--vault", f.vault.path, "--by", "subject", "--contrast", "region", "--out", f.path("local.json")])
        #expect(try Self.decrypted(f.path("remote.json")) == Self.decrypted(f.path("local.json")))
        try Tool.must(["vault", "check", "--vault", f.vault.path])
    }

    @Test("query/analyze --server with an --out that cannot be written fail before the request: the vault records nothing")
    func undeliverableOutput() throws {
        let f = try ServiceFixture.make()
        defer { f.remove() }
        let server = try LiveServer(vault: f.vault)
        defer { _ = server.stop() }
        func logEntries() throws -> String {
            try Tool.must(["vault", "status", "--vault", f.vault.path, "--json"])
                .components(separatedBy: "\"entries\"").dropFirst().first.map { String($0.prefix(16)) } ?? ""
        }
        let before = try logEntries()
        let directory = f.path("a-directory")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let outs: [(String, [String])] = [
            (f.path("missing/x.json"), []), (directory, ["--force"]), ("/dev/null", ["--force"]),
        ]
        for (out, extra) in outs {
            for command in [["query", "--by", "subject"], ["analyze", "--model", "score ~ sex"]] {
                let result = try Tool.eduvault(command + ["--server", server.url, "--identity", f.path("bureau.key"),
                                                          "--out", out] + extra)
                #expect(result.status != 0, "\(command[0]) --out \(out) succeeded")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            }
        }
        #expect(try logEntries() == before, "the vault recorded a release the bureau could not receive")
        let good = try Tool.eduvault(["query", "--by", "subject", "--server", server.url, "--identity", f.path("bureau.key"),
                                      "--out", f.path("ok.json")])
        let after = try logEntries()
        #expect(good.status == 0 && after != before, "\(good.stderr)")
    }

    @Test("TLS with a self-signed certificate: --ca-cert trusts it; without it the client refuses; plain HTTP off loopback is refused")
    func tls() throws {
        let f = try ServiceFixture.make()
        defer { f.remove() }
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                             f.path("tls.key"), "-out", f.path("tls.crt"), "-days", "2", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)
        let server = try LiveServer(vault: f.vault, extra: ["--tls-cert", f.path("tls.crt"), "--tls-key", f.path("tls.key")],
                                    scheme: "https")
        let status = try Tool.eduvault(["vault", "status", "--server", server.url, "--identity", f.path("auditor.key"),
                                        "--ca-cert", f.path("tls.crt")])
        #expect(status.status == 0 && status.stdout.contains("2 batches"), "\(status.stderr)")
        let up = try Tool.eduvault(["school", "upload", "--server", server.url, "--keys", f.path("GP.key"), "--ca-cert",
                                    f.path("tls.crt"), f.freshBatch.path])
        #expect(up.status == 0 && up.stdout.hasPrefix("stored:"), "\(up.stderr)")
        let untrusted = try Tool.eduvault(["vault", "status", "--server", server.url, "--identity", f.path("auditor.key")])
        #expect(untrusted.status != 0 && untrusted.stderr.contains("certificate"), "\(untrusted.stderr)")
        #expect(server.stop() == 0)
        let refused = try Tool.eduvault(["serve", "--vault", f.vault.path, "--listen", "0.0.0.0:0"])
        #expect(refused.status != 0 && refused.stderr.contains("without TLS"), "\(refused.stderr)")
    }

    @Test("Without --authority a request is bound to its server: one signed for vault 1's server, replayed to vault 2's (same key), is 400")
    func requestsBoundToTheirServer() throws {
        let f = try ServiceFixture.make()
        defer { f.remove() }
        // A second vault of its own, with the same operator key registered.
        let other = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: other) }
        let vault2 = other.appendingPathComponent("vault")
        try Tool.must(["vault", "init", "--vault", vault2.path, "--public-key",
                       Tool.root.appendingPathComponent("Keys/test/eduvault-1024/public.json").path, "--insecure-test-key"])
        try Tool.must(["member", "add", "--vault", vault2.path, "--role", "operator", "--name", "operator", "--public-key",
                       f.path("operator.key.pub")])
        let one = try LiveServer(vault: f.vault)
        let two = try LiveServer(vault: vault2)
        let identity = try f.identity("operator")
        /// A signed `GET /v1/status` for `signedFor`'s address (Host included), sent to `port`; the status line.
        func status(signedFor: String, host: String, port: Int) throws -> String {
            let signed = try HTTPMessageSignature.sign(method: "GET", targetURI: "http://\(signedFor)/v1/status", body: [],
                                                       keyID: identity.keyID, key: identity.key)
            let request = "GET /v1/status HTTP/1.1\r\nHost: \(host)\r\nContent-Digest: \(signed.contentDigest)\r\n"
                + "Signature-Input: \(signed.signatureInput)\r\nSignature: \(signed.signature)\r\nConnection: close\r\n\r\n"
            let answer = try SlowClientTests.exchange(port: port, request, wait: 60).answer
            return answer.split(separator: "\r\n").first.map(String.init) ?? ""
        }
        // Captured on server 1 and replayed byte for byte to server 2.
        #expect(try status(signedFor: "127.0.0.1:\(one.port)", host: "127.0.0.1:\(one.port)", port: two.port) == "HTTP/1.1 400 Bad Request")
        // What server 2's own names look like: the bound port with 127.0.0.1, localhost and [::1].
        for name in ["127.0.0.1:\(two.port)", "localhost:\(two.port)", "[::1]:\(two.port)"] {
            #expect(try status(signedFor: name, host: name, port: two.port) == "HTTP/1.1 200 OK", "\(name)")
        }
        // A name without the port, or another port, is not server 2's.
        for name in ["localhost", "127.0.0.1:\(two.port == 65535 ? 1 : two.port + 1)"] {
            #expect(try status(signedFor: name, host: name, port: two.port) == "HTTP/1.1 400 Bad Request", "\(name)")
        }
        // The client, which signs for the URL it is given, works against both.
        for server in [one, two] {
            let result = try Tool.eduvault(["vault", "status", "--server", server.url, "--identity", f.path("operator.key")])
            #expect(result.status == 0, "\(result.stderr)")
        }
        // A non-loopback address without --authority does not start.
        let refused = try Tool.eduvault(["serve", "--vault", f.vault.path, "--listen", "0.0.0.0:0", "--insecure-plain-http"])
        #expect(refused.status != 0 && refused.stderr.contains("--authority"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(one.stop() == 0 && two.stop() == 0)
    }

    @Test("serve on a port in use: one line, 'cannot listen on 127.0.0.1:PORT: the address is already in use', non-zero exit")
    func portInUse() throws {
        let f = try ServiceFixture.make()
        defer { f.remove() }
        let first = try LiveServer(vault: f.vault)
        let second = try Tool.eduvault(["serve", "--vault", f.vault.path, "--listen", "127.0.0.1:\(first.port)"])
        #expect(second.status != 0)
        #expect(second.stderr == "Error: cannot listen on 127.0.0.1:\(first.port): the address is already in use\n",
                "\(second.stderr)")
        #expect(first.stop() == 0)
    }

    @Test("SIGKILL during an upload: the batch is wholly stored or wholly absent, the vault checks clean, and re-uploading works")
    func killDuringUpload() throws {
        let f = try ServiceFixture.make()
        defer { f.remove() }
        try Data(ServiceFixture.csv(1000...3999, "b").utf8).write(to: URL(fileURLWithPath: f.path("big.csv")))
        try Tool.must(["school", "encrypt", "--descriptor", f.vault.appendingPathComponent("descriptor.json").path, "--school", "GP",
                       "--keys", f.path("GP.key"), "--input", f.path("big.csv"), "--output", f.path("big.batch"), "--insecure-test-key"])
        struct Status: Decodable {
            var total_records: Int
            var batches: Int
        }
        func status() throws -> Status {
            try JSONDecoder().decode(Status.self, from: Data(try Tool.must(["vault", "status", "--vault", f.vault.path, "--json"]).utf8))
        }
        let before = try status()
        var outcomes: [String] = []
        for delay in [0.05, 0.25, 0.6, 1.2] {
            let server = try LiveServer(vault: f.vault)
            let client = Process()
            client.executableURL = Tool.executable
            client.arguments = ["school", "upload", "--server", server.url, "--keys", f.path("GP.key"), f.path("big.batch")]
            client.standardOutput = FileHandle.nullDevice
            client.standardError = FileHandle.nullDevice
            try client.run()
            Thread.sleep(forTimeInterval: delay)
            _ = server.stop(SIGKILL)
            client.waitUntilExit()
            let now = try status()
            let stored = now.batches == before.batches + 1
            // All or nothing: either every record of the batch is there, or none.
            #expect(now.total_records == before.total_records + (stored ? 6000 : 0), "after \(delay) s: \(now)")
            #expect(now.batches == before.batches || stored)
            outcomes.append(stored ? "stored" : "absent")
            try Tool.must(["vault", "check", "--vault", f.vault.path])
            if stored { break }
        }
        // Restart and upload again: stored now (or already), exactly once.
        let server = try LiveServer(vault: f.vault)
        let up = try Tool.must(["school", "upload", "--server", server.url, "--keys", f.path("GP.key"), f.path("big.batch")])
        #expect(up.contains("stored: big.batch"), "\(up)")
        #expect(server.stop() == 0)
        let after = try status()
        #expect(after.total_records == before.total_records + 6000 && after.batches == before.batches + 1, "\(outcomes)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.vault.appendingPathComponent("incoming").path).isEmpty)
    }

    @Test("eduvault demo --over-http tells the whole story through a live server, each role with its own key")
    func demoOverHTTP() throws {
        let result = try Tool.eduvault(["demo", "--over-http", "--schools", "4", "--students", "20", "--bits", "1024",
                                        "--insecure-test-key"])
        #expect(result.status == 0, "\(result.stderr)")
        for fragment in ["eduvault serve --vault vault --listen 127.0.0.1:", "batches stored", "an auditor's key asking a query: refused",
                         "[DIFF-GUARD]", "Bureau fits the model the studies report", "livestream", "school-level ICC",
                         "verdict: pass", "Demo over HTTP finished"] {
            #expect(result.stdout.contains(fragment), "missing: \(fragment)")
        }
    }
}
