import Foundation
import GRDB
import Testing

/// Issue 9 through the real binary: export, verify against a pinned key and a state file, rollback and fork as proof
/// of misbehaviour, tampered records named by batch, witnesses and cosignatures, retention purges, and the HTML
/// compliance report rendered by headless Chromium.
@Suite("Audit commands: export, verify, cosign, purge, report", .serialized)
struct AuditCommandTests {
    static func logKey(_ f: VaultFixture) throws -> String {
        let descriptor = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.descriptor))) as? [String: Any]
        return try #require(descriptor?["log_key"] as? String)
    }

    func export(_ f: VaultFixture, _ name: String, vault: String? = nil) throws -> String {
        let out = f.path(name)
        let result = try CLI.eduvault(["audit", "export", "--vault", vault ?? f.vault, "--out", out])
        #expect(result.status == 0, "export: \(result.stderr)")
        return out
    }

    func verify(_ export: String, key: String, state: String, records: Bool = true) throws -> CLI.Result {
        try CLI.eduvault(["audit", "verify", "--export", export, "--log-key", key, "--state", state]
                         + (records ? ["--records", export] : []))
    }

    @Test("verify passes and advances the state; a restored older copy is a rollback; tampered records are named")
    func verifyRollbackTamper() throws {
        let f = try DisclosureCommandTests.smallVault()
        defer { f.remove() }
        let key = try Self.logKey(f)
        #expect(try CLI.eduvault(["query", "--vault", f.vault, "--by", "school", "--out", f.path("r1.json")]).status == 0)
        let state = f.path("auditor.state")
        let first = try verify(try export(f, "e1"), key: key, state: state)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("verdict: pass"))
        #expect(FileManager.default.fileExists(atPath: state))
        // Keep an old copy of the vault, then let the log grow and verify again: consistent, state advanced.
        let old = f.dir.appendingPathComponent("old-vault")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: f.vault), to: old)
        #expect(try CLI.eduvault(["query", "--vault", f.vault, "--by", "subject", "--out", f.path("r2.json")]).status == 0)
        let second = try verify(try export(f, "e2"), key: key, state: state)
        #expect(second.status == 0 && second.stdout.contains("the log extends it"), "\(second.stdout)")
        // The operator restores the old copy: the auditor's state proves the rollback, with both signed checkpoints.
        let rolledBack = try verify(try export(f, "e3", vault: old.path), key: key, state: state)
        #expect(rolledBack.status == 3, "\(rolledBack.stdout)\(rolledBack.stderr)")
        #expect(rolledBack.stdout.contains("PROOF OF MISBEHAVIOUR (rollback)"))
        #expect(rolledBack.stdout.components(separatedBy: "\n— \(key.split(separator: "+")[0]) ").count == 3)
        // A ciphertext edited in the database: found and named by batch and entry.
        let queue = try DatabaseQueue(path: f.vault + "/vault.sqlite")
        try queue.write { db in
            try db.execute(sql: "UPDATE records SET ciphertext = zeroblob(length(ciphertext)) WHERE rowid = 3")
        }
        try queue.close()
        let tampered = try verify(try export(f, "e4"), key: key, state: state)
        #expect(tampered.status == 1, "\(tampered.stdout)")
        #expect(tampered.stdout.contains("do not re-derive the signed record root") && tampered.stdout.contains("(entry "))
        // The same check on the vault itself.
        expectCleanFailure(try CLI.eduvault(["vault", "check", "--vault", f.vault]), mentioning: "record root")
    }

    @Test("Two auditors shown different checkpoints of the same size: exchanging what they verified exposes the fork")
    func fork() throws {
        let f = try DisclosureCommandTests.smallVault()
        defer { f.remove() }
        let key = try Self.logKey(f)
        let twin = f.dir.appendingPathComponent("twin")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: f.vault), to: twin)
        // The operator shows auditor A one history and auditor B another, each as long as the other.
        #expect(try CLI.eduvault(["query", "--vault", f.vault, "--by", "school", "--out", f.path("a.json")]).status == 0)
        #expect(try CLI.eduvault(["query", "--vault", twin.path, "--by", "subject", "--out", f.path("b.json")]).status == 0)
        let stateA = f.path("a.state"), stateB = f.path("b.state")
        #expect(try verify(try export(f, "ea"), key: key, state: stateA).status == 0)
        #expect(try verify(try export(f, "eb", vault: twin.path), key: key, state: stateB).status == 0)
        // B gossips its checkpoint to A: same size, different root, both signed by the vault.
        let exposed = try verify(f.path("ea"), key: key, state: stateB)
        #expect(exposed.status == 3 && exposed.stdout.contains("PROOF OF MISBEHAVIOUR (fork)"), "\(exposed.stdout)")
        // Witnesses: each cosigns what it verified; a bureau requiring both finds no checkpoint cosigned by both.
        for (name, state, vault) in [("a", stateA, f.vault), ("b", stateB, twin.path)] {
            #expect(try CLI.eduvault(["audit", "keygen", "--name", "witness-\(name).example", "--out", f.path("w\(name).key")]).status == 0)
            let cosign = try CLI.eduvault(["audit", "cosign", "--state", state, "--identity", f.path("w\(name).key"), "--vault", vault])
            #expect(cosign.status == 0, "\(cosign.stderr)")
        }
        let checkpoint = try CLI.eduvault(["vault", "checkpoint", "--vault", f.vault])
        try Data(checkpoint.stdout.utf8).write(to: URL(fileURLWithPath: f.path("cp")))
        let decrypt = ["release", "decrypt", "--private-key", CLI.key("eduvault-1024", "private"), "--insecure-test-key",
                       "--checkpoint", f.path("cp"), "--log-key", key]
        let one = try CLI.eduvault(decrypt + ["--witness", f.path("wa.key.pub"), "--require-cosignatures", "1", f.path("a.json")])
        #expect(one.status == 0, "\(one.stderr)")
        let both = try CLI.eduvault(decrypt + ["--witness", f.path("wa.key.pub"), "--witness", f.path("wb.key.pub"),
                                               "--require-cosignatures", "2", f.path("a.json")])
        expectCleanFailure(both, mentioning: "witness-b.example")
    }

    @Test("cosign --out hands the operator a cosigned checkpoint; cosign --vault --add stores it (verified with --witness, or unverified); garbage and another vault's checkpoint are refused")
    func cosignAdd() throws {
        let f = try DisclosureCommandTests.smallVault()
        defer { f.remove() }
        let key = try Self.logKey(f)
        #expect(try CLI.eduvault(["query", "--vault", f.vault, "--by", "school", "--out", f.path("r.json")]).status == 0)
        // A second vault with a history of its own, for a checkpoint this vault never signed.
        let twin = f.dir.appendingPathComponent("twin")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: f.vault), to: twin)
        #expect(try CLI.eduvault(["query", "--vault", twin.path, "--by", "subject", "--out", f.path("t.json")]).status == 0)
        #expect(try verify(try export(f, "e"), key: key, state: f.path("a.state")).status == 0)
        #expect(try verify(try export(f, "et", vault: twin.path), key: key, state: f.path("t.state")).status == 0)
        for name in ["a", "b"] {
            #expect(try CLI.eduvault(["audit", "keygen", "--name", "witness-\(name).example", "--out", f.path("w\(name).key")]).status == 0)
            let out = try CLI.eduvault(["audit", "cosign", "--state", f.path("a.state"), "--identity", f.path("w\(name).key"),
                                        "--out", f.path("\(name).cosigned")])
            #expect(out.status == 0, "\(out.stderr)")
        }
        // Witness a's with its key (verified); witness b's without (stored as a well-formed cosignature).
        let verified = try CLI.eduvault(["audit", "cosign", "--vault", f.vault, "--add", f.path("a.cosigned"), "--witness",
                                         f.path("wa.key.pub")])
        #expect(verified.status == 0 && verified.stdout.contains("witness-a.example") && verified.stdout.contains("(verified)"),
                "\(verified.stdout)\(verified.stderr)")
        let unverified = try CLI.eduvault(["audit", "cosign", "--vault", f.vault, "--add", f.path("b.cosigned")])
        #expect(unverified.status == 0 && unverified.stdout.contains("not verified"), "\(unverified.stdout)\(unverified.stderr)")
        // Both are served with the checkpoint, and a bureau requiring both finds them valid.
        let checkpoint = try CLI.eduvault(["vault", "checkpoint", "--vault", f.vault])
        try Data(checkpoint.stdout.utf8).write(to: URL(fileURLWithPath: f.path("cp")))
        let both = try CLI.eduvault(["release", "decrypt", "--private-key", CLI.key("eduvault-1024", "private"), "--insecure-test-key",
                                     "--checkpoint", f.path("cp"), "--log-key", key, "--witness", f.path("wa.key.pub"),
                                     "--witness", f.path("wb.key.pub"), "--require-cosignatures", "2", f.path("r.json")])
        #expect(both.status == 0, "\(both.stderr)")
        // Refused with one line: a witness key that did not sign it, garbage, a cosigned checkpoint of another vault's
        // history, a note without a cosignature, and a line whose signature is not a cosignature's 72 bytes.
        expectCleanFailure(try CLI.eduvault(["audit", "cosign", "--vault", f.vault, "--add", f.path("b.cosigned"), "--witness",
                                             f.path("wa.key.pub")]), mentioning: "does not verify")
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: f.path("garbage")))
        expectCleanFailure(try CLI.eduvault(["audit", "cosign", "--vault", f.vault, "--add", f.path("garbage")]),
                           mentioning: "not a cosigned checkpoint")
        #expect(try CLI.eduvault(["audit", "cosign", "--state", f.path("t.state"), "--identity", f.path("wa.key"), "--out",
                                  f.path("twin.cosigned")]).status == 0)
        expectCleanFailure(try CLI.eduvault(["audit", "cosign", "--vault", f.vault, "--add", f.path("twin.cosigned")]),
                           mentioning: "not one this vault signed")
        let cosigned = try String(contentsOfFile: f.path("a.cosigned"), encoding: .utf8)
        let lines = cosigned.split(separator: "\n", omittingEmptySubsequences: false)
        // The vault's note alone (its text, the blank line, the vault's signature): nothing to add.
        let vaultOnly = lines.prefix(while: { !$0.hasPrefix("\u{2014} witness-") }).joined(separator: "\n") + "\n"
        try Data(vaultOnly.utf8).write(to: URL(fileURLWithPath: f.path("bare")))
        expectCleanFailure(try CLI.eduvault(["audit", "cosign", "--vault", f.vault, "--add", f.path("bare")]),
                           mentioning: "no cosignature")
        // A 64-byte note signature under a witness name is not a cosignature.
        let witnessLine = try #require(lines.first { $0.hasPrefix("\u{2014} witness-a.example ") })
        let encoded = String(witnessLine.split(separator: " ")[2])
        let bytes = try #require(Data(base64Encoded: encoded))
        let short = "\u{2014} witness-c.example " + Data(bytes.prefix(4) + bytes.suffix(64)).base64EncodedString()
        try Data((vaultOnly + short + "\n").utf8).write(to: URL(fileURLWithPath: f.path("short")))
        expectCleanFailure(try CLI.eduvault(["audit", "cosign", "--vault", f.vault, "--add", f.path("short")]),
                           mentioning: "not a tlog-cosignature")
        // --add goes with --vault only.
        expectCleanFailure(try CLI.eduvault(["audit", "cosign", "--add", f.path("a.cosigned"), "--out", f.path("x")]),
                           mentioning: "--add")
        // The help texts show no stray backslashes, and cosign's names --add.
        for command in ["export", "verify", "report", "cosign"] {
            let help = try CLI.eduvault(["audit", command, "--help"])
            #expect(!help.stdout.contains("\\"), "audit \(command) --help:\n\(help.stdout)")
        }
        #expect(try CLI.eduvault(["audit", "cosign", "--help"]).stdout.contains("--add <add>"))
    }

    @Test("--records must name what is verified: with --vault that vault directory (else one line), with --export a directory")
    func recordsArgument() throws {
        let f = try DisclosureCommandTests.smallVault()
        defer { f.remove() }
        let key = try Self.logKey(f)
        let ok = try CLI.eduvault(["audit", "verify", "--vault", f.vault, "--log-key", key, "--records", f.vault + "/"])
        #expect(ok.status == 0 && ok.stdout.contains("stored records"), "\(ok.stdout)\(ok.stderr)")
        expectCleanFailure(try CLI.eduvault(["audit", "verify", "--vault", f.vault, "--log-key", key, "--records", "/nonexistent"]),
                           mentioning: "--records takes that vault directory")
        expectCleanFailure(try CLI.eduvault(["audit", "verify", "--vault", f.vault, "--log-key", key, "--with-records"]),
                           mentioning: "--with-records goes with --server")
    }

    @Test("purge deletes old records and logs it; the log, leaves and record roots still verify")
    func purge() throws {
        let f = try DisclosureCommandTests.smallVault()
        defer { f.remove() }
        let key = try Self.logKey(f)
        expectCleanFailure(try CLI.eduvault(["vault", "purge", "--vault", f.vault, "--before", "2999-01-01"]), mentioning: "future")
        let dry = try CLI.eduvault(["vault", "purge", "--vault", f.vault, "--before", Self.tomorrowOrNow(), "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("would purge 55 records of 2 batch(es)"), "\(dry.stdout)\(dry.stderr)")
        let purged = try CLI.eduvault(["vault", "purge", "--vault", f.vault, "--before", Self.tomorrowOrNow()])
        #expect(purged.status == 0, "\(purged.stderr)")
        #expect(try f.status().audit.by_kind["batch.purged"] == 2)
        #expect(try f.status().total_records == 0)
        let verified = try verify(try export(f, "e"), key: key, state: f.path("s"))
        #expect(verified.status == 0, "\(verified.stdout)")
        #expect(try CLI.eduvault(["vault", "check", "--vault", f.vault]).status == 0)
    }

    static func tomorrowOrNow() -> String {
        // The batches were received at least two seconds ago (timestamps have second precision): "now" covers them.
        Thread.sleep(forTimeInterval: 2.1)
        return Date().formatted(.iso8601)
    }

    @Test("The compliance report is one self-contained page that headless Chromium renders with the verdict and charts")
    func report() throws {
        let f = try DisclosureCommandTests.smallVault()
        defer { f.remove() }
        let key = try Self.logKey(f)
        #expect(try CLI.eduvault(["query", "--vault", f.vault, "--by", "school,sex", "--out", f.path("r.json")]).status == 0)
        let html = f.path("report.html"), json = f.path("report.json")
        let result = try CLI.eduvault(["audit", "report", "--export", try export(f, "e"), "--records", f.path("e"),
                                       "--log-key", key, "--out", html, "--json", json])
        #expect(result.status == 0, "\(result.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(!page.contains("http://") || page.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!page.contains("<script") && !page.contains("<link") && !page.contains("src="))
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let browser = try #require(chromium, "headless Chromium is not installed (.ci/run installs it)")
        let rendered = try CLI.run(URL(fileURLWithPath: browser),
                                   ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + html])
        #expect(rendered.status == 0, "\(rendered.stderr.suffix(500))")
        let text = rendered.stdout.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
        #expect(text.contains("Verdict: PASS"))
        for fragment in ["Policies in force", "eduvault-default", "GP", "MS", "released cells", "withheld: K-MIN",
                         "Batches and records per school per month", "No batch is past retention"] {
            #expect(text.contains(fragment), "the rendered report lacks '\(fragment)'")
        }
        #expect(rendered.stdout.contains("<svg id=\"chart-batches\"") && rendered.stdout.contains("<svg id=\"chart-releases\""))
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        #expect(object?["verdict"] as? String == "pass")
    }
}
