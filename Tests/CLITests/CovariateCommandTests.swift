import Foundation
import Testing

@Suite("covariate commands: vault init, status, school encrypt, sample-data")
struct CovariateCommandTests {
    @Test("--covariate: init, status, encrypt a CSV with covariate columns, ingest, check, an ordinary query")
    func endToEnd() throws {
        let fixture = try VaultFixture(extra: ["--covariate", "prior_score:0:100", "--covariate", "absences:0:93"])
        defer { fixture.remove() }
        let status = try CLI.eduvault(["vault", "status", "--vault", fixture.vault])
        #expect(status.stdout.contains("covariates: prior_score 0.0–100.0, absences 0.0–93.0 (2 ciphertexts a record)"),
                "\(status.stdout)")
        let json = try CLI.eduvault(["vault", "status", "--vault", fixture.vault, "--json"])
        #expect(json.stdout.contains(#""ciphertexts_per_record" : 2"#) && json.stdout.contains(#""name" : "absences""#),
                "\(json.stdout)")
        let keys = try fixture.addSchool("GP", ["region=urban"])
        var csv = "student_id,subject,score,prior_score,absences\n"
        for i in 0..<12 { csv += "s\(i),math,\(50 + i).5,\(40 + i),\(i)\n" }
        let input = try fixture.write("gp.csv", csv)
        let batch = fixture.path("gp.batch")
        let encrypted = try fixture.encrypt(school: "GP", keys: keys, csv: input, output: batch)
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        #expect(try fixture.ingest([batch]).status == 0)
        let check = try CLI.eduvault(["vault", "check", "--vault", fixture.vault])
        #expect(check.status == 0, "\(check.stderr)")
        let release = fixture.path("release.json")
        let query = try CLI.eduvault(["query", "--vault", fixture.vault, "--by", "subject", "--out", release])
        #expect(query.status == 0, "\(query.stderr)")
        let decrypted = try CLI.eduvault(["release", "decrypt", "--private-key", CLI.key("eduvault-1024", "private"),
                                          "--insecure-test-key", release, "--format", "csv"])
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        // Σ of 50.5 … 61.5 over 12 students: mean 56.0.
        #expect(decrypted.stdout.contains("math,12,56.0") || decrypted.stdout.contains("math,12,56,"),
                "\(decrypted.stdout)")
    }

    @Test("school encrypt: a missing column, an empty or out-of-range covariate; nothing written, no value printed")
    func csvErrors() throws {
        let fixture = try VaultFixture(extra: ["--covariate", "prior_score:0:100", "--covariate", "absences:0:93"])
        defer { fixture.remove() }
        let keys = try fixture.addSchool("GP", ["region=urban"])
        let cases: [(String, String)] = [
            ("student_id,subject,score,prior_score\ns1,math,50,40\n", "the covariate column 'absences' is missing"),
            ("student_id,subject,score,prior_score,absences\ns1,math,50,40,1\ns2,math,51,,1\n",
             "line 3, column 4: covariate 'prior_score' is empty"),
            ("student_id,subject,score,prior_score,absences\ns1,math,50,40,1\ns2,math,51,41,93.4\n",
             "line 3, column 5: covariate 'absences' is outside 0.0–93.0"),
            ("student_id,subject,score,prior_score,absences\ns1,math,50,4O,1\n",
             "line 2, column 4: covariate 'prior_score' is not a decimal number"),
        ]
        for (index, (csv, message)) in cases.enumerated() {
            let input = try fixture.write("bad\(index).csv", csv)
            let batch = fixture.path("bad\(index).batch")
            let result = try fixture.encrypt(school: "GP", keys: keys, csv: input, output: batch)
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!result.stderr.contains("93.4") && !result.stderr.contains("4O"), "a value leaked: \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: batch))
        }
    }

    @Test("vault init refuses bad covariates with clear messages; --schema reads a YAML schema file")
    func initOptions() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["vault", "init", "--public-key", VaultFixture.publicKey, "--insecure-test-key"]
        for (flag, message) in [("prior_score:-5:100", "bounds must be at least 0"), ("score:0:100", "collides"),
                                ("sex:0:1", "collides with an attribute"), ("prior_score:0", "NAME:MIN:MAX")] {
            let result = try CLI.eduvault(base + ["--vault", dir.appendingPathComponent("v-\(flag.count)").path,
                                                  "--covariate", flag])
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(flag): \(result.stderr)")
        }
        let schemaFile = dir.appendingPathComponent("schema.yaml")
        try Data("covariates:\n  - {name: study_hours, min: 0, max: 40}\n".utf8).write(to: schemaFile)
        let vault = dir.appendingPathComponent("vault").path
        let made = try CLI.eduvault(base + ["--vault", vault, "--schema", schemaFile.path])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("covariates: study_hours 0.0–40.0"), "\(made.stdout)")
        let both = try CLI.eduvault(base + ["--vault", vault + "2", "--schema", schemaFile.path,
                                            "--covariate", "x:0:1"])
        #expect(both.status != 0)
        try Data("covariates:\n  - {name: x, min: 0, max: 4, unit: h}\n".utf8).write(to: schemaFile)
        let strict = try CLI.eduvault(base + ["--vault", vault + "3", "--schema", schemaFile.path])
        #expect(strict.status != 0 && strict.stderr.contains("unknown key"), "\(strict.stderr)")
    }

    @Test("One namespace for queries: a record attribute named school, or a school attribute named like a record attribute or covariate, is refused")
    func attributeNamesDoNotCollide() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let schemaFile = dir.appendingPathComponent("schema.yaml")
        try Data("attributes:\n  - name: school\n".utf8).write(to: schemaFile)
        let refused = try CLI.eduvault(["vault", "init", "--public-key", VaultFixture.publicKey, "--insecure-test-key",
                                        "--vault", dir.appendingPathComponent("v1").path, "--schema", schemaFile.path])
        #expect(refused.status != 0 && refused.stderr.contains("'school' is reserved"), "\(refused.stderr)")
        let f = try VaultFixture(extra: ["--covariate", "prior_score:0:100"])
        defer { f.remove() }
        let keys = f.path("S1.keys.json")
        #expect(try CLI.eduvault(["school", "keygen", "--school", "S1", "--descriptor", f.descriptor, "--out", keys]).status == 0)
        for attribute in ["sex=F", "residence=rural", "prior_score=1", "school=X", "subject=math"] {
            let result = try CLI.eduvault(["school", "add", "--vault", f.vault, "--id", "S1", "--attr", attribute,
                                           "--public-key", keys + ".pub"])
            #expect(result.status != 0 && result.stderr.contains("already a name queries use"), "\(attribute): \(result.stderr)")
        }
        let fine = try CLI.eduvault(["school", "add", "--vault", f.vault, "--id", "S1", "--attr", "region=rural",
                                     "--public-key", keys + ".pub"])
        #expect(fine.status == 0, "\(fine.stderr)")
    }

    @Test("sample-data --covariates adds prior_score; the default output is unchanged")
    func sampleData() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("plain").path, with = dir.appendingPathComponent("with").path
        #expect(try CLI.eduvault(["sample-data", "--schools", "2", "--students", "30", "--out", plain]).status == 0)
        #expect(try CLI.eduvault(["sample-data", "--schools", "2", "--students", "30", "--out", with, "--covariates"])
            .status == 0)
        let a = try String(contentsOfFile: plain + "/GD-R01.csv", encoding: .utf8).split(separator: "\n")
        let b = try String(contentsOfFile: with + "/GD-R01.csv", encoding: .utf8).split(separator: "\n")
        #expect(a[0] == "student_id,subject,score,grade,term,sex,residence")
        #expect(b[0] == "student_id,subject,score,grade,term,sex,residence,prior_score")
        #expect(a.count == b.count)
        // The same scores, with a prior score correlated with them.
        var xs: [Double] = [], ys: [Double] = []
        for (plainLine, line) in zip(a.dropFirst(), b.dropFirst()) {
            #expect(line.hasPrefix(plainLine + ","))
            let fields = line.split(separator: ",")
            ys.append(Double(fields[2]) ?? .nan)
            xs.append(Double(fields[7]) ?? .nan)
            #expect((0...100).contains(xs.last ?? -1))
        }
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        let sxy = zip(xs, ys).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
        let sxx = xs.map { ($0 - mx) * ($0 - mx) }.reduce(0, +), syy = ys.map { ($0 - my) * ($0 - my) }.reduce(0, +)
        #expect(sxy / (sxx * syy).squareRoot() > 0.7)
    }
}
