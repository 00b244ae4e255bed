import Foundation
import Testing

/// `eduvault analyze` and `release decrypt` on model releases through the real binary: schools encrypt CSVs with
/// covariate columns, the vault ingests them and releases a model, the bureau decrypts it, and the whole JSON output
/// equals statsmodels (and scipy) on the same plaintext — every number within 1e-6 relative (or 1e-9 absolute).
@Suite("analyze: models through the commands, exact against statsmodels", .serialized)
struct ModelCommandTests {
    static let resources = CLI.root.appendingPathComponent("Tests/StatisticsTests/Resources")
    static let reference = resources.appendingPathComponent("model_reference.py")
    static let privateKey = CLI.key("eduvault-1024", "private")

    /// Compares two JSON trees: the same keys, strings and nulls; numbers within 1e-6 relative or 1e-9 absolute.
    struct Comparison {
        var failures: [String] = []
        var numbers = 0
        var maxRelative = 0.0
        /// The largest relative difference among numbers that differ by more than 1e-9.
        var maxRelativeAboveFloor = 0.0
        var maxRelativePath = ""

        mutating func compare(_ ours: Any?, _ theirs: Any?, _ path: String = "") {
            switch (ours, theirs) {
            case (let a as [String: Any], let b as [String: Any]):
                if Set(a.keys) != Set(b.keys) {
                    failures.append("\(path): keys \(a.keys.sorted()) vs reference \(b.keys.sorted())")
                }
                for key in Set(a.keys).intersection(b.keys) { compare(a[key], b[key], path + "." + key) }
            case (let a as [Any], let b as [Any]):
                guard a.count == b.count else { return failures.append("\(path): \(a.count) vs \(b.count) items") }
                for (i, (x, y)) in zip(a, b).enumerated() { compare(x, y, "\(path)[\(i)]") }
            case (let a as NSNumber, let b as NSNumber):
                let x = a.doubleValue
                let y = b.doubleValue
                numbers += 1
                let difference = abs(x - y)
                let relative = difference == 0 ? 0 : difference / max(abs(x), abs(y))
                if relative > maxRelative { maxRelativePath = path }
                maxRelative = max(maxRelative, relative)
                if difference > 1e-9 { maxRelativeAboveFloor = max(maxRelativeAboveFloor, relative) }
                if !(difference <= 1e-9 || relative <= 1e-6) {
                    failures.append("\(path): \(x) vs reference \(y) (relative \(relative))")
                }
            case (let a as String, let b as String):
                if a != b { failures.append("\(path): \"\(a)\" vs reference \"\(b)\"") }
            case (is NSNull, is NSNull), (nil, nil): break
            case (nil, is NSNull), (is NSNull, nil): break
            default:
                failures.append("\(path): \(String(describing: ours)) vs reference \(String(describing: theirs))")
            }
        }
    }

    /// Runs the analysis through the binary and the reference on `csv`; compares the whole JSON.
    func check(
        _ fixture: VaultFixture, model: String, arguments: [String], referenceCSV: String,
        referenceArguments: [String], name: String
    ) throws -> Comparison {
        let release = fixture.path("\(name).model.json")
        let analyzed = try CLI.eduvault(
            ["analyze", "--vault", fixture.vault, "--model", model, "--out", release]
                + arguments)
        #expect(analyzed.status == 0, "analyze: \(analyzed.stderr)")
        #expect(analyzed.stdout.contains("model release"), "\(analyzed.stdout)")
        let decrypted = try CLI.eduvault([
            "release", "decrypt", "--private-key", Self.privateKey, "--insecure-test-key",
            release, "--format", "json",
        ])
        #expect(decrypted.status == 0, "decrypt: \(decrypted.stderr)")
        let table = try CLI.eduvault([
            "release", "decrypt", "--private-key", Self.privateKey, "--insecure-test-key",
            release,
        ])
        #expect(table.status == 0 && table.stdout.contains("Intercept"), "\(table.stdout)\(table.stderr)")
        let csvOut = try CLI.eduvault([
            "release", "decrypt", "--private-key", Self.privateKey, "--insecure-test-key",
            release, "--format", "csv",
        ])
        #expect(csvOut.status == 0 && csvOut.stdout.contains("Intercept"), "\(csvOut.stderr)")
        let csvPath = try fixture.write("\(name).reference.csv", referenceCSV)
        let python = try CLI.run(CLI.python, [Self.reference.path, csvPath, model] + referenceArguments)
        #expect(python.status == 0, "model_reference.py: \(python.stderr)")
        let ours = try JSONSerialization.jsonObject(with: Data(decrypted.stdout.utf8))
        let theirs = try JSONSerialization.jsonObject(with: Data(python.stdout.utf8))
        var comparison = Comparison()
        comparison.compare(ours, theirs)
        #expect(comparison.failures.isEmpty, "\(name): \(comparison.failures.prefix(20).joined(separator: "\n"))")
        #expect(comparison.numbers > 40)
        print(
            "[\(name)] \(comparison.numbers) numbers, max relative difference \(comparison.maxRelative) "
                + "at \(comparison.maxRelativePath) (\(comparison.maxRelativeAboveFloor) among those differing "
                + "by more than 1e-9)"
        )
        return comparison
    }

