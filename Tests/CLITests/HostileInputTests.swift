import Foundation
import Testing

/// Inputs a hostile user would try (issue 14): each must end in one `Error:` line and a non-zero exit, never a
/// signal or a stack trace.
@Suite("Hostile inputs end in one clear error line")
struct HostileInputTests {
    let pub = CLI.key("eduvault-1024", "public")
    let priv = CLI.key("eduvault-1024", "private")
    let k = ["--insecure-test-key"]

    /// A valid ciphertext file of the fixture key with its exponent replaced by `exponent` (JSON text).
    func ciphertext(exponent: String, in dir: URL, name: String) throws -> String {
        let made = try CLI.eduvault(["encrypt", "--public-key", pub] + k + ["7"])
        #expect(made.status == 0, "\(made.stderr)")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])
        object["e"] = 0
        var text = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"e\":0", with: "\"e\":\(exponent)")
        #expect(text.contains("\"e\":\(exponent)"))
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test("decrypt, add and multiply refuse an exponent of Int.min (was SIGILL: abs(Int.min) traps)",
          arguments: ["-9223372036854775808", "9223372036854775807", "-9223372036854775809", "100001", "-100001",
                      "1e300", "true", "\"0\"", "null"])
    func extremeExponents(exponent: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try ciphertext(exponent: exponent, in: dir, name: "c.json")
        let good = try ciphertext(exponent: "0", in: dir, name: "good.json")
        let runs: [[String]] = [
            ["decrypt", "--private-key", priv] + k + [file],
            ["add", "--public-key", pub] + k + [file, good],
            ["add", "--public-key", pub] + k + [good, file],
            ["multiply", "--public-key", pub] + k + [file, "3"],
            ["multiply", "--public-key", pub] + k + [file, "-2.5"],
        ]
        for arguments in runs {
            let result = try CLI.eduvault(arguments)
            if exponent == "true" && result.status == 0 { continue }  // JSON true reads as 1 on some Foundations
            expectCleanFailure(result, mentioning: "\"e\"")
        }
    }

    @Test("Exponents at the edge of the accepted range decrypt exactly, and extreme alignments end cleanly")
    func edgeExponents() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let low = try ciphertext(exponent: "-100000", in: dir, name: "low.json")
        let high = try ciphertext(exponent: "100000", in: dir, name: "high.json")
        // 7 · 16^-100000 = 7 · 625^100000 / 10^400000: 400000 decimals, the last one 5.
        let exact = try CLI.eduvault(["decrypt", "--private-key", priv] + k + ["--exact", low])
        #expect(exact.status == 0, "\(exact.stderr)")
        let text = exact.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text.hasPrefix("0.") && text.count == 400_002 && text.hasSuffix("5"))
        // Aligning 200000 hex digits apart overflows any key: whatever the commands do, they end cleanly.
        for arguments in [["add", "--public-key", pub] + k + [low, high], ["multiply", "--public-key", pub] + k + [low, "0.5"]] {
            let result = try CLI.eduvault(arguments)
            if result.status != 0 { expectCleanFailure(result) }
        }
    }

    @Test("Deeply nested or oversized JSON and YAML end in one Error: line")
    func nesting() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String, _ text: String) throws -> String {
            let url = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        let deep = String(repeating: "[", count: 200_000)
        let deepObject = String(repeating: "{\"a\":", count: 100_000)
        for text in [deep, deepObject] {
            expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", priv] + k + [try file("c.json", text)]))
            expectCleanFailure(try CLI.eduvault(["keys", "show", try file("k.json", text)]))
            expectCleanFailure(try CLI.eduvault(["release", "decrypt", "--private-key", priv] + k + [try file("r.json", text)]))
        }
        // Files over their size limits are refused before they are parsed.
        let bigKey = try file("big.json", "{\"n\": \"" + String(repeating: "A", count: 1 << 20) + "\"}")
        expectCleanFailure(try CLI.eduvault(["keys", "show", bigKey]), mentioning: "too large")
        let policy = try file("deep.yaml", "id: x\nversion: 1\nrules: " + String(repeating: "[", count: 5000) + "\n")
        expectCleanFailure(try CLI.eduvault(["vault", "init", "--vault", dir.appendingPathComponent("v").path,
                                             "--public-key", pub, "--policy", policy] + k))
    }

    @Test("Policy integers in YAML 1.1 sexagesimal form (1:2:3…) end in one Error: line (was a trap in Yams's Int parser)",
          arguments: ["min_cell_size: 10", "version: 4", "threshold: k", "min_key_bits: 2048", "retention_days: 1825"])
    func sexagesimalPolicy(field: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try String(contentsOf: CLI.root.appendingPathComponent("Policies/default.yaml"), encoding: .utf8)
        let name = field.split(separator: ":")[0]
        #expect(text.contains(field), "the default policy no longer has '\(field)'")
        for value in ["1:2:3:4:5:6:7:8:9:10:11:12", "9223372036854775807:0", "-1:59:59:59:59:59:59:59:59:59:59:59"] {
            let policy = dir.appendingPathComponent("policy.yaml")
            try Data(text.replacingOccurrences(of: field, with: "\(name): \(value)").utf8).write(to: policy)
            let result = try CLI.eduvault(["vault", "init", "--vault", dir.appendingPathComponent("v").path,
                                           "--public-key", pub, "--policy", policy.path] + k)
            expectCleanFailure(result, mentioning: String(name))
        }
    }
}
