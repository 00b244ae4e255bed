import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import VaultApp
import VaultAudit
import VaultModel
@testable import VaultHTTP
import VaultStore

/// A vault under the committed 2-of-3 threshold fixture (parties bureau, auditor, custodian): two schools, two
/// releases (A by subject, B by sex), members named after the parties, an operator, a custodian-role member that is
/// no party (mallory), revoked members, and each party's partial of A (and the auditor's of B) made locally with
/// `release share --out`. Made once with the real commands; each test copies it.
struct ThresholdServiceFixture: Sendable {
    let dir: URL
    var vault: URL { dir.appendingPathComponent("vault") }
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func identity(_ name: String) throws -> Identity {
        try Identity.load(try Data(contentsOf: dir.appendingPathComponent("\(name).key")))
    }
    func text(_ name: String) -> String {
        (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }
    /// Release ids: A (by subject) and B (by sex).
    var releaseA: String { text("release-a.txt") }
    var releaseB: String { text("release-b.txt") }
    /// The partial of `party` for release A (or B), as `release share` wrote it.
    func partial(_ party: String, _ release: String = "a") throws -> [UInt8] {
        Array(try Data(contentsOf: dir.appendingPathComponent("\(party)-\(release).partial.json")))
    }

    static let keys = Tool.root.appendingPathComponent("Keys/test/threshold-2of3-768")
    static func key(_ name: String) -> String { keys.appendingPathComponent(name).path }

    static let template: Swift.Result<URL, FixtureError> = {
        do { return .success(try build()) } catch { return .failure(FixtureError("threshold fixture: \(error)")) }
    }()

    static func build() throws -> URL {
        let dir = try Tool.temporaryDirectory()
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        try Tool.must(["vault", "init", "--vault", p("vault"), "--public-key", key("public.json"), "--threshold",
                       key("threshold.json"), "--insecure-test-key"])
        for (school, region) in [("GP", "rural"), ("MS", "urban")] {
            try Tool.must(["school", "keygen", "--school", school, "--descriptor", p("vault/descriptor.json"), "--out", p("\(school).key")])
            try Tool.must(["school", "add", "--vault", p("vault"), "--id", school, "--attr", "region=\(region)",
                           "--public-key", p("\(school).key.pub")])
            try Data(ServiceFixture.csv(1...30, school.lowercased()).utf8).write(to: dir.appendingPathComponent("\(school).csv"))
            try Tool.must(["school", "encrypt", "--descriptor", p("vault/descriptor.json"), "--school", school, "--keys",
                           p("\(school).key"), "--input", p("\(school).csv"), "--output", p("\(school).batch"), "--insecure-test-key"])
        }
        try Tool.must(["vault", "ingest", "--vault", p("vault"), p("GP.batch"), p("MS.batch")])
        struct Rel: Decodable { var id: String }
        for (name, by) in [("a", "subject"), ("b", "sex")] {
            try Tool.must(["query", "--vault", p("vault"), "--by", by, "--out", p("release-\(name).json")])
            let id = try JSONDecoder().decode(Rel.self, from: Data(contentsOf: dir.appendingPathComponent("release-\(name).json"))).id
            try Data(id.utf8).write(to: dir.appendingPathComponent("release-\(name).txt"))
        }
        for (name, role) in [("bureau", "bureau"), ("auditor", "auditor"), ("custodian", "custodian"), ("operator", "operator"),
                             ("mallory", "custodian"), ("revoked-custodian", "custodian"), ("revoked-bureau", "bureau")] {
            try Tool.must(["member", "keygen", "--out", p("\(name).key")])
            try Tool.must(["member", "add", "--vault", p("vault"), "--role", role, "--name", name, "--public-key", p("\(name).key.pub")])
        }
        for name in ["revoked-custodian", "revoked-bureau"] { try Tool.must(["member", "revoke", "--vault", p("vault"), name]) }
        for (party, release) in [("bureau", "a"), ("auditor", "a"), ("custodian", "a"), ("auditor", "b")] {
            try Tool.must(["release", "share", "--share", key("share-\(party).json"), "--insecure-test-key",
                           "--log-key", p("vault/descriptor.json"), p("release-\(release).json"), "--out",
                           p("\(party)-\(release).partial.json")])
        }
        return dir
    }

    static func make() throws -> ThresholdServiceFixture {
        let template = try Self.template.get()
        let dir = try Tool.temporaryDirectory()
        try FileManager.default.removeItem(at: dir)
        try FileManager.default.copyItem(at: template, to: dir)
        return ThresholdServiceFixture(dir: dir)
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }
    func service() throws -> VaultService { try VaultService.open(directory: vault) }
}

/// `POST /v1/releases/{id}/shares` and `GET /v1/releases/{id}/shares` (issue 11): the parties post their partial
/// decryptions over the service, the vault verifies each before it stores it, and the bureau fetches them.
@Suite("Release shares over the service", .serialized)
struct ShareTests {
    static func configuration() -> ServerConfiguration {
        var configuration = RouterTests.configuration()
        configuration.maxPartialBytes = 256 << 10
        return configuration
    }

