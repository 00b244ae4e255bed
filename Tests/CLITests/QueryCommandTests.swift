import Foundation
import Testing

/// Issue 5's commands through the real binary: sample-data, query, release decrypt, demo, bench JSON.
@Suite("Query, release and demo commands", .serialized)
struct QueryCommandTests {
    @Test("sample-data → school add/encrypt → ingest → query → release decrypt (table, json, csv)")
    func endToEnd() throws {
        let f = try VaultFixture()
        defer { f.remove() }
        let data = f.path("sample")
        let generated = try CLI.eduvault(["sample-data", "--schools", "4", "--students", "30", "--out", data])
        #expect(generated.status == 0, "\(generated.stderr)")
        let registry = try String(contentsOfFile: data + "/schools.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(registry.count == 4)
        var batches: [String] = []
        for line in registry {
            let f2 = line.split(separator: ",").map(String.init)
            let keys = try f.addSchool(f2[0], ["region=\(f2[1])", "province=\(f2[2])", "county=\(f2[3])", "program=\(f2[4])"])
            let batch = f.path("\(f2[0]).batch")
            let encrypted = try f.encrypt(school: f2[0], keys: keys, csv: "\(data)/\(f2[0]).csv", output: batch)
            #expect(encrypted.status == 0, "\(encrypted.stderr)")
            batches.append(batch)
        }
        #expect(try f.ingest(batches).status == 0)

        let release = f.path("release.json")
        let query = try CLI.eduvault(["query", "--vault", f.vault, "--by", "subject", "--contrast", "region",
                                      "--out", release])
        #expect(query.status == 0, "\(query.stderr)")
        #expect(query.stdout.contains("released cells:   4"))
        // The release holds counts and ciphertexts, no plaintext mean.
        let raw = try String(contentsOfFile: release, encoding: .utf8)
        #expect(raw.contains("\"sum\"") && !raw.contains("mean"))

        let key = CLI.key("eduvault-1024", "private")
        let table = try CLI.eduvault(["release", "decrypt", "--private-key", key, "--insecure-test-key", release])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("urban − rural") && table.stdout.contains("mean"))

        let json = try CLI.eduvault(["release", "decrypt", "--private-key", key, "--insecure-test-key", "--format", "json", release])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let cells = object?["cells"] as? [[String: Any]] ?? []
        #expect(cells.count == 4)
        #expect(cells.allSatisfy { ($0["count"] as? Int ?? 0) >= 10 && $0["mean"] is Double && $0["sd"] is Double })
        let contrasts = object?["contrasts"] as? [[String: Any]] ?? []
        #expect(contrasts.count == 2)
        #expect(contrasts.allSatisfy { ($0["values"] as? [String]) == ["rural", "urban"] && ($0["d_ci95"] as? [Double])?.count == 2 })

        // Cross-check one mean against the plaintext CSVs.
        var math: [Double] = []
        for line in registry {
            let id = String(line.split(separator: ",")[0])
            guard line.split(separator: ",")[1] == "rural" else { continue }
            for row in try String(contentsOfFile: "\(data)/\(id).csv", encoding: .utf8).split(separator: "\n").dropFirst() {
                let fields = row.split(separator: ",")
                if fields[1] == "math" { math.append(Double(fields[2])!) }
            }
        }
        let ruralMath = cells.first { ($0["by"] as? [String: String]) == ["subject": "math", "region": "rural"] }
        #expect(ruralMath?["count"] as? Int == math.count)
        #expect(abs((ruralMath?["mean"] as? Double ?? 0) - math.reduce(0, +) / Double(math.count)) < 1e-9)

        let csv = try CLI.eduvault(["release", "decrypt", "--private-key", key, "--insecure-test-key", "--format", "csv", release])
        #expect(csv.stdout.hasPrefix("subject,region,count,mean,sd,status\n"))

        // Errors: unknown attribute, bad --where, a release under another key, an existing output file.
        expectCleanFailure(try CLI.eduvault(["query", "--vault", f.vault, "--by", "shoe_size", "--out", f.path("x.json")]),
                           mentioning: "unknown attribute")
        expectCleanFailure(try CLI.eduvault(["query", "--vault", f.vault, "--by", "subject", "--where", "sex",
                                             "--out", f.path("x.json")]), mentioning: "ATTRIBUTE=VALUE")
        expectCleanFailure(try CLI.eduvault(["query", "--vault", f.vault, "--by", "subject", "--out", release]),
                           mentioning: "already exists")
        expectCleanFailure(try CLI.eduvault(["release", "decrypt", "--private-key", CLI.key("pheutil-1024", "private"),
                                             "--insecure-test-key", release]), mentioning: "key")
        expectCleanFailure(try CLI.eduvault(["release", "decrypt", "--private-key", key, "--insecure-test-key",
                                             f.write("bad.json", "{\"format\":\"x\"}")]), mentioning: "release")
        expectCleanFailure(try CLI.eduvault(["query", "--vault", f.path("nope"), "--by", "subject", "--out", f.path("y.json")]))

        // An edited release never yields plausible numbers: edits that no scores can explain are refused from the
        // decrypted sums alone; with --log-key every edit is refused by the vault's signature, and the genuine
        // release passes.
        func edited(_ name: String, _ change: (inout [String: Any]) -> Void) throws -> String {
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: release))) as? [String: Any] ?? [:]
            change(&object)
            return try f.write(name, String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        }
        func setCount(_ count: Int) -> (inout [String: Any]) -> Void {
            { object in
                var cells = object["cells"] as? [[String: Any]] ?? []
                cells[0]["count"] = count
                object["cells"] = cells
            }
        }
        let decrypt = ["release", "decrypt", "--private-key", key, "--insecure-test-key"]
        let one = try edited("one.json", setCount(1))
        expectCleanFailure(try CLI.eduvault(decrypt + [one]), mentioning: "cannot come from 1 scores")
        let narrow = try edited("narrow.json") { $0["slot_bits"] = 64 }
        let narrowed = try CLI.eduvault(decrypt + [narrow])
        #expect(narrowed.status != 0, "a release with another slot layout decrypted: \(narrowed.stdout)")
        let doubled = try edited("doubled.json", setCount((cells.first?["count"] as? Int ?? 10) * 2))
        let scaled = try edited("scaled.json") { $0["scale"] = 2 }
        #expect(try CLI.eduvault(decrypt + ["--log-key", f.descriptor, release]).status == 0)
        for file in [one, narrow, doubled, scaled] {
            expectCleanFailure(try CLI.eduvault(decrypt + ["--log-key", f.descriptor, file]), mentioning: "signature does not verify")
        }
    }

    @Test("The demo runs end to end at a small size and cleans up after itself")
    func demo() throws {
        let result = try CLI.eduvault(["demo", "--bits", "1024", "--insecure-test-key", "--schools", "8", "--students", "30"])
        #expect(result.status == 0, "\(result.stderr)")
        for fragment in ["urban − rural", "livestream − standard", "DIFF-GUARD", "[LIN-AUDIT]", "audit chain:       ok",
                         "stored state matches the rebuild", "Demo finished", "livestream", "school-level ICC"] {
            #expect(result.stdout.contains(fragment), "missing '\(fragment)' in demo output")
        }
        let kept = try CLI.temporaryDirectory().appendingPathComponent("kept")
        defer { try? FileManager.default.removeItem(at: kept.deletingLastPathComponent()) }
        let keep = try CLI.eduvault(["demo", "--bits", "1024", "--insecure-test-key", "--schools", "4", "--students", "20",
                                     "--keep", kept.path])
        #expect(keep.status == 0, "\(keep.stderr)")
        #expect(FileManager.default.fileExists(atPath: kept.appendingPathComponent("vault/vault.sqlite").path))
        expectCleanFailure(try CLI.eduvault(["demo", "--bits", "1024"]), mentioning: "2048")
    }

    @Test("bench --utility: the default policy's releases are never disclosive, the others' can be")
    func benchUtility() throws {
        let result = try CLI.eduvault(["bench", "--utility", "--json", "--bits", "1024", "--utility-schools", "4",
                                       "--utility-students", "40", "--uci", CLI.root.appendingPathComponent(
                                           "Tests/Fixtures/uci-student-performance").path,
                                       "--private-key", CLI.key("eduvault-1024", "private")])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        let rows = object["utility"] as? [[String: Any]] ?? []
        #expect(rows.count == 6)
        for row in rows where (row["policy"] as? String ?? "").hasPrefix("default") {
            #expect(row["disclosive_cells"] as? Int == 0)
            #expect(row["lin_audit_undecided"] as? Int == 0)
            #expect((row["fraction_of_kmin_alone"] as? Double ?? 0) > 0.5)
        }
        // K-MIN alone gives its own withheld cells away on the UCI session.
        let unsafe = rows.first { $0["dataset"] as? String == "uci" && $0["policy"] as? String == "K-MIN alone" }
        #expect((unsafe?["disclosive_cells"] as? Int ?? 0) > 0)
    }

    @Test("bench --json reports the figures the issues name")
    func benchJSON() throws {
        let result = try CLI.eduvault(["bench", "--bits", "1024", "--seconds", "0.05", "--json",
                                       "--private-key", CLI.key("eduvault-1024", "private")])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        for key in ["bits", "encrypt_per_s", "decrypt_per_s", "add_per_s", "scalar_mul_per_s", "encrypt_per_s_all_cores",
                    "decrypt_per_s_all_cores", "sum_adds_per_s", "sum_adds_per_s_all_cores", "table_bytes"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["bits"] as? Int == 1024)
        #expect((object["table_bytes"] as? Double ?? 0) > 0)
    }
}