    @Test(
        "UCI: G3 on G1 (prior_score), studytime, absences, sex, residence and school; Hedges' g; a random school",
        arguments: [
            ("student-mat.csv", "math", "score ~ prior_score + studytime + absences + sex + residence + school", false),
            ("student-por.csv", "portuguese", "score ~ prior_score + studytime + absences + sex + residence", true),
        ])
    func uci(file: String, subject: String, model: String, random: Bool) throws {
        let fixture = try VaultFixture(extra: [
            "--covariate", "prior_score:0:20", "--covariate", "studytime:0:4",
            "--covariate", "absences:0:93",
        ])
        defer { fixture.remove() }
        let rows = try UCI.rows(file)
        var reference = "score,prior_score,studytime,absences,sex,residence,school\n"
        var batches: [String] = []
        for school in ["GP", "MS"] {
            let keys = try fixture.addSchool(school, ["region=\(school == "GP" ? "urban" : "rural")"])
            var csv = "student_id,subject,score,sex,residence,prior_score,studytime,absences\n"
            for (i, row) in rows.enumerated() where row["school"] == school {
                let residence = row["address"] == "U" ? "urban" : "rural"
                let values = [row["G3"]!, row["G1"]!, row["studytime"]!, row["absences"]!]  // safe: UCI columns
                csv += "\(school)-\(i),\(subject),\(values[0]),\(row["sex"]!),\(residence),"
                    + "\(values[1]),\(values[2]),\(values[3])\n"
                reference += "\(values.joined(separator: ",")),\(row["sex"]!),\(residence),\(school)\n"
            }
            let batch = fixture.path("\(school).batch")
            let made = try fixture.encrypt(
                school: school, keys: keys, csv: try fixture.write("\(school).csv", csv),
                output: batch)
            #expect(made.status == 0, "\(made.stderr)")
            batches.append(batch)
        }
        #expect(try fixture.ingest(batches).status == 0)
        let extra = ["--contrast", "sex"] + (random ? ["--random", "school"] : [])
        _ = try check(
            fixture, model: model, arguments: extra, referenceCSV: reference, referenceArguments: extra,
            name: "uci-\(subject)")
    }

