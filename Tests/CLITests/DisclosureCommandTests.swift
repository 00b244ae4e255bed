import Foundation
import Testing

/// Issue 8 through the real binary: LIN-AUDIT refusals, query --force, releases that cannot be handed over, the
/// differential-privacy mode, re-sent batches, and `--` before negative numbers.
@Suite("Disclosure control and release delivery through the CLI", .serialized)
struct DisclosureCommandTests {
    /// A vault with two schools: GP (12 women, 3 men) and MS (20 women, 20 men), maths only.
    static func smallVault(policy: String? = nil) throws -> VaultFixture {
        let f: VaultFixture
        if let policy {
            let dir = try CLI.temporaryDirectory()
            let vault = dir.appendingPathComponent("vault").path
            let result = try CLI.eduvault(["vault", "init", "--vault", vault, "--public-key", VaultFixture.publicKey,
                                           "--policy", policy] + VaultFixture.testKey)
            #expect(result.status == 0, "vault init: \(result.stderr)")
            f = VaultFixture(existing: dir, vault: vault)
        } else {
            f = try VaultFixture()
        }
        var batches: [String] = []
        for (school, women, men) in [("GP", 12, 3), ("MS", 20, 20)] {
            let keys = try f.addSchool(school, ["region=\(school == "GP" ? "rural" : "urban")"])
            var csv = "student_id,subject,score,sex\n"
            for i in 0..<(women + men) { csv += "\(school)\(i),math,\(40 + (i * 7) % 60).5,\(i < women ? "F" : "M")\n" }
            let batch = f.path("\(school).batch")
            let encrypted = try f.encrypt(school: school, keys: keys, csv: try f.write("\(school).csv", csv), output: batch)
            #expect(encrypted.status == 0, "\(encrypted.stderr)")
            batches.append(batch)
        }
        #expect(try f.ingest(batches).status == 0)
        return f
    }

    func query(_ f: VaultFixture, _ arguments: [String], out: String, force: Bool = false) throws -> CLI.Result {
        try CLI.eduvault(["query", "--vault", f.vault] + arguments + ["--out", out] + (force ? ["--force"] : []))
    }

    func releaseJSON(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    func releasedCount(_ f: VaultFixture) throws -> Int { try f.status().audit.by_kind["query.released"] ?? 0 }

    @Test("query --force replaces an existing release; a release that cannot be written is not recorded")
    func forceAndDelivery() throws {
        let f = try Self.smallVault()
        defer { f.remove() }
        let out = f.path("r.json")
        #expect(try query(f, ["--by", "school"], out: out).status == 0)
        let first = try releaseJSON(out)["id"] as? String
        let replaced = try query(f, ["--by", "school"], out: out, force: true)
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try releaseJSON(out)["id"] as? String != first)
        #expect(try releasedCount(f) == 2)
        // No directory to write into: the query fails and the vault records nothing.
        let missing = try query(f, ["--by", "school"], out: f.path("no/such/dir/r.json"))
        expectCleanFailure(missing, mentioning: "directory")
        // A failed rename after the release was staged: the old file stays, the new release is kept beside it.
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let failed = try CLI.eduvault(["query", "--vault", f.vault, "--by", "school", "--out", out, "--force"],
                                      environment: ["EDUVAULT_TEST_FAULT": "atomic-rename"])
        #expect(failed.status != 0 && failed.stderr.contains("recorded"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
        // A failed write of the release file (disk full): nothing is recorded.
        let recorded = try releasedCount(f)
        let full = try CLI.eduvault(["query", "--vault", f.vault, "--by", "school", "--out", f.path("r2.json")],
                                    environment: ["EDUVAULT_TEST_FAULT": "atomic-write"])
        expectCleanFailure(full, mentioning: "could not write")
        #expect(try releasedCount(f) == recorded)
        #expect(!FileManager.default.fileExists(atPath: f.path("r2.json")))
    }

