import BigNum
import Foundation
import Paillier
import Primitives
import Testing
import VaultModel

@Suite("vault and school commands")
struct VaultCommandTests {
    @Test("UCI data end to end: init, two schools, encrypt, ingest, status, check, re-send")
    func endToEnd() throws {
        let fixture = try VaultFixture()
        defer { fixture.remove() }
        let gp = try fixture.addSchool("GP", ["region=urban", "province=Setubal"])
        let ms = try fixture.addSchool("MS", ["region=Rural", "province=Setubal"])
        // Keys files are secrets: mode 0600.
        for keys in [gp, ms] {
            let mode = try FileManager.default.attributesOfItem(atPath: keys)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
        }
        var expected: [String: Int] = [:]
        var batches: [String] = []
        for (file, tag, subject) in [("student-mat.csv", "mat", "math"), ("student-por.csv", "por", "portuguese")] {
            for (school, keys) in [("GP", gp), ("MS", ms)] {
                let (csv, count) = try UCI.scoreCSV(file: file, tag: tag, subject: subject, school: school)
                expected["\(school)/\(subject)"] = count
                let input = try fixture.write("\(school)-\(tag).csv", csv)
                let batch = fixture.path("\(school)-\(tag).batch")
                let result = try fixture.encrypt(school: school, keys: keys, csv: input, output: batch)
                #expect(result.status == 0, "encrypt: \(result.stderr)")
                #expect(result.stdout.contains("Encrypted \(count) records"))
                #expect(!(result.stdout + result.stderr).contains("\(school)-\(tag)-"), "a student id leaked")
                batches.append(batch)
            }
        }
        // The figures the issue quotes, recomputed from the fixture rather than trusted.
        #expect(expected == ["GP/math": 349, "MS/math": 46, "GP/portuguese": 423, "MS/portuguese": 226])
        // Batch files carry pseudonyms, never the ids.
        let batchText = try String(contentsOfFile: batches[0], encoding: .utf8)
        #expect(!batchText.contains("GP-mat-") && batchText.contains("\"term\":\"2005\""))

        let ingest = try fixture.ingest(batches)
        #expect(ingest.status == 0, "ingest: \(ingest.stderr)")
        #expect(ingest.stdout.components(separatedBy: "stored: ").count - 1 == 4)
        #expect(!ingest.stdout.contains("already stored"))

        let status = try fixture.status()
        for (key, count) in expected {
            let parts = key.split(separator: "/").map(String.init)
            #expect(status.count(parts[0], parts[1]) == count, "\(key)")
        }
        #expect(status.total_records == expected.values.reduce(0, +))
        #expect(status.batches == 4)
        #expect(status.key.bits == 1024)
        #expect(status.policy.id.hasSuffix("-test-only"))
        #expect(status.schools.map(\.id) == ["GP", "MS"])
        #expect(status.schools.first { $0.id == "MS" }?.attributes["region"] == "rural")
        #expect(status.schools.first { $0.id == "GP" }?.records == 349 + 423)
        #expect(status.refused == 0)
        #expect(status.audit.by_kind["batch.ingested"] == 4)

        let table = try CLI.eduvault(["vault", "status", "--vault", fixture.vault])
        #expect(table.status == 0)
        #expect(
            table.stdout.contains("region=urban") && table.stdout.contains("portuguese")
                && table.stdout.contains("TEST-ONLY"))

        let check = try CLI.eduvault(["vault", "check", "--vault", fixture.vault])
        #expect(check.status == 0, "check: \(check.stderr)")
        #expect(check.stdout.contains("audit chain:       ok") && check.stdout.contains("checkpoint:        size"))

        // Re-sending is harmless and answered with the original receipts.
        let again = try fixture.ingest(batches)
        #expect(again.status == 0)
        #expect(again.stdout.components(separatedBy: "already stored: ").count - 1 == 4)
        let after = try fixture.status()
        #expect(after.total_records == status.total_records && after.audit.entries == status.audit.entries)

