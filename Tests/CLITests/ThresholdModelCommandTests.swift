import Foundation
import Testing

/// Model releases under threshold custody through the real binary: the same schools' data in a vault under the
/// 2-of-3 fixture and in one under the single 1024-bit fixture key; `analyze` on both; `release share` ×3 and
/// `release decrypt --threshold` with every pair print byte for byte what `release decrypt --private-key` prints for
/// the single-key vault's release (JSON, CSV, and the table up to its footer, which names the release), and the
/// plaintext's own correlation; forged and missing partials are refused by name.
@Suite("Threshold custody: model releases through the commands", .serialized)
struct ThresholdModelCommandTests {
    static let k = ThresholdCommandTests.k
    static func file(_ name: String) -> String { ThresholdCommandTests.file(name) }

    /// The output without its last non-empty line (the footer naming the release, its log index and time).
    static func body(_ table: String) -> String {
        var lines = table.split(separator: "\n", omittingEmptySubsequences: false)
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.dropLast().joined(separator: "\n")
    }

    /// Pearson's r of score and prior_score over the math rows of the plaintext CSVs.
    static func plaintextCorrelation(_ data: String) throws -> (n: Int, r: Double) {
        var pairs: [(Double, Double)] = []
        let registry = try String(contentsOfFile: data + "/schools.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        for line in registry {
            let id = String(line.split(separator: ",")[0])
            let rows = try String(contentsOfFile: "\(data)/\(id).csv", encoding: .utf8).split(separator: "\n")
            let header = rows[0].split(separator: ",").map(String.init)
            let (subject, score, prior) = (header.firstIndex(of: "subject") ?? 1, header.firstIndex(of: "score") ?? 2,
                                           header.firstIndex(of: "prior_score") ?? 7)
            for row in rows.dropFirst() {
                let fields = row.split(separator: ",").map(String.init)
                if fields[subject] == "math", let y = Double(fields[score]), let x = Double(fields[prior]) {
                    pairs.append((y, x))
                }
            }
        }
        let n = Double(pairs.count)
        let my = pairs.map(\.0).reduce(0, +) / n, mx = pairs.map(\.1).reduce(0, +) / n
        let sxy = pairs.reduce(0) { $0 + ($1.0 - my) * ($1.1 - mx) }
        let syy = pairs.reduce(0) { $0 + ($1.0 - my) * ($1.0 - my) }
        let sxx = pairs.reduce(0) { $0 + ($1.1 - mx) * ($1.1 - mx) }
        return (pairs.count, sxy / (syy * sxx).squareRoot())
    }