    @Test("LIN-AUDIT withholds the margin that would reveal a K-MIN cell; status and check report the audit")
    func linearAuditThroughTheCLI() throws {
        let f = try Self.smallVault()
        defer { f.remove() }
        let table = try query(f, ["--by", "school,sex"], out: f.path("t.json"))
        #expect(table.status == 0 && table.stdout.contains("released cells:   3"), "\(table.stdout)")
        // school GP = its women (released) + its 3 men (withheld by K-MIN): withheld, GP's total would reveal them.
        let margin = try query(f, ["--by", "school"], out: f.path("m.json"))
        #expect(margin.status == 0)
        let suppressed = try releaseJSON(f.path("m.json"))["suppressed"] as? [[String: Any]] ?? []
        #expect(suppressed.count == 1)
        #expect(["DIFF-GUARD", "LIN-AUDIT"].contains(suppressed.first?["rule"] as? String ?? ""))
        let status = try CLI.eduvault(["vault", "status", "--vault", f.vault])
        #expect(status.stdout.contains("LIN-AUDIT on") && status.stdout.contains("2 releases"), "\(status.stdout)")
        let check = try CLI.eduvault(["vault", "check", "--vault", f.vault])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("stored state matches the rebuild"), "\(check.stdout)")
        #expect(check.stdout.contains("release history:   ok"))
    }

    @Test("DP mode: noisy sums with intervals, exact counts, the budget shown and enforced across processes")
    func differentialPrivacy() throws {
        // 2.0 total at 0.25 a release: eight releases, the ninth is refused.
        let policy = CLI.root.appendingPathComponent("Policies/differential-privacy.yaml").path
        let f = try Self.smallVault(policy: policy)
        defer { f.remove() }
        let out = f.path("dp.json")
        let first = try query(f, ["--by", "school"], out: out)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("noise:"))
        let release = try releaseJSON(out)
        #expect(release["format"] as? String == "eduvault-release/2")
        let noise = release["noise"] as? [String: Any] ?? [:]
        #expect(noise["mechanism"] as? String == "discrete-gaussian" && noise["rho"] as? String == "0.25")
        let key = CLI.key("eduvault-1024", "private")
        let table = try CLI.eduvault(["release", "decrypt", "--private-key", key, "--insecure-test-key", out])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("mean 95% CI") && table.stdout.contains("Differential privacy"))
        let json = try CLI.eduvault(["release", "decrypt", "--private-key", key, "--insecure-test-key", "--format", "json", out])
        let cells = (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["cells"]
            as? [[String: Any]] ?? []
        #expect(cells.map { $0["count"] as? Int } == [15, 40])  // counts stay exact
        #expect(cells.allSatisfy { ($0["mean_ci95"] as? [Double])?.count == 2 && ($0["sd_ci95"] as? [Double])?.count == 2 })
        let status = try CLI.eduvault(["vault", "status", "--vault", f.vault])
        #expect(status.stdout.contains("0.25 of 2 spent, 1.75 left"), "\(status.stdout)")
        // Seven more releases of the same query (each a new process): the budget runs out, the ninth is refused.
        for i in 0..<7 { #expect(try query(f, ["--by", "school"], out: f.path("dp\(i).json")).status == 0) }
        let refused = try query(f, ["--by", "school"], out: f.path("dp-over.json"))
        expectCleanFailure(refused, mentioning: "DP-BUDGET")
        #expect(!FileManager.default.fileExists(atPath: f.path("dp-over.json")))
        #expect(try f.status().audit.by_kind["query.refused"] == 1)
        let spent = try CLI.eduvault(["vault", "status", "--vault", f.vault])
        #expect(spent.stdout.contains("2 of 2 spent, 0 left (0 more releases"), "\(spent.stdout)")
    }

    @Test("A truncated copy of a stored batch is refused, not answered 'already stored'")
    func resentBatchIsVerified() throws {
        let f = try VaultFixture()
        defer { f.remove() }
        let keys = try f.addSchool("GP", ["region=rural"])
        var csv = "student_id,subject,score\n"
        for i in 0..<12 { csv += "S\(i),math,\(50 + i)\n" }
        let batch = f.path("gp.batch")
        #expect(try f.encrypt(school: "GP", keys: keys, csv: try f.write("gp.csv", csv), output: batch).status == 0)
        #expect(try f.ingest([batch]).status == 0)
        let again = try f.ingest([batch])
        #expect(again.status == 0 && again.stdout.contains("already stored"))
        // Cut off the signed trailer: the content hash is unchanged, the file no longer verifies.
        let lines = try String(contentsOfFile: batch, encoding: .utf8).split(separator: "\n")
        let truncated = try f.write("cut.batch", lines.dropLast().joined(separator: "\n") + "\n")
        // Named for what it is (not by the duplicate records such a copy necessarily holds).
        expectCleanFailure(try f.ingest([truncated]), mentioning: "signature line")
        let halved = try f.write("half.batch", lines.prefix(5).joined(separator: "\n") + "\n")
        expectCleanFailure(try f.ingest([halved]), mentioning: "cut short")
        #expect(try f.status().audit.by_kind["batch.refused"] == 2)
    }

    @Test("encrypt and multiply accept `--` before a negative number, as pheutil needs")
    func endOfOptions() throws {
        let publicKey = CLI.key("eduvault-1024", "public"), privateKey = CLI.key("eduvault-1024", "private")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let encrypted = try CLI.eduvault(["encrypt", "--public-key", publicKey, "--insecure-test-key", "--", "-1"])
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let c = dir.appendingPathComponent("c.json").path
        try Data(encrypted.stdout.utf8).write(to: URL(fileURLWithPath: c))
        let product = try CLI.eduvault(["multiply", "--public-key", publicKey, "--insecure-test-key", c, "--", "-3"])
        #expect(product.status == 0, "\(product.stderr)")
        let decrypted = try CLI.eduvault(["decrypt", "--private-key", privateKey, "--insecure-test-key", "-"],
                                         stdin: Data(product.stdout.utf8))
        #expect(decrypted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
    }
}