    static func post(_ client: some TestClientProtocol, _ f: ThresholdServiceFixture, as name: String, release: String,
                     _ body: [UInt8]) async throws -> (Int, String) {
        let uri = "/v1/releases/\(release)/shares"
        let headers = try RouterTests.headers(try f.identity(name), .post, uri, body: body)
        return try await client.execute(uri: uri, method: .post, headers: headers, body: RouterTests.buffer(body)) {
            (Int($0.status.code), String(buffer: $0.body))
        }
    }

    static func get(_ client: some TestClientProtocol, _ identity: Identity, _ uri: String) async throws -> (Int, String) {
        let headers = try RouterTests.headers(identity, .get, uri, body: [])
        return try await client.execute(uri: uri, method: .get, headers: headers) { (Int($0.status.code), String(buffer: $0.body)) }
    }

    /// A partial with the last digit of its first unit's value changed (its proof no longer holds).
    static func tampered(_ bytes: [UInt8]) throws -> [UInt8] {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        var units = try #require(object["units"] as? [[String: Any]])
        let value = try #require(units[0]["value"] as? String)
        units[0]["value"] = String(value.dropLast()) + (value.last == "1" ? "2" : "1")
        object["units"] = units
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    @Test("POST and GET /v1/releases/{id}/shares: right role, unsigned, wrong role, revoked key, stale created, replayed nonce, body changed after signing, oversized body")
    func eightCases() async throws {
        let f = try ThresholdServiceFixture.make()
        defer { f.remove() }
        let configuration = Self.configuration()
        let app = try VaultServer.application(service: try f.service(), configuration: configuration)
        let uri = "/v1/releases/\(f.releaseA)/shares"
        try await app.test(.router) { client in
            try await RouterTests.eightCases(client, label: "POST shares (custodian)", identity: f.identity, method: .post, uri: uri,
                                             body: try f.partial("custodian"), right: "custodian", wrong: "operator",
                                             revoked: "revoked-custodian", success: [201, 200], limit: configuration.maxPartialBytes)
            try await RouterTests.eightCases(client, label: "GET shares", identity: f.identity, method: .get, uri: uri, body: [],
                                             right: "bureau", wrong: "auditor", revoked: "revoked-bureau", success: [200],
                                             limit: configuration.maxRequestBytes)
        }
    }

    @Test("A valid partial is stored (201, release.share entry); the same decryption again is 200; the bureau fetches the posted partials")
    func acceptFetchAndRepost() async throws {
        let f = try ThresholdServiceFixture.make()
        defer { f.remove() }
        let service = try f.service()
        let app = try VaultServer.application(service: service, configuration: Self.configuration())
        let auditor = try f.partial("auditor")
        let before = try service.vault.auditLogSize()
        try await app.test(.router) { client in
            let (created, body) = try await Self.post(client, f, as: "auditor", release: f.releaseA, auditor)
            #expect(created == 201, "\(body)")
            let receipt = try JSONDecoder().decode(ShareReceipt.self, from: Data(body.utf8))
            #expect(receipt.party == "auditor" && receipt.release == f.releaseA && !receipt.alreadyStored)
            // The same file again, and the same decryption with fresh proofs (release share run again): 200.
            let (again, againBody) = try await Self.post(client, f, as: "auditor", release: f.releaseA, auditor)
            #expect(again == 200 && againBody.contains("\"already_stored\":true"), "\(againBody)")
            let dir = try Tool.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let fresh = dir.appendingPathComponent("fresh.json").path
            try Tool.must(["release", "share", "--share", ThresholdServiceFixture.key("share-auditor.json"), "--insecure-test-key",
                           "--log-key", f.path("vault/descriptor.json"), f.path("release-a.json"), "--out", fresh])
            let freshBytes = Array(try Data(contentsOf: URL(fileURLWithPath: fresh)))
            #expect(freshBytes != auditor)
            let (rerun, rerunBody) = try await Self.post(client, f, as: "auditor", release: f.releaseA, freshBytes)
            #expect(rerun == 200 && rerunBody.contains(receipt.sha256), "\(rerunBody)")
            // The custodian posts too; the bureau gets both, byte for byte.
            let (second, _) = try await Self.post(client, f, as: "custodian", release: f.releaseA, try f.partial("custodian"))
            #expect(second == 201)
            let (fetched, fetchedBody) = try await Self.get(client, try f.identity("bureau"), "/v1/releases/\(f.releaseA)/shares")
            #expect(fetched == 200)
            let shares = try ServiceAnswer.shares(status: fetched, body: Data(fetchedBody.utf8), release: f.releaseA)
            #expect(shares.partials.map(\.party) == ["auditor", "custodian"])
            #expect(Array(shares.partials[0].partial.utf8) == auditor)
            // No partials for release B yet: an empty list. The release itself is served as before.
            let (empty, emptyBody) = try await Self.get(client, try f.identity("bureau"), "/v1/releases/\(f.releaseB)/shares")
            #expect(empty == 200 && emptyBody.contains("\"partials\":[]"), "\(emptyBody)")
            let (release, releaseBody) = try await Self.get(client, try f.identity("custodian"), "/v1/releases/\(f.releaseA)")
            let releaseFile = try Data(contentsOf: URL(fileURLWithPath: f.path("release-a.json")))
            #expect(release == 200 && Data(releaseBody.utf8) == releaseFile)
        }
        let entries = try service.vault.auditEntries(from: before + 1)
        let shares = entries.filter { $0.kind == .releaseShare }
        #expect(shares.count == 2, "one entry per stored partial, none for a re-post")
        #expect(shares.first?.details["party"] == "auditor" && shares.first?.details["release"] == f.releaseA)
        #expect(shares.first?.details["sha256"]?.count == 64 && shares.first?.details["principal"]?.hasPrefix("m:") == true)
        #expect(try service.vault.releaseShares(releaseID: f.releaseA).count == 2)
        // The log with its new entries still verifies, and the verifier checks them.
        let logKey = try #require(service.vault.descriptor.logKey)
        let verified = try Tool.eduvault(["audit", "verify", "--vault", f.vault.path, "--log-key", logKey, "--records", f.vault.path])
        #expect(verified.status == 0 && verified.stdout.contains("verdict: pass")
                && verified.stdout.contains("release shares: 2 partial decryption(s)"), "\(verified.stdout)\(verified.stderr)")
        try Tool.must(["vault", "check", "--vault", f.vault.path])
    }

