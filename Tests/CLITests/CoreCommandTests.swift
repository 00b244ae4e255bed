import BigNum
import Foundation
import Paillier
import Testing

@Suite("Core commands: help, errors")
struct CoreCommandTests {
    let pub = CLI.key("eduvault-1024", "public")
    let priv = CLI.key("eduvault-1024", "private")

    @Test("Help text lists the commands and explains the options")
    func help() throws {
        let root = try CLI.eduvault(["--help"])
        #expect(root.status == 0)
        for command in ["keys", "encrypt", "decrypt", "add", "multiply", "bench"] {
            #expect(root.stdout.contains(command), "\(command)")
        }
        let keys = try CLI.eduvault(["keys", "generate", "--help"])
        #expect(keys.stdout.contains("--bits") && keys.stdout.contains("3072") && keys.stdout.contains("0600"))
    }

    @Test("Small keys are refused without --insecure-test-key")
    func smallKeys() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        expectCleanFailure(try CLI.eduvault(["keys", "generate", "--bits", "1024", "--out", dir.path]), mentioning: "2048")
        expectCleanFailure(try CLI.eduvault(["encrypt", "--public-key", pub, "5"]), mentioning: "2048")
    }

    @Test("Every bad input gets one clear line and a non-zero exit")
    func badInputs() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String, _ text: String) throws -> String {
            let url = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        let k = ["--insecure-test-key"]
        expectCleanFailure(try CLI.eduvault(["encrypt", "--public-key", try file("bad.json", "{not json")] + k + ["5"]),
                           mentioning: "not valid JSON")
        expectCleanFailure(try CLI.eduvault(["encrypt", "--public-key", dir.appendingPathComponent("missing").path] + k + ["5"]),
                           mentioning: "not found")
        expectCleanFailure(try CLI.eduvault(["encrypt", "--public-key", pub] + k + ["five"]), mentioning: "not a number")
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", pub] + k + [try file("c.json", "{}")]),
                           mentioning: "public key")
        let huge = String(repeating: "9", count: 700)
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", priv] + k + [try file("big.json", "{\"v\":\"\(huge)\",\"e\":0}")]),
                           mentioning: "n²")
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", priv] + k + [try file("zero.json", "{\"v\":\"0\",\"e\":0}")]),
                           mentioning: "zero")
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", priv] + k + [try file("neg.json", "{\"v\":\"-5\",\"e\":0}")]))
        let other = try CLI.eduvault(["encrypt", "--public-key", CLI.key("pheutil-1024", "public")] + k + ["5"])
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", priv] + k + [try file("other.json", other.stdout)]),
                           mentioning: "another key")
        // 10^400 is beyond max_int ≈ n/3 of a 1024-bit key.
        expectCleanFailure(try CLI.eduvault(["encrypt", "--public-key", pub] + k + ["1" + String(repeating: "0", count: 400)]),
                           mentioning: "too large")
        expectCleanFailure(try CLI.eduvault(["add", "--public-key", pub] + k + ["-", "-"]), mentioning: "standard input")
    }

    @Test("Overflow into the guard band is reported as overflow, not returned as a wrong number")
    func overflow() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // max_int − 1 twice is 2·max_int − 2 ≈ 2n/3: inside the guard band (max_int, n − max_int).
        let key = try PaillierJSON.decodePublicKey(Data(contentsOf: URL(fileURLWithPath: pub)), allowInsecureSize: true)
        let value = (key.maxInt - BigNum(1)).decimalString
        let big = try CLI.eduvault(["encrypt", "--public-key", pub, "--insecure-test-key", value])
        #expect(big.status == 0, "\(big.stderr)")
        let a = dir.appendingPathComponent("a.json")
        try Data(big.stdout.utf8).write(to: a)
        let sum = try CLI.eduvault(["add", "--public-key", pub, "--insecure-test-key", a.path, a.path])
        let s = dir.appendingPathComponent("s.json")
        try Data(sum.stdout.utf8).write(to: s)
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", priv, "--insecure-test-key", s.path]),
                           mentioning: "overflow")
    }
}

@Suite("Passphrase-protected private keys through the CLI")
struct PassphraseCommandTests {
    @Test("keys generate --passphrase-file seals the factors; decrypt needs the passphrase (file or environment)")
    func sealedKeys() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pass = dir.appendingPathComponent("pass.txt")
        try Data("correct horse battery staple\n".utf8).write(to: pass)
        let keys = dir.appendingPathComponent("keys").path
        let gen = try CLI.eduvault(["keys", "generate", "--bits", "512", "--insecure-test-key", "--out", keys,
                                    "--passphrase-file", pass.path])
        #expect(gen.status == 0, "\(gen.stderr)")
        #expect(gen.stdout.contains("passphrase-protected"))
        let privateFile = keys + "/private.json"
        let text = try String(contentsOfFile: privateFile, encoding: .utf8)
        #expect(text.contains("eduvault_sealed") && !text.contains("\"q\""))
        let c = try CLI.eduvault(["encrypt", "--public-key", keys + "/public.json", "--insecure-test-key", "31"])
        let cfile = dir.appendingPathComponent("c.json")
        try Data(c.stdout.utf8).write(to: cfile)
        let withFile = try CLI.eduvault(["decrypt", "--private-key", privateFile, "--insecure-test-key",
                                         "--passphrase-file", pass.path, cfile.path])
        #expect(withFile.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "31", "\(withFile.stderr)")
        let withEnv = try CLI.eduvault(["decrypt", "--private-key", privateFile, "--insecure-test-key", cfile.path],
                                       environment: ["EDUVAULT_PASSPHRASE": "correct horse battery staple"])
        #expect(withEnv.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "31", "\(withEnv.stderr)")
        // The same passphrase saved with Windows line ends ("\r\n" is one Swift Character) still opens the key.
        let crlf = dir.appendingPathComponent("pass-crlf.txt")
        try Data("correct horse battery staple\r\n".utf8).write(to: crlf)
        let withCRLF = try CLI.eduvault(["decrypt", "--private-key", privateFile, "--insecure-test-key",
                                         "--passphrase-file", crlf.path, cfile.path])
        #expect(withCRLF.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "31", "\(withCRLF.stderr)")
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", privateFile, "--insecure-test-key", cfile.path],
                                            environment: ["EDUVAULT_PASSPHRASE": "wrong"]), mentioning: "passphrase")
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", privateFile, "--insecure-test-key", cfile.path],
                                            environment: ["EDUVAULT_PASSPHRASE": ""]), mentioning: "passphrase")
        // The secret never appears in output or errors.
        #expect(!withFile.stderr.contains("horse") && !withEnv.stderr.contains("horse"))
    }
}
