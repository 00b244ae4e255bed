import Foundation
import Testing

/// Issue 11 through the real binary: keys ceremony, vault init --threshold, release share, release decrypt
/// --threshold (exact and DP releases), refusals named by party, DECRYPT-QUORUM, the threshold demo.
@Suite("Threshold custody commands", .serialized)
struct ThresholdCommandTests {
    static let fixture = "threshold-2of3-768"
    static func file(_ name: String) -> String {
        CLI.root.appendingPathComponent("Keys/test/\(fixture)/\(name)").path
    }
    static let k = ["--insecure-test-key"]

    @Test("keys ceremony: files, modes, sealing per party, duration; refusals")
    func ceremony() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pass = dir.appendingPathComponent("auditor.pass")
        try Data("auditor's passphrase\n".utf8).write(to: pass)
        let out = dir.appendingPathComponent("custody").path
        let result = try CLI.eduvault(["keys", "ceremony", "--parties", "bureau,auditor,custodian", "--threshold", "2",
                                       "--bits", "512", "--out", out, "--passphrase-file", "auditor=\(pass.path)"] + Self.k)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Searching for two 256-bit safe primes"))
        #expect(result.stderr.contains("Dealt a 2-of-3 threshold key of 512 bits in "))
        #expect(result.stdout.contains("p, q and d were wiped"))
        func mode(_ name: String) throws -> Int {
            let attributes = try FileManager.default.attributesOfItem(atPath: out + "/" + name)
            return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        for party in ["bureau", "auditor", "custodian"] { #expect(try mode("share-\(party).json") == 0o600) }
        #expect(try mode("public.json") == 0o644 && mode("threshold.json") == 0o644)
        let auditor = try String(contentsOfFile: out + "/share-auditor.json", encoding: .utf8)
        let bureau = try String(contentsOfFile: out + "/share-bureau.json", encoding: .utf8)
        #expect(auditor.contains("eduvault_sealed") && !auditor.contains("\"share\""))
        #expect(bureau.contains("\"share\"") && !bureau.contains("eduvault_sealed"))
        let show = try CLI.eduvault(["keys", "show", out + "/public.json"] + Self.k)
        #expect(show.status == 0 && show.stdout.contains("bits:   512"))
        let showKey = try CLI.eduvault(["keys", "show", out + "/threshold.json"] + Self.k)
        #expect(showKey.stdout.contains("threshold: 2 of 3 (bureau, auditor, custodian)"), "\(showKey.stdout)\(showKey.stderr)")
        let showShare = try CLI.eduvault(["keys", "show", out + "/share-auditor.json"] + Self.k)
        #expect(showShare.stdout.contains("threshold key share of auditor (passphrase-protected)"), "\(showShare.stdout)")
        let showBureau = try CLI.eduvault(["keys", "show", out + "/share-bureau.json"] + Self.k)
        let secret = (try JSONSerialization.jsonObject(with: Data(bureau.utf8)) as? [String: Any])?["share"] as? String ?? "-"
        #expect(showBureau.status == 0 && !showBureau.stdout.contains(secret))
        // The public key is an ordinary python-paillier key file.
        let threshold = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/threshold.json")))
            as? [String: Any] ?? [:]
        #expect(threshold["threshold"] as? Int == 2 && threshold["delta"] as? String == "6")
        #expect((threshold["parties"] as? [[String: Any]])?.map { $0["name"] as? String } == ["bureau", "auditor", "custodian"])

        expectCleanFailure(try CLI.eduvault(["keys", "ceremony", "--parties", "a,b,c", "--threshold", "2", "--bits", "512",
                                             "--out", dir.appendingPathComponent("x").path]), mentioning: "2048")
        expectCleanFailure(try CLI.eduvault(["keys", "ceremony", "--parties", "a,b,a", "--threshold", "2", "--bits", "512",
                                             "--out", dir.appendingPathComponent("x").path] + Self.k), mentioning: "twice")
        expectCleanFailure(try CLI.eduvault(["keys", "ceremony", "--parties", "a,b", "--threshold", "3", "--bits", "512",
                                             "--out", dir.appendingPathComponent("x").path] + Self.k), mentioning: "--threshold")
        expectCleanFailure(try CLI.eduvault(["keys", "ceremony", "--parties", "a,b", "--threshold", "2", "--bits", "512",
                                             "--out", dir.appendingPathComponent("x").path, "--passphrase-file", "zz=\(pass.path)"]
                                            + Self.k), mentioning: "PARTY=FILE")
        expectCleanFailure(try CLI.eduvault(["keys", "ceremony", "--parties", "bureau,auditor,custodian", "--threshold", "2",
                                             "--bits", "512", "--out", out] + Self.k), mentioning: "already exists")
        let help = try CLI.eduvault(["keys", "ceremony", "--help"])
        #expect(help.stdout.contains("--parties") && help.stdout.contains("safe primes") && help.stdout.contains("0600"))
        let decryptHelp = try CLI.eduvault(["release", "decrypt", "--help"])
        #expect(decryptHelp.stdout.contains("--threshold") && decryptHelp.stdout.contains("partial"))
    }

    /// A vault under the 2-of-3 fixture with four schools of sample data; returns the fixture and the CSV directory.
    static func thresholdVault(policy: String? = nil) throws -> (VaultFixture, String) {
        let f = try VaultFixture(publicKey: file("public.json"), extra: ["--threshold", file("threshold.json")]
                                 + (policy.map { ["--policy", CLI.root.appendingPathComponent($0).path] } ?? []))
        let data = f.path("sample")
        let generated = try CLI.eduvault(["sample-data", "--schools", "4", "--students", "30", "--out", data])
        #expect(generated.status == 0, "\(generated.stderr)")
        try f.ingestSample(data)
        return (f, data)
    }

    static func share(_ f: VaultFixture, _ party: String, _ release: String, extra: [String] = []) throws -> String {
        let out = f.path("\(party)-\(URL(fileURLWithPath: release).lastPathComponent)")
        let result = try CLI.eduvault(["release", "share", "--share", file("share-\(party).json"), release, "--out", out,
                                       "--log-key", f.descriptor] + extra + k)
        #expect(result.status == 0, "\(result.stderr)")
        return out
    }

    @Test("vault init --threshold → query → release share ×3 → release decrypt --threshold: every pair, same numbers as the CSVs; refusals named")
    func endToEnd() throws {
        let (f, data) = try Self.thresholdVault()
        defer { f.remove() }
        let status = try CLI.eduvault(["vault", "status", "--vault", f.vault])
        #expect(status.stdout.contains("custody: threshold 2 of 3 (bureau, auditor, custodian)"))
        let release = f.path("release.json")
        let query = try CLI.eduvault(["query", "--vault", f.vault, "--by", "subject", "--contrast", "region", "--out", release])
        #expect(query.status == 0, "\(query.stderr)")
        let partials = try ["bureau", "auditor", "custodian"].map { try Self.share(f, $0, release) }
        let threshold = ["release", "decrypt", "--threshold", Self.file("threshold.json")] + Self.k
        var outputs: [String] = []
        for pair in [[0, 1], [0, 2], [1, 2]] {
            let result = try CLI.eduvault(threshold + ["--format", "json", release] + pair.map { partials[$0] })
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("decrypting with"))
            outputs.append(result.stdout)
        }
        #expect(Set(outputs).count == 1, "every pair prints the same JSON")
        let object = try JSONSerialization.jsonObject(with: Data(outputs[0].utf8)) as? [String: Any] ?? [:]
        let cells = object["cells"] as? [[String: Any]] ?? []
        #expect(cells.count == 4)
        // One mean against the plaintext CSVs.
        let registry = try String(contentsOfFile: data + "/schools.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        var math: [Double] = []
        for line in registry where line.split(separator: ",")[1] == "urban" {
            let id = String(line.split(separator: ",")[0])
            for row in try String(contentsOfFile: "\(data)/\(id).csv", encoding: .utf8).split(separator: "\n").dropFirst() {
                let fields = row.split(separator: ",")
                if fields[1] == "math", let score = Double(fields[2]) { math.append(score) }
            }
        }
        let urbanMath = cells.first { ($0["by"] as? [String: String]) == ["subject": "math", "region": "urban"] }
        #expect(urbanMath?["count"] as? Int == math.count)
        #expect(abs((urbanMath?["mean"] as? Double ?? 0) - math.reduce(0, +) / Double(math.count)) < 1e-9)
        let table = try CLI.eduvault(threshold + [release, partials[2], partials[0]])
        #expect(table.status == 0 && table.stdout.contains("urban − rural"))
        let csv = try CLI.eduvault(threshold + ["--format", "csv", release, partials[0], partials[1]])
        #expect(csv.stdout.hasPrefix("subject,region,count,mean,sd,status\n"))

        // A forged partial (one value changed): named, never used; the two honest ones decrypt.
        var forgedObject = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: partials[2])))
            as? [String: Any] ?? [:]
        var units = forgedObject["units"] as? [[String: Any]] ?? []
        let value = units[0]["value"] as? String ?? "1"
        units[0]["value"] = String(value.dropLast()) + (value.hasSuffix("1") ? "3" : "1")
        forgedObject["units"] = units
        let forged = try f.write("forged.json", String(decoding: try JSONSerialization.data(withJSONObject: forgedObject),
                                                       as: UTF8.self))
        let withForged = try CLI.eduvault(threshold + ["--format", "json", release, forged, partials[0], partials[1]])
        #expect(withForged.status == 0, "\(withForged.stderr)")
        #expect(withForged.stderr.contains("refused: the partial of custodian"))
        #expect(withForged.stdout == outputs[0])
        // With the forged one and one honest one: no quorum, and the message says who is missing.
        let noQuorum = try CLI.eduvault(threshold + [release, forged, partials[1]])
        expectCleanFailure(noQuorum, mentioning: "missing: bureau, custodian")
        #expect(noQuorum.stderr.contains("refused: the partial of custodian"))
        // The same party twice.
        let twice = try CLI.eduvault(threshold + [release, partials[0], partials[0]])
        expectCleanFailure(twice, mentioning: "only 1 valid partial")
        #expect(twice.stderr.contains("a second partial from bureau"))
        // A partial for another release.
        let other = f.path("other.json")
        #expect(try CLI.eduvault(["query", "--vault", f.vault, "--by", "region", "--out", other]).status == 0)
        let otherPartial = try Self.share(f, "auditor", other)
        let mixed = try CLI.eduvault(threshold + [release, partials[0], otherPartial])
        expectCleanFailure(mixed, mentioning: "missing: auditor, custodian")
        #expect(mixed.stderr.contains("refused: the partial of auditor") && mixed.stderr.contains("made for release"))
        // Option errors.
        expectCleanFailure(try CLI.eduvault(["release", "decrypt", "--threshold", Self.file("threshold.json"),
                                             "--private-key", CLI.key("eduvault-1024", "private"), release] + Self.k),
                           mentioning: "not both")
        expectCleanFailure(try CLI.eduvault(["release", "decrypt", release]), mentioning: "--private-key")
        expectCleanFailure(try CLI.eduvault(threshold + [release]), mentioning: "only 0 valid")
        expectCleanFailure(try CLI.eduvault(["release", "decrypt", "--threshold", Self.file("threshold.json"), release,
                                             partials[0], partials[1]]), mentioning: "2048")
        // The auditor's report shows the custody the log recorded.
        let check = try CLI.eduvault(["vault", "check", "--vault", f.vault])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test("A release forged from a stored ciphertext, an edited count, or another vault's release: refused by release share and release decrypt --log-key before any decryption")
    func forgedReleases() throws {
        let (f, _) = try Self.thresholdVault()
        defer { f.remove() }
        let release = f.path("release.json")
        #expect(try CLI.eduvault(["query", "--vault", f.vault, "--by", "subject", "--out", release]).status == 0)
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: release))) as? [String: Any] ?? [:]
        #expect(object["vault_signature"] is String, "the vault did not sign its release")
        // The attack: the first cell's sum becomes one ciphertext under the vault's key (what an audit export holds
        // for every record), its count and id unchanged, so the parties would decrypt one student's score.
        let one = try CLI.eduvault(["encrypt", "--public-key", Self.file("public.json"), "1234"] + Self.k)
        let single = (try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])?["v"] as? String ?? ""
        var cells = object["cells"] as? [[String: Any]] ?? []
        cells[0]["sum"] = single
        object["cells"] = cells
        let forged = try f.write("forged.json", String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        for party in ["auditor", "custodian"] {
            let refused = try CLI.eduvault(["release", "share", "--share", Self.file("share-\(party).json"), forged, "--out",
                                            f.path("\(party).forged.partial"), "--log-key", f.descriptor] + Self.k)
            expectCleanFailure(refused, mentioning: "signature does not verify")
            #expect(!FileManager.default.fileExists(atPath: f.path("\(party).forged.partial")))
        }
        // Without a pinned key there is nothing to check against: the party must say which vault it serves.
        expectCleanFailure(try CLI.eduvault(["release", "share", "--share", Self.file("share-auditor.json"), forged, "--out",
                                             f.path("x.partial")] + Self.k), mentioning: "--log-key")
        // The genuine release passes; the same release checked against another vault's key does not.
        let other = try VaultFixture()
        defer { other.remove() }
        let partial = try Self.share(f, "auditor", release)
        expectCleanFailure(try CLI.eduvault(["release", "share", "--share", Self.file("share-bureau.json"), release, "--out",
                                             f.path("b.partial"), "--log-key", other.descriptor] + Self.k),
                           mentioning: "signature does not verify")
        // release decrypt --log-key: an edited count (which halves every mean) and a removed signature are refused.
        var edited = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: release))) as? [String: Any] ?? [:]
        var editedCells = edited["cells"] as? [[String: Any]] ?? []
        editedCells[0]["count"] = (editedCells[0]["count"] as? Int ?? 1) * 2
        edited["cells"] = editedCells
        let doubled = try f.write("doubled.json", String(decoding: try JSONSerialization.data(withJSONObject: edited), as: UTF8.self))
        let bureau = try Self.share(f, "bureau", release)
        let decrypt = ["release", "decrypt", "--threshold", Self.file("threshold.json"), "--log-key", f.descriptor] + Self.k
        #expect(try CLI.eduvault(decrypt + [release, partial, bureau]).status == 0)
        expectCleanFailure(try CLI.eduvault(decrypt + [doubled, partial, bureau]), mentioning: "signature does not verify")
        edited = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: release))) as? [String: Any] ?? [:]
        edited["vault_signature"] = nil
        let unsigned = try f.write("unsigned.json", String(decoding: try JSONSerialization.data(withJSONObject: edited), as: UTF8.self))
        expectCleanFailure(try CLI.eduvault(decrypt + [unsigned, partial, bureau]), mentioning: "no vault signature")
    }

    @Test("A differential-privacy vault under a threshold key: noisy releases decrypt with intervals, as with one key")
    func noisyRelease() throws {
        let (f, _) = try Self.thresholdVault(policy: "Policies/differential-privacy.yaml")
        defer { f.remove() }
        let release = f.path("noisy.json")
        let query = try CLI.eduvault(["query", "--vault", f.vault, "--by", "subject", "--out", release])
        #expect(query.status == 0, "\(query.stderr)")
        #expect(try String(contentsOfFile: release, encoding: .utf8).contains("eduvault-release/2"))
        let partials = try ["custodian", "auditor"].map { try Self.share(f, $0, release) }
        let table = try CLI.eduvault(["release", "decrypt", "--threshold", Self.file("threshold.json"), release] + partials
                                     + Self.k)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("mean 95% CI") && table.stdout.contains("Differential privacy"))
        let json = try CLI.eduvault(["release", "decrypt", "--threshold", Self.file("threshold.json"), "--format", "json",
                                     release] + partials + Self.k)
        let cells = (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["cells"]
            as? [[String: Any]] ?? []
        #expect(cells.count == 2 && cells.allSatisfy { ($0["mean_ci95"] as? [Double])?.count == 2 })
        // Means within a wide band of the 0–100 score range (noise σ ≈ 20 points on a 120-record mean).
        #expect(cells.allSatisfy { (($0["mean"] as? Double) ?? -1000) > 0 && (($0["mean"] as? Double) ?? 1000) < 100 })
    }

    @Test("DECRYPT-QUORUM: Policies/quorum.yaml refuses a single bureau key and admits the 2-of-3 key")
    func decryptQuorum() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = CLI.root.appendingPathComponent("Policies/quorum.yaml").path
        let refused = try CLI.eduvault(["vault", "init", "--vault", dir.appendingPathComponent("single").path,
                                        "--public-key", CLI.key("eduvault-1024", "public"), "--policy", policy] + Self.k)
        expectCleanFailure(refused, mentioning: "DECRYPT-QUORUM")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("single/vault.sqlite").path))
        let mismatched = try CLI.eduvault(["vault", "init", "--vault", dir.appendingPathComponent("mismatch").path,
                                           "--public-key", CLI.key("eduvault-1024", "public"),
                                           "--threshold", Self.file("threshold.json")] + Self.k)
        expectCleanFailure(mismatched, mentioning: "one ceremony")
        let admitted = try CLI.eduvault(["vault", "init", "--vault", dir.appendingPathComponent("quorum").path,
                                         "--public-key", Self.file("public.json"), "--threshold", Self.file("threshold.json"),
                                         "--policy", policy] + Self.k)
        #expect(admitted.status == 0, "\(admitted.stderr)")
        #expect(admitted.stdout.contains("custody:    threshold 2 of 3 (bureau, auditor, custodian), ceremony tk-"))
        let descriptor = try String(contentsOfFile: dir.appendingPathComponent("quorum/descriptor.json").path, encoding: .utf8)
        #expect(descriptor.contains("\"custody\"") && descriptor.contains("verification_keys_sha256"))
        // The auditor's export and report carry the custody from the log.
        let export = dir.appendingPathComponent("export").path
        #expect(try CLI.eduvault(["audit", "export", "--vault", dir.appendingPathComponent("quorum").path, "--out", export])
            .status == 0)
        let logKey = (try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("quorum/descriptor.json")))
                      as? [String: Any])?["log_key"] as? String ?? ""
        let report = dir.appendingPathComponent("report.json").path
        let verified = try CLI.eduvault(["audit", "report", "--export", export, "--log-key", logKey,
                                         "--out", dir.appendingPathComponent("report.html").path, "--json", report])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(try String(contentsOfFile: report, encoding: .utf8).contains("threshold 2 of 3 (bureau, auditor, custodian)"))
    }

    @Test("A sealed share needs its passphrase")
    func sealedShare() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pass = dir.appendingPathComponent("pass")
        try Data("custodian secret".utf8).write(to: pass)
        let out = dir.appendingPathComponent("k").path
        #expect(try CLI.eduvault(["keys", "ceremony", "--parties", "bureau,custodian", "--threshold", "2", "--bits", "512",
                                  "--out", out, "--passphrase-file", "custodian=\(pass.path)"] + Self.k).status == 0)
        // A one-cell release under that key, made by hand.
        let release = dir.appendingPathComponent("r.json").path
        // Σx = 1234 in slot 0 and Σx² = 152,276 in slot 1 (96-bit slots): sums ten scores can have.
        let packed = "12064547675022116271394498581365970"  // 1234 + 152276 · 2^96
        let ciphertext = try CLI.eduvault(["encrypt", "--public-key", out + "/public.json", packed] + Self.k)
        let v = (try JSONSerialization.jsonObject(with: Data(ciphertext.stdout.utf8)) as? [String: Any])?["v"] as? String ?? ""
        let keyID = (try JSONSerialization.jsonObject(with: Data(ciphertext.stdout.utf8)) as? [String: Any])?["key_id"]
            as? String ?? ""
        try Data(InteropRelease.json(id: "r1", keyID: keyID, sums: [v], counts: [10]).utf8).write(to: URL(fileURLWithPath: release))
        let share = ["release", "share", "--share", out + "/share-custodian.json", release, "--out",
                     dir.appendingPathComponent("c.json").path, "--no-vault-signature"] + Self.k
        expectCleanFailure(try CLI.eduvault(share), mentioning: "passphrase")
        let wrong = dir.appendingPathComponent("wrong")
        try Data("nope".utf8).write(to: wrong)
        expectCleanFailure(try CLI.eduvault(share + ["--passphrase-file", wrong.path]), mentioning: "passphrase")
        let opened = try CLI.eduvault(share + ["--passphrase-file", pass.path])
        #expect(opened.status == 0, "\(opened.stderr)")
        let bureau = try CLI.eduvault(["release", "share", "--share", out + "/share-bureau.json", release, "--out",
                                       dir.appendingPathComponent("b.json").path, "--no-vault-signature"] + Self.k)
        #expect(bureau.status == 0, "\(bureau.stderr)")
        let decrypted = try CLI.eduvault(["release", "decrypt", "--threshold", out + "/threshold.json", "--format", "json",
                                          release, dir.appendingPathComponent("b.json").path,
                                          dir.appendingPathComponent("c.json").path] + Self.k)
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        // 1234 in slot 0 of a 10-record cell at scale 1: mean 12.34.
        let cells = (try JSONSerialization.jsonObject(with: Data(decrypted.stdout.utf8)) as? [String: Any])?["cells"]
            as? [[String: Any]] ?? []
        #expect(abs((cells.first?["mean"] as? Double ?? 0) - 12.34) < 1e-9, "\(decrypted.stdout)")
    }

    @Test("demo --custody threshold: a 2-of-3 ceremony, every release (models too) decrypted by two parties, a forged share refused")
    func demo() throws {
        let result = try CLI.eduvault(["demo", "--custody", "threshold", "--bits", "768", "--insecure-test-key",
                                       "--schools", "4", "--students", "20"])
        #expect(result.status == 0, "\(result.stderr)")
        for fragment in ["deal a 768-bit threshold key", "bureau and auditor each decrypted partially",
                         "auditor and custodian each decrypted partially", "The custodian forges its partial decryption",
                         "The forged share was named and not used", "no quorum", "missing:", "urban − rural",
                         "school-level ICC", "Each model release was decrypted by two of bureau, auditor and custodian",
                         "an edited release", "signature does not verify", "Demo finished"] {
            #expect(result.stdout.contains(fragment), "missing '\(fragment)' in demo output")
        }
        #expect(result.stderr.contains("refused: the partial of custodian"))
        #expect(result.stderr.contains("Dealt a 2-of-3 threshold key of 768 bits"))
    }
}

/// A hand-made exact release (format 1) with one cell per sum, by `subject`, for tests that bring their own
/// ciphertexts (python-paillier's, or a fresh key's).
enum InteropRelease {
    static func json(id: String, keyID: String, sums: [String], counts: [Int]) -> String {
        let cells = zip(sums, counts).enumerated().map { i, cell in
            "{\"by\": {\"subject\": \"s\(i)\"}, \"count\": \(cell.1), \"sum\": \"\(cell.0)\"}"
        }
        return """
            {"format": "eduvault-release/1", "id": "\(id)", "vault": "interop", "key_id": "\(keyID)",
             "query": {"by": ["subject"], "filters": {}}, "policy": {"id": "interop", "version": 1,
             "sha256": "\(String(repeating: "0", count: 64))"}, "created": "2026-01-01T00:00:00Z", "log_index": 1,
             "scale": 1, "slot_bits": 96, "slot_count": 2, "cells": [\(cells.joined(separator: ", "))], "suppressed": []}
            """
    }
}
