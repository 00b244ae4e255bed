import Foundation
import Testing

/// A scratch vault driven through the real binary with the 1024-bit test fixture key.
struct VaultFixture {
    let dir: URL
    let vault: String
    var descriptor: String { vault + "/descriptor.json" }
    static let publicKey = CLI.key("eduvault-1024", "public")
    static let testKey = ["--insecure-test-key"]

    /// Creates a temporary directory and a vault in `dir/vault` under `publicKey` (with `extra` init options, such
    /// as `--threshold FILE`).
    init(publicKey: String = VaultFixture.publicKey, extra: [String] = []) throws {
        dir = try CLI.temporaryDirectory()
        vault = dir.appendingPathComponent("vault").path
        let result = try CLI.eduvault(
            ["vault", "init", "--vault", vault, "--public-key", publicKey] + extra + Self.testKey)
        #expect(result.status == 0, "vault init: \(result.stderr)")
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Makes a school's keys at the school (`school keygen`) and registers its public part; returns the keys file.
    @discardableResult
    func addSchool(_ id: String, _ attributes: [String] = [], vault: String? = nil) throws -> String {
        let keys = path("\(id)-\(UUID().uuidString.prefix(8)).keys.json")
        let made = try CLI.eduvault(["school", "keygen", "--school", id, "--descriptor", (vault ?? self.vault) + "/descriptor.json",
                                     "--out", keys])
        #expect(made.status == 0, "school keygen: \(made.stderr)")
        var arguments = ["school", "add", "--vault", vault ?? self.vault, "--id", id, "--public-key", keys + ".pub"]
        for attribute in attributes { arguments += ["--attr", attribute] }
        let result = try CLI.eduvault(arguments)
        #expect(result.status == 0, "school add: \(result.stderr)")
        return keys
    }

    /// Encrypts `csv` for `school`; returns the result and the batch path.
    func encrypt(school: String, keys: String, csv: String, output: String, descriptor: String? = nil) throws
        -> CLI.Result
    {
        try CLI.eduvault(
            [
                "school", "encrypt", "--descriptor", descriptor ?? self.descriptor, "--school", school, "--keys", keys,
                "--input", csv, "--output", output,
            ] + Self.testKey)
    }

    func ingest(_ batches: [String]) throws -> CLI.Result {
        try CLI.eduvault(["vault", "ingest", "--vault", vault] + batches)
    }

    /// Registers the schools of `data` (a `sample-data` directory) with their registry attributes, encrypts each
    /// school's CSV at the school and ingests the batches.
    func ingestSample(_ data: String) throws {
        let registry = try String(contentsOfFile: data + "/schools.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        var batches: [String] = []
        for line in registry {
            let fields = line.split(separator: ",").map(String.init)
            let keys = try addSchool(fields[0], ["region=\(fields[1])", "province=\(fields[2])", "county=\(fields[3])",
                                                "program=\(fields[4])"])
            let batch = path("\(fields[0]).batch")
            let encrypted = try encrypt(school: fields[0], keys: keys, csv: "\(data)/\(fields[0]).csv", output: batch)
            #expect(encrypted.status == 0, "\(encrypted.stderr)")
            batches.append(batch)
        }
        let ingested = try ingest(batches)
        #expect(ingested.status == 0, "\(ingested.stderr)")
    }

    /// `vault status --json`, parsed.
    func status(vault: String? = nil) throws -> VaultStatusJSON {
        let result = try CLI.eduvault(["vault", "status", "--vault", vault ?? self.vault, "--json"])
        #expect(result.status == 0, "status: \(result.stderr)")
        return try JSONDecoder().decode(VaultStatusJSON.self, from: Data(result.stdout.utf8))
    }

    /// Writes a text file in the fixture directory and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: dir.appendingPathComponent(name))
        return path(name)
    }
}

/// The parts of `vault status --json` the tests read.
struct VaultStatusJSON: Decodable {
    struct School: Decodable {
        var id: String
        var attributes: [String: String]
        var records: Int
    }
    struct Count: Decodable {
        var school: String
        var subject: String
        var records: Int
    }
    struct Audit: Decodable {
        var entries: Int
        var by_kind: [String: Int]
    }
    struct Key: Decodable {
        var id: String
        var bits: Int
    }
    struct Policy: Decodable {
        var id: String
        var version: Int
        var sha256: String
    }
    var vault_id: String
    var key: Key
    var policy: Policy
    var schools: [School]
    var records: [Count]
    var total_records: Int
    var batches: Int
    var audit: Audit
    var file_bytes: Int

    func count(_ school: String, _ subject: String) -> Int {
        records.first { $0.school == school && $0.subject == subject }?.records ?? 0
    }
    var refused: Int { audit.by_kind["batch.refused"] ?? 0 }
}

/// Converts the UCI student-performance files (semicolon CSV, no student id) into EduVault score CSVs.
enum UCI {
    static let directory = CLI.root.appendingPathComponent("Tests/Fixtures/uci-student-performance")

    /// The data rows of a UCI file as column → value (quotes stripped), in file order.
    static func rows(_ file: String) throws -> [[String: String]] {
        let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ";").map { $0.replacingOccurrences(of: "\"", with: "") }
        return lines.filter { !$0.isEmpty }.map { line in
            let fields = line.split(separator: ";", omittingEmptySubsequences: false)
                .map { $0.replacingOccurrences(of: "\"", with: "") }
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }

    /// One school's rows of one file as an EduVault score CSV: id `SCHOOL-TAG-ROW` (row number within the file),
    /// score G3, sex, residence from address (U/R), term 2005. Returns the CSV text and its row count.
    static func scoreCSV(file: String, tag: String, subject: String, school: String) throws -> (String, Int) {
        var out = "student_id,subject,score,sex,residence,term\n"
        var count = 0
        for (offset, row) in try rows(file).enumerated() where row["school"] == school {
            let residence = row["address"] == "U" ? "urban" : "rural"
            out +=
                "\(school)-\(tag)-\(offset + 1),\(subject),\(row["G3"] ?? ""),\(row["sex"] ?? ""),\(residence),2005\n"
            count += 1
        }
        return (out, count)
    }
}
