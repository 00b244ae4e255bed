import Foundation
import Testing

@Suite("Member commands and help")
struct MemberCommandTests {
    @Test("member keygen writes a 0600 key and its public part; add, list and revoke are audit entries; mistakes are one Error: line")
    func members() throws {
        let f = try ServiceFixture.make()
        defer { f.remove() }
        let key = f.path("new.key")
        let made = try Tool.must(["member", "keygen", "--out", key])
        #expect(made.contains("principal id m:"))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o777 == 0o600)
        #expect(!(try String(contentsOfFile: key + ".pub", encoding: .utf8)).contains("private"))
        let before = try Tool.must(["vault", "status", "--vault", f.vault.path, "--json"])
        try Tool.must(["member", "add", "--vault", f.vault.path, "--role", "auditor", "--name", "second-auditor", "--public-key", key + ".pub"])
        let again = try Tool.eduvault(["member", "add", "--vault", f.vault.path, "--role", "auditor", "--name", "other", "--public-key", key + ".pub"])
        #expect(again.status != 0 && again.stderr.hasPrefix("Error:") && again.stderr.contains("already registered"), "\(again.stderr)")
        let badRole = try Tool.eduvault(["member", "add", "--vault", f.vault.path, "--role", "root", "--name", "x", "--public-key", key + ".pub"])
        #expect(badRole.status != 0 && badRole.stderr.contains("bureau, auditor, custodian, operator"))
        let wrongFile = try Tool.eduvault(["member", "add", "--vault", f.vault.path, "--role", "bureau", "--name", "y", "--public-key", key])
        #expect(wrongFile.status != 0 && wrongFile.stderr.contains("not a member public key"), "\(wrongFile.stderr)")
        let list = try Tool.must(["member", "list", "--vault", f.vault.path])
        #expect(list.contains("second-auditor") && list.contains("revoked") && list.contains("GP"))
        try Tool.must(["member", "revoke", "--vault", f.vault.path, "second-auditor"])
        let twice = try Tool.eduvault(["member", "revoke", "--vault", f.vault.path, "second-auditor"])
        #expect(twice.status != 0 && twice.stderr.contains("already revoked"))
        let after = try Tool.must(["vault", "status", "--vault", f.vault.path, "--json"])
        #expect(after.contains("\"member.added\"") && after.contains("\"member.revoked\"") && before != after)
        // The log with the new entry kinds still verifies (the verifier passes over kinds it has no check for).
        try Tool.must(["vault", "check", "--vault", f.vault.path])
        // A revoked school's batches are refused locally too.
        let revoked = try Tool.eduvault(["school", "encrypt", "--descriptor", f.vault.appendingPathComponent("descriptor.json").path,
                                         "--school", "RV", "--keys", f.path("RV.key"), "--input", f.path("GP-2.csv"),
                                         "--output", f.path("rv.batch"), "--insecure-test-key"])
        #expect(revoked.status == 0)
        let ingest = try Tool.eduvault(["vault", "ingest", "--vault", f.vault.path, f.path("rv.batch")])
        #expect(ingest.status != 0 && ingest.stderr.contains("revoked_school"), "\(ingest.stderr)")
    }

    @Test("Help text names the service's options")
    func help() throws {
        let serve = try Tool.must(["serve", "--help"])
        for option in ["--listen", "--tls-cert", "--tls-key", "--insecure-plain-http", "--max-batch-mb", "--authority", "SIGTERM"] {
            #expect(serve.contains(option), "serve --help lacks \(option)")
        }
        #expect(try Tool.must(["member", "--help"]).contains("revoke"))
        #expect(try Tool.must(["school", "upload", "--help"]).contains("--keys"))
        #expect(try Tool.must(["query", "--help"]).contains("--server"))
        #expect(try Tool.must(["release", "fetch", "--help"]).contains("--identity"))
        #expect(try Tool.must(["audit", "verify", "--help"]).contains("--with-records"))
        #expect(try Tool.must(["demo", "--help"]).contains("--over-http"))
    }
}