    @Test("45 generated schools: a random intercept per school (REML), with school and record terms")
    func generatedSchools() throws {
        let schema = """
            scale: 1
            attributes:
              - name: sex
                allowed_values: [F, M]
              - name: program
            covariates:
              - {name: prior_score, min: 0, max: 20}
              - {name: studytime, min: 0, max: 4}
              - {name: absences, min: 0, max: 100}

            """
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let schemaFile = directory.appendingPathComponent("schema.yaml")
        try Data(schema.utf8).write(to: schemaFile)
        let fixture = try VaultFixture(extra: ["--schema", schemaFile.path])
        defer { fixture.remove() }
        let text = try String(contentsOf: Self.resources.appendingPathComponent("schools.csv"), encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        let rows = lines.map {
            Dictionary(uniqueKeysWithValues: zip(header, $0.split(separator: ",").map(String.init)))
        }
        // Scores are shifted by +5 (the vault's scores are ≥ 0); the reference sees the same shifted scores.
        func shifted(_ score: String) -> String {
            let tenths = Int((Double(score)! * 10).rounded()) + 50  // safe: the committed CSV has one decimal
            return String(format: "%d.%d", tenths / 10, tenths % 10)
        }
        var reference = "score,prior_score,studytime,absences,sex,program,province,school\n"
        var batches: [String] = []
        var schools: [String] = []
        for row in rows where !schools.contains(row["school"]!) { schools.append(row["school"]!) }
        for school in schools {
            let mine = rows.filter { $0["school"] == school }
            // The data set's region (north, south, east) is a province here; `region` means rural/urban.
            let keys = try fixture.addSchool(
                school.uppercased(),
                [
                    "province=\(mine[0]["region"]!)",
                    "county=\(mine[0]["sector"]!)",
                ])
            var csv = "student_id,subject,score,sex,program,prior_score,studytime,absences\n"
            for (i, row) in mine.enumerated() {
                let score = shifted(row["score"]!)
                csv +=
                    "\(school)-\(i),math,\(score),\(row["sex"]!),\(row["program"]!),\(row["prior_score"]!),"
                    + "\(row["studytime"]!),\(row["absences"]!)\n"
                reference +=
                    "\(score),\(row["prior_score"]!),\(row["studytime"]!),\(row["absences"]!),\(row["sex"]!),"
                    + "\(row["program"]!),\(row["region"]!),\(school.uppercased())\n"
            }
            let batch = fixture.path("\(school).batch")
            let made = try fixture.encrypt(
                school: school.uppercased(), keys: keys,
                csv: try fixture.write("\(school).csv", csv), output: batch)
            #expect(made.status == 0, "\(made.stderr)")
            batches.append(batch)
        }
        #expect(schools.count >= 40)
        #expect(try fixture.ingest(batches).status == 0)
        let model = "score ~ prior_score + studytime + absences + sex + program + province"
        _ = try check(
            fixture, model: model, arguments: ["--random", "school", "--contrast", "sex"],
            referenceCSV: reference, referenceArguments: ["--random", "school", "--contrast", "sex"],
            name: "schools-random")
        // The vault logged the release and its audit still verifies.
        let checked = try CLI.eduvault(["vault", "check", "--vault", fixture.vault])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
    }

    @Test("analyze refuses with one line naming the rule; help shows an example")
    func refusalsAndHelp() throws {
        let fixture = try VaultFixture()
        defer { fixture.remove() }
        let keys = try fixture.addSchool("GP", ["region=urban"])
        var csv = "student_id,subject,score,sex\n"
        for i in 0..<30 { csv += "s\(i),math,\(50 + i),\(i < 26 ? "F" : "M")\n" }
        let batch = fixture.path("gp.batch")
        #expect(
            try fixture.encrypt(school: "GP", keys: keys, csv: try fixture.write("gp.csv", csv), output: batch)
                .status == 0)
        #expect(try fixture.ingest([batch]).status == 0)
        let out = fixture.path("m.json")
        let refused = try CLI.eduvault(["analyze", "--vault", fixture.vault, "--model", "score ~ sex", "--out", out])
        #expect(refused.status != 0)
        let errors = refused.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(
            errors.count == 1 && errors[0].contains("[rule MODEL-LEVEL-K]") && errors[0].contains("sex=M"),
            "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let response = try CLI.eduvault(["analyze", "--vault", fixture.vault, "--model", "grade ~ sex", "--out", out])
        #expect(response.status != 0 && response.stderr.contains("response must be score"), "\(response.stderr)")
        let help = try CLI.eduvault(["analyze", "--help"])
        #expect(help.stdout.contains("Example: eduvault analyze") && help.stdout.contains("MODEL-SATURATED"))
    }
}