    @Test("Refusals: a tampered partial (422, party named), one for another release (422), another party's (403), a non-party (422), a different second partial (409), not a partial (400)")
    func refusals() async throws {
        let f = try ThresholdServiceFixture.make()
        defer { f.remove() }
        let service = try f.service()
        let app = try VaultServer.application(service: service, configuration: Self.configuration())
        let before = try service.vault.auditLogSize()
        try await app.test(.router) { client in
            let (forged, forgedBody) = try await Self.post(client, f, as: "bureau", release: f.releaseA, try Self.tampered(try f.partial("bureau")))
            #expect(forged == 422 && forgedBody.contains("partial decryption of bureau is refused")
                    && forgedBody.contains("altered"), "\(forgedBody)")
            let (other, otherBody) = try await Self.post(client, f, as: "auditor", release: f.releaseA, try f.partial("auditor", "b"))
            #expect(other == 422 && otherBody.contains("auditor") && otherBody.contains("made for release \(f.releaseB)"), "\(otherBody)")
            let (impostor, impostorBody) = try await Self.post(client, f, as: "custodian", release: f.releaseA, try f.partial("bureau"))
            #expect(impostor == 403 && impostorBody.contains("member custodian may post only its own")
                    && impostorBody.contains("party bureau"), "\(impostorBody)")
            // A member whose name is no party of the key: its own-named partial is refused by the verification.
            var mallory = try #require(try JSONSerialization.jsonObject(with: Data(try f.partial("custodian"))) as? [String: Any])
            mallory["party"] = "mallory"
            let malloryBytes = Array(try JSONSerialization.data(withJSONObject: mallory, options: [.sortedKeys]))
            let (stranger, strangerBody) = try await Self.post(client, f, as: "mallory", release: f.releaseA, malloryBytes)
            #expect(stranger == 422 && strangerBody.contains("mallory is not a party"), "\(strangerBody)")
            // One partial per party: once the auditor posted, a different one is 409 (before its proofs are checked).
            let (stored, _) = try await Self.post(client, f, as: "auditor", release: f.releaseA, try f.partial("auditor"))
            #expect(stored == 201)
            let (conflict, conflictBody) = try await Self.post(client, f, as: "auditor", release: f.releaseA,
                                                               try Self.tampered(try f.partial("auditor")))
            #expect(conflict == 409 && conflictBody.contains("auditor already posted a different partial"), "\(conflictBody)")
            for junk in ["{}", "[]", "not json", #"{"format":"eduvault-partial/1","format":"x"}"#] {
                let (status, body) = try await Self.post(client, f, as: "custodian", release: f.releaseA, Array(junk.utf8))
                #expect(status == 400 && body.contains("partial decryption"), "\(junk): \(status) \(body)")
            }
            let (missing, _) = try await Self.post(client, f, as: "custodian", release: String(repeating: "0", count: 32),
                                                   try f.partial("custodian"))
            #expect(missing == 404)
        }
        let entries = try service.vault.auditEntries(from: before + 1)
        #expect(entries.filter { $0.kind == .releaseShare }.count == 1, "only the auditor's valid partial was stored")
        #expect(try service.vault.releaseShares(releaseID: f.releaseA).map(\.party) == ["auditor"])
    }

    @Test("A vault under one bureau key takes no partials (409 for POST and GET)")
    func singleKeyVault() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        let f = try ThresholdServiceFixture.make()
        defer { f.remove() }
        let app = try VaultServer.application(service: try fixture.service(), configuration: Self.configuration())
        try await app.test(.router) { client in
            let uri = "/v1/releases/\(fixture.releaseID)/shares"
            let body = try f.partial("bureau")
            let headers = try RouterTests.headers(try fixture.identity("bureau"), .post, uri, body: body)
            let (posted, postedBody) = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
                (Int($0.status.code), String(buffer: $0.body))
            }
            #expect(posted == 409 && postedBody.contains("not a threshold key"), "\(postedBody)")
            let (fetched, fetchedBody) = try await Self.get(client, try fixture.identity("bureau"), uri)
            #expect(fetched == 409 && fetchedBody.contains("not a threshold key"), "\(fetchedBody)")
        }
    }

    @Test("A threshold vault without its threshold.json: 409 naming `vault threshold`; the command stores it once (threshold.stored) and refuses another ceremony's")
    func olderThresholdVault() async throws {
        let f = try ThresholdServiceFixture.make()
        defer { f.remove() }
        // As a vault made before the vault kept threshold.json.
        let queue = try DatabaseQueue(path: f.vault.appendingPathComponent("vault.sqlite").path)
        try await queue.write { db in try db.execute(sql: "DELETE FROM threshold_key") }
        try queue.close()
        let app = try VaultServer.application(service: try f.service(), configuration: Self.configuration())
        try await app.test(.router) { client in
            let (status, body) = try await Self.post(client, f, as: "custodian", release: f.releaseA, try f.partial("custodian"))
            #expect(status == 409 && body.contains("eduvault vault threshold"), "\(body)")
        }
        let wrong = Tool.root.appendingPathComponent("Keys/test/threshold-3of5-768/threshold.json").path
        let refused = try Tool.eduvault(["vault", "threshold", "--vault", f.vault.path, wrong])
        #expect(refused.status != 0 && refused.stderr.contains("not the vault's"), "\(refused.stderr)")
        let stored = try Tool.must(["vault", "threshold", "--vault", f.vault.path, ThresholdServiceFixture.key("threshold.json")])
        #expect(stored.contains("logged as threshold.stored"), "\(stored)")
        let again = try Tool.must(["vault", "threshold", "--vault", f.vault.path, ThresholdServiceFixture.key("threshold.json")])
        #expect(again.contains("nothing changed"), "\(again)")
        let service = try f.service()
        let app2 = try VaultServer.application(service: service, configuration: Self.configuration())
        try await app2.test(.router) { client in
            let (status, body) = try await Self.post(client, f, as: "custodian", release: f.releaseA, try f.partial("custodian"))
            #expect(status == 201, "\(body)")
        }
        #expect(try service.vault.auditEntries().filter { $0.kind == .thresholdStored }.count == 1)
        let logKey = try #require(service.vault.descriptor.logKey)
        let verified = try Tool.eduvault(["audit", "verify", "--vault", f.vault.path, "--log-key", logKey])
        #expect(verified.status == 0 && verified.stdout.contains("verdict: pass"), "\(verified.stdout)\(verified.stderr)")
    }

    @Test("Help: release share --server (member name = party), release fetch --partials, vault threshold, member add --role custodian")
    func help() throws {
        let share = try Tool.must(["release", "share", "--help"])
        #expect(share.contains("--server") && share.contains("share never leaves this machine")
                && share.contains("member add --name PARTY"), "\(share)")
        let fetch = try Tool.must(["release", "fetch", "--help"])
        #expect(fetch.contains("--partials") && fetch.contains("DIR/PARTY.partial.json") && fetch.contains("release.decrypt"), "\(fetch)")
        let threshold = try Tool.must(["vault", "threshold", "--help"])
        #expect(threshold.contains("threshold.stored"), "\(threshold)")
        let member = try Tool.must(["member", "add", "--help"])
        #expect(member.contains("custodian"), "\(member)")
        let noOut = try Tool.eduvault(["release", "share", "--share", "s.json", "r.json"])
        #expect(noOut.status != 0 && noOut.stderr.contains("--out FILE, or --server URL"), "\(noOut.stderr)")
    }

    @Test("Live: two parties post with `release share --server`, the bureau fetches release and partials, decrypts: the same table as the local path; the log verifies")
    func live() throws {
        let f = try ThresholdServiceFixture.make()
        defer { f.remove() }
        let server = try LiveServer(vault: f.vault)
        let s = server.url
        let k = ["--insecure-test-key", "--log-key", f.path("vault/descriptor.json")]
        for party in ["auditor", "custodian"] {
            let posted = try Tool.must(["release", "share", "--share", ThresholdServiceFixture.key("share-\(party).json"),
                                        "--server", s, "--identity", f.path("\(party).key"), f.releaseA] + k)
            #expect(posted.contains("posted: partial decryption of release \(f.releaseA) by \(party)"), "\(posted)")
        }
        // Run again: the same decryption, already posted.
        let again = try Tool.must(["release", "share", "--share", ThresholdServiceFixture.key("share-auditor.json"), "--server", s,
                                   "--identity", f.path("auditor.key"), f.releaseA] + k)
        #expect(again.contains("already posted"), "\(again)")
        // A party's key cannot post another party's share.
        let impostor = try Tool.eduvault(["release", "share", "--share", ThresholdServiceFixture.key("share-bureau.json"), "--server", s,
                                          "--identity", f.path("custodian.key"), f.releaseA] + k)
        #expect(impostor.status != 0 && impostor.stderr.contains("403"), "\(impostor.stderr)")
        let fetched = try Tool.must(["release", "fetch", "--server", s, "--identity", f.path("bureau.key"), f.releaseA,
                                     "--out", f.path("fetched.json"), "--partials", f.path("partials")])
        #expect(fetched.contains("partial decryption of auditor written to") && fetched.contains("custodian"), "\(fetched)")
        let logKey = try #require(try f.service().vault.descriptor.logKey)
        let verified = try Tool.eduvault(["audit", "verify", "--server", s, "--identity", f.path("auditor.key"), "--log-key", logKey,
                                          "--with-records"])
        #expect(verified.status == 0 && verified.stdout.contains("verdict: pass"), "\(verified.stdout)\(verified.stderr)")
        let decrypt = ["release", "decrypt", "--threshold", ThresholdServiceFixture.key("threshold.json"), "--format", "json"] + k
        // A model release goes the same way: analyze over HTTP, two parties post their partials, the bureau fetches
        // release and partials and fits the model.
        try Tool.must(["analyze", "--server", s, "--identity", f.path("bureau.key"), "--model", "score ~ sex", "--where",
                       "subject=math", "--out", f.path("model.json")])
        struct Rel: Decodable { var id: String }
        let modelID = try JSONDecoder().decode(Rel.self, from: Data(contentsOf: URL(fileURLWithPath: f.path("model.json")))).id
        for party in ["auditor", "custodian"] {
            let posted = try Tool.must(["release", "share", "--share", ThresholdServiceFixture.key("share-\(party).json"),
                                        "--server", s, "--identity", f.path("\(party).key"), modelID] + k)
            #expect(posted.contains("posted: partial decryption of release \(modelID) by \(party)"), "\(posted)")
        }
        try Tool.must(["release", "fetch", "--server", s, "--identity", f.path("bureau.key"), modelID, "--out",
                       f.path("model-fetched.json"), "--partials", f.path("model-partials")])
        let fitted = try Tool.must(decrypt + [f.path("model-fetched.json"), f.path("model-partials/auditor.partial.json"),
                                              f.path("model-partials/custodian.partial.json")])
        #expect(fitted.contains("\"model\"") && fitted.contains("sex[T.M]"), "\(fitted)")
        #expect(server.stop() == 0)
        #expect(!server.log.contains("\"units\""), "the server log carries no body")
        let remote = try Tool.must(decrypt + [f.path("fetched.json"), f.path("partials/auditor.partial.json"),
                                              f.path("partials/custodian.partial.json")])
        let local = try Tool.must(decrypt + [f.path("release-a.json"), f.path("bureau-a.partial.json"), f.path("custodian-a.partial.json")])
        #expect(remote == local && remote.contains("\"cells\""), "\(remote)\n\(local)")
        try Tool.must(["vault", "check", "--vault", f.vault.path])
    }
}