        // --json: one receipt per line, the same original receipts.
        let json = try CLI.eduvault(["vault", "ingest", "--vault", fixture.vault, "--json"] + batches)
        #expect(json.status == 0, "\(json.stderr)")
        let receipts = try json.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
        #expect(receipts.count == 4)
        #expect(receipts.allSatisfy { $0["already_stored"] as? Bool == true && ($0["batch_id"] as? String)?.count == 64 })
        #expect(receipts.map { $0["record_count"] as? Int ?? 0 }.reduce(0, +) == status.total_records)
    }

    @Test("A CSV error names file, line and column, never the id or the score, and writes nothing")
    func csvErrors() throws {
        let fixture = try VaultFixture()
        defer { fixture.remove() }
        let keys = try fixture.addSchool("GP")
        let batch = fixture.path("out.batch")
        let cases: [(String, String, [String])] = [
            (
                "student_id,subject,score\nSECRET-0001,math,55.5\nSECRET-4711,math,150.5\n", "line 3, column 3",
                ["SECRET-4711", "150.5"]
            ),
            (
                "student_id,subject,score\nSECRET-0001,math,55.5\nSECRET-4712,math,7x1\n", "line 3, column 3",
                ["SECRET-4712", "7x1"]
            ),
            (
                "student_id,subject,score,sex\nSECRET-0001,math,55.5,F\nSECRET-4713,math,42.5,Q\n", "line 3, column 4",
                ["SECRET-4713", "42.5"]
            ),
            (
                "student_id,subject,score\nSECRET-4714,math,61.5\nSECRET-4714,math,62.5\n", "line 3",
                ["SECRET-4714", "61.5", "62.5"]
            ),
        ]
        for (index, (text, location, secrets)) in cases.enumerated() {
            let csv = try fixture.write("scores-\(index).csv", text)
            let result = try fixture.encrypt(school: "GP", keys: keys, csv: csv, output: batch)
            expectCleanFailure(result, mentioning: "scores-\(index).csv, \(location)")
            for secret in secrets {
                #expect(!(result.stdout + result.stderr).contains(secret), "leaked \(secret): \(result.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: batch))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.dir.path)
            #expect(!leftovers.contains { $0.hasSuffix(".tmp") }, "\(leftovers)")
        }
        // --school must match the keys file.
        let csv = try fixture.write("ok.csv", "student_id,subject,score\nA1,math,50\n")
        expectCleanFailure(try fixture.encrypt(school: "MS", keys: keys, csv: csv, output: batch), mentioning: "GP")
    }

    @Test("Refusals: foreign signature, tampering, another vault, invalid ciphertexts")
    func refusals() throws {
        let fixture = try VaultFixture()
        defer { fixture.remove() }
        let gp = try fixture.addSchool("GP", ["region=urban"])
        let ms = try fixture.addSchool("MS", ["region=rural"])
        var csv = "student_id,subject,score,term\n"
        for i in 1...40 { csv += "S\(i),math,\(i % 20).5,2005\n" }
        let input = try fixture.write("gp.csv", csv)
        let good = fixture.path("good.batch")
        #expect(try fixture.encrypt(school: "GP", keys: gp, csv: input, output: good).status == 0)

        var refusedSoFar = 0
        func expectRefused(_ batch: String, reason: [String], sourceLocation: SourceLocation = #_sourceLocation) throws
        {
            let result = try fixture.ingest([batch])
            expectCleanFailure(
                result, mentioning: URL(fileURLWithPath: batch).lastPathComponent,
                sourceLocation: sourceLocation)
            #expect(
                reason.contains { result.stderr.contains($0) }, "stderr: \(result.stderr)",
                sourceLocation: sourceLocation)
            #expect(!result.stdout.contains("stored"), sourceLocation: sourceLocation)
            let status = try fixture.status()
            refusedSoFar += 1
            #expect(status.total_records == 0 && status.batches == 0, sourceLocation: sourceLocation)
            #expect(status.refused == refusedSoFar, sourceLocation: sourceLocation)
        }

        // 1. Signed with MS's key but claiming to be GP.
        let keysObject = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ms)))
        guard var forged = keysObject as? [String: Any] else {
            Issue.record("keys file is not an object")
            return
        }
        forged["school_id"] = "GP"
        let forgedKeys = fixture.path("forged.keys.json")
        try JSONSerialization.data(withJSONObject: forged).write(to: URL(fileURLWithPath: forgedKeys))
        let foreign = fixture.path("foreign.batch")
        #expect(try fixture.encrypt(school: "GP", keys: forgedKeys, csv: input, output: foreign).status == 0)
        try expectRefused(foreign, reason: ["bad_signature"])

        // 2. One byte of one ciphertext changed.
        var lines = try String(contentsOfFile: good, encoding: .utf8).components(separatedBy: "\n")
        guard let range = lines[3].range(of: "\"c\":\"") else {
            Issue.record("no c field")
            return
        }
        var characters = Array(lines[3])
        let at = lines[3].distance(from: lines[3].startIndex, to: range.upperBound) + 20
        characters[at] = characters[at] == "A" ? "B" : "A"
        lines[3] = String(characters)
        let tampered = try fixture.write("tampered.batch", lines.joined(separator: "\n"))
        try expectRefused(tampered, reason: ["hash_mismatch", "invalid_ciphertext"])

        // 3. Made for another vault (same key, same school id registered there).
        let other = fixture.path("other-vault")
        #expect(
            try CLI.eduvault(
                ["vault", "init", "--vault", other, "--public-key", VaultFixture.publicKey]
                    + VaultFixture.testKey
            ).status == 0)
        let otherKeys = try fixture.addSchool("GP", vault: other)
        let elsewhere = fixture.path("elsewhere.batch")
        #expect(
            try fixture.encrypt(
                school: "GP", keys: otherKeys, csv: input, output: elsewhere,
                descriptor: other + "/descriptor.json"
            ).status == 0)
        try expectRefused(elsewhere, reason: ["wrong_vault"])

        // 4. Ciphertexts outside Z*_{n²}, re-signed with GP's own key so only the ciphertext check can refuse them.
        let key = try PaillierJSON.decodePublicKey(
            Data(contentsOf: URL(fileURLWithPath: VaultFixture.publicKey)),
            allowInsecureSize: true)
        let width = key.ciphertextByteCount
        let tooLarge = [UInt8](repeating: 0xFF, count: width)
        let sharesFactor = try key.n.bigEndianBytes(width: width)
        let zero = [UInt8](repeating: 0, count: width)
        for (name, bad) in [("too-large", tooLarge), ("shares-factor", sharesFactor), ("zero", zero)] {
            let resigned = fixture.path("\(name).batch")
            try Resign.replacingCiphertext(of: good, record: 7, with: bad, keys: gp, output: resigned)
            try expectRefused(resigned, reason: ["invalid_ciphertext"])
            let result = try fixture.ingest([resigned])
            // Width and range failures name the record's line; coprimality is checked once per batch (one
            // Montgomery product per record instead of a gcd), so that refusal names the condition instead.
            let named = name == "shares-factor" ? "shares a factor" : "line 9"
            #expect(result.stderr.contains(named), "the refusal says what failed: \(result.stderr)")
            refusedSoFar += 1
        }

        // The good batch still goes in afterwards; a refused batch in a list stops the run after earlier ones.
        let mixed = try fixture.ingest([good, tampered])
        expectCleanFailure(mixed, mentioning: "stay stored")
        #expect(mixed.stdout.contains("stored: good.batch"))
        #expect(try fixture.status().total_records == 40)
    }

    @Test("vault init refuses small keys, private keys and existing vaults; the embedded policy is the file")
    func initRefusals() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let vault = dir.appendingPathComponent("v").path
        expectCleanFailure(
            try CLI.eduvault(["vault", "init", "--vault", vault, "--public-key", VaultFixture.publicKey]),
            mentioning: "KEY-MIN")
        #expect(!FileManager.default.fileExists(atPath: vault + "/vault.sqlite"))
        expectCleanFailure(
            try CLI.eduvault([
                "vault", "init", "--vault", vault, "--public-key",
                CLI.key("eduvault-1024", "private"), "--insecure-test-key",
            ]),
            mentioning: "private key")
        // From a directory without Policies/: the built-in copy must be Policies/default.yaml byte for byte.
        let made = try CLI.eduvault(
            [
                "vault", "init", "--vault", vault, "--public-key",
                CLI.key("eduvault-2048", "public"),
            ], cwd: dir)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("built-in default policy") && !made.stderr.contains("TEST-ONLY"))
        let descriptor = try Descriptor.read(from: URL(fileURLWithPath: vault + "/descriptor.json"))
        let file = try Data(contentsOf: CLI.root.appendingPathComponent("Policies/default.yaml"))
        #expect(
            descriptor.policy.sha256 == Hex.encode(SHA256.hash(Array(file))),
            "Sources/EduVaultCLI/DefaultPolicy.swift is out of date with Policies/default.yaml")
        #expect(descriptor.keyBits == 2048 && descriptor.keyID.hasPrefix("pk-"))
        #expect(descriptor.publicKey.kty == "DAJ" && descriptor.publicKey.alg == "PAI-GN1")
        expectCleanFailure(
            try CLI.eduvault([
                "vault", "init", "--vault", vault, "--public-key",
                CLI.key("eduvault-2048", "public"),
            ]), mentioning: "already holds a vault")
        expectCleanFailure(try CLI.eduvault(["vault", "status", "--vault", dir.path]), mentioning: "vault init")
        // school add: bad attributes, duplicate school, existing keys file.
        let keys = dir.appendingPathComponent("k.json").path
        expectCleanFailure(
            try CLI.eduvault([
                "school", "add", "--vault", vault, "--id", "GP", "--attr", "region=suburb",
                "--keys-out", keys,
            ]), mentioning: "rural or urban")
        expectCleanFailure(
            try CLI.eduvault([
                "school", "add", "--vault", vault, "--id", "GP", "--attr", "Bad Name=x",
                "--keys-out", keys,
            ]), mentioning: "[a-z0-9_-]")
        #expect(!FileManager.default.fileExists(atPath: keys))
        #expect(try CLI.eduvault(["school", "add", "--vault", vault, "--id", "GP", "--keys-out", keys]).status == 0)
        let keys2 = dir.appendingPathComponent("k2.json").path
        expectCleanFailure(
            try CLI.eduvault(["school", "add", "--vault", vault, "--id", "GP", "--keys-out", keys2]),
            mentioning: "already registered")
        #expect(!FileManager.default.fileExists(atPath: keys2))
        expectCleanFailure(
            try CLI.eduvault(["school", "add", "--vault", vault, "--id", "MS", "--keys-out", keys]),
            mentioning: "already exists")
    }

    @Test("Help text explains the new commands and options")
    func help() throws {
        let root = try CLI.eduvault(["--help"])
        #expect(root.stdout.contains("vault") && root.stdout.contains("school"))
        let expectations: [([String], [String])] = [
            (["vault", "--help"], ["init", "ingest", "status", "check"]),
            (["vault", "init", "--help"], ["--vault", "--public-key", "--policy", "--insecure-test-key", "KEY-MIN"]),
            (["vault", "ingest", "--help"], ["already stored", "signature", "stay stored"]),
            (["vault", "status", "--help"], ["--json"]),
            (["vault", "check", "--help"], ["integrity", "Merkle"]),
            (["school", "--help"], ["add", "encrypt"]),
            (["school", "add", "--help"], ["--attr", "--keys-out", "0600", "region=rural"]),
            (
                ["school", "encrypt", "--help"],
                ["--descriptor", "--school", "--keys", "--input", "--output", "student_id", "pseudonym"]
            ),
        ]
        for (arguments, fragments) in expectations {
            let result = try CLI.eduvault(arguments)
            #expect(result.status == 0, "\(arguments)")
            for fragment in fragments { #expect(result.stdout.contains(fragment), "\(arguments): \(fragment)") }
        }
    }
}

/// Rewrites a batch with one record's ciphertext replaced, re-signed with the school's own key.
enum Resign {
    static func replacingCiphertext(
        of batch: String, record: Int, with ciphertext: [UInt8], keys: String,
        output: String
    ) throws {
        let schoolKeys = try JSONDecoder().decode(SchoolKeys.self, from: Data(contentsOf: URL(fileURLWithPath: keys)))
        let reader = try BatchReader(url: URL(fileURLWithPath: batch))
        let writer = try BatchWriter(url: URL(fileURLWithPath: output), header: reader.header)
        var index = 0
        while var next = try reader.nextRecord() {
            if index == record { next.ciphertext = ciphertext }
            try writer.append(next)
            index += 1
        }
        try writer.finish(signingKey: try schoolKeys.signingKey())
    }
}