extension VaultFixture {
    /// A fixture around a vault made by the caller (for example under another policy).
    init(existing dir: URL, vault: String) {
        self.dir = dir
        self.vault = vault
    }
}

@Suite("Secrets are made where they are used")
struct SchoolKeygenTests {
    @Test("school keygen at the school, school add --public-key at the vault; mismatches are refused")
    func keygen() throws {
        let f = try VaultFixture()
        defer { f.remove() }
        let keys = f.path("gp.keys")
        let made = try CLI.eduvault(["school", "keygen", "--school", "GP", "--descriptor", f.descriptor, "--out", keys])
        #expect(made.status == 0, "\(made.stderr)")
        #expect((try FileManager.default.attributesOfItem(atPath: keys)[.posixPermissions] as? Int) == 0o600)
        let pub = try String(contentsOfFile: keys + ".pub", encoding: .utf8)
        #expect(pub.contains("signing_public_key") && !pub.contains("pseudonym") && !pub.contains("seed"))
        // Another id, another vault: refused, nothing registered.
        expectCleanFailure(try CLI.eduvault(["school", "add", "--vault", f.vault, "--id", "MS", "--public-key", keys + ".pub"]),
                           mentioning: "school GP")
        let other = try VaultFixture()
        defer { other.remove() }
        expectCleanFailure(try CLI.eduvault(["school", "add", "--vault", other.vault, "--id", "GP", "--public-key", keys + ".pub"]),
                           mentioning: "made for vault")
        expectCleanFailure(try CLI.eduvault(["school", "add", "--vault", f.vault, "--id", "GP"]), mentioning: "--public-key")
        let added = try CLI.eduvault(["school", "add", "--vault", f.vault, "--id", "GP", "--public-key", keys + ".pub",
                                      "--attr", "region=rural"])
        #expect(added.status == 0 && added.stdout.contains("secrets stay at the school"), "\(added.stderr)")
        // The school encrypts with its own keys; the vault accepts the batch.
        let csv = try f.write("gp.csv", "student_id,subject,score\n" + (0..<12).map { "s\($0),math,\(50 + $0)\n" }.joined())
        #expect(try f.encrypt(school: "GP", keys: keys, csv: csv, output: f.path("gp.batch")).status == 0)
        #expect(try f.ingest([f.path("gp.batch")]).status == 0)
    }
}