    @Test("analyze on a threshold vault → release share ×3 → release decrypt --threshold: every pair prints what --private-key prints; forged and t−1 refused by name")
    func sameAsPrivateKey() throws {
        let threshold = try VaultFixture(publicKey: Self.file("public.json"),
                                         extra: ["--threshold", Self.file("threshold.json"),
                                                 "--covariate", "prior_score:0:100"])
        defer { threshold.remove() }
        let single = try VaultFixture(extra: ["--covariate", "prior_score:0:100"])
        defer { single.remove() }
        let data = threshold.path("sample")
        let generated = try CLI.eduvault(["sample-data", "--schools", "4", "--students", "30", "--covariates",
                                          "--out", data])
        #expect(generated.status == 0, "\(generated.stderr)")
        try threshold.ingestSample(data)
        try single.ingestSample(data)

        let models: [(name: String, arguments: [String])] = [
            ("ols", ["--model", "score ~ program + region + prior_score", "--where", "subject=math",
                     "--contrast", "program"]),
            ("reml", ["--model", "score ~ prior_score + sex + subject", "--random", "school"]),
        ]
        let privateKey = ["release", "decrypt", "--private-key", CLI.key("eduvault-1024", "private")] + Self.k
        let quorum = ["release", "decrypt", "--threshold", Self.file("threshold.json")] + Self.k
        for model in models {
            let release = threshold.path("\(model.name).json"), reference = single.path("\(model.name).json")
            for (f, out) in [(threshold, release), (single, reference)] {
                let analyzed = try CLI.eduvault(["analyze", "--vault", f.vault, "--out", out] + model.arguments)
                #expect(analyzed.status == 0, "\(analyzed.stderr)")
            }
            var partials: [String] = []
            for party in ["bureau", "auditor", "custodian"] {
                let out = threshold.path("\(party)-\(model.name).partial.json")
                let shared = try CLI.eduvault(["release", "share", "--share", Self.file("share-\(party).json"), release,
                                               "--out", out, "--log-key", threshold.descriptor] + Self.k)
                #expect(shared.status == 0, "\(shared.stderr)")
                #expect(shared.stderr.contains(" sums in "), "\(shared.stderr)")
                partials.append(out)
            }
            let partialText = try String(contentsOfFile: partials[0], encoding: .utf8)
            #expect(partialText.contains("\"eduvault-partial-model/1\""))
            for format in ["json", "csv", "table"] {
                let expected = try CLI.eduvault(privateKey + ["--format", format, reference])
                #expect(expected.status == 0, "\(expected.stderr)")
                #expect(expected.stdout.contains("Intercept"))
                for pair in [[0, 1], [0, 2], [1, 2], [2, 0]] {
                    let result = try CLI.eduvault(quorum + ["--format", format, release] + pair.map { partials[$0] })
                    #expect(result.status == 0, "\(result.stderr)")
                    #expect(result.stderr.contains("decrypting with"))
                    if format == "table" {
                        #expect(Self.body(result.stdout) == Self.body(expected.stdout), "\(model.name) \(pair)")
                        #expect(result.stdout.contains("model: ") && result.stdout.contains("\nrelease "))
                    } else {
                        #expect(result.stdout == expected.stdout, "\(model.name) \(format) \(pair)")
                    }
                }
            }
            if model.name == "ols" {
                // Against the plaintext itself: n and Pearson's r of score and prior_score.
                let json = try CLI.eduvault(quorum + ["--format", "json", release, partials[1], partials[2]])
                let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any] ?? [:]
                let correlation = (object["correlations"] as? [[String: Any]])?.first
                let plain = try Self.plaintextCorrelation(data)
                #expect((object["model"] as? [String: Any])?["n"] as? Int == plain.n)
                #expect(abs((correlation?["r"] as? Double ?? 0) - plain.r) < 1e-9, "\(correlation ?? [:]) vs \(plain)")
            }

            // A forged partial (one unit's value changed): named on stderr, never used; the honest pair decrypts.
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: partials[2])))
                as? [String: Any] ?? [:]
            var units = object["units"] as? [[String: Any]] ?? []
            let value = units[units.count - 1]["value"] as? String ?? "1"
            units[units.count - 1]["value"] = String(value.dropLast()) + (value.hasSuffix("1") ? "3" : "1")
            object["units"] = units
            let forged = try threshold.write("forged-\(model.name).json", String(
                decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
            let withForged = try CLI.eduvault(quorum + ["--format", "json", release, forged, partials[0], partials[1]])
            #expect(withForged.status == 0, "\(withForged.stderr)")
            #expect(withForged.stderr.contains("refused: the partial of custodian"), "\(withForged.stderr)")
            let expected = try CLI.eduvault(privateKey + ["--format", "json", reference])
            #expect(withForged.stdout == expected.stdout)
            let noQuorum = try CLI.eduvault(quorum + [release, forged, partials[1]])
            expectCleanFailure(noQuorum, mentioning: "missing: bureau, custodian")
            #expect(noQuorum.stderr.contains("refused: the partial of custodian"))
            // t − 1 honest partials.
            let alone = try CLI.eduvault(quorum + [release, partials[0]])
            expectCleanFailure(alone, mentioning: "only 1 valid partial decryption of the 2 needed (valid: bureau); "
                               + "missing: auditor, custodian")
        }

        // A query release's partial offered for a model release is refused as such.
        let query = threshold.path("query.json")
        #expect(try CLI.eduvault(["query", "--vault", threshold.vault, "--by", "subject", "--out", query]).status == 0)
        let queryPartial = try ThresholdCommandTests.share(threshold, "auditor", query)
        let mixed = try CLI.eduvault(quorum + [threshold.path("ols.json"), threshold.path("bureau-ols.partial.json"),
                                               queryPartial])
        expectCleanFailure(mixed, mentioning: "missing: auditor, custodian")
        #expect(mixed.stderr.contains("a partial decryption of a query release, not of this model release"))
        // --baseline stays a query option.
        expectCleanFailure(try CLI.eduvault(quorum + ["--baseline", "x", threshold.path("ols.json")]),
                           mentioning: "--baseline")
        let checked = try CLI.eduvault(["vault", "check", "--vault", threshold.vault])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
    }
}
