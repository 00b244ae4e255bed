import Foundation
import Testing

/// Issue 14: an OpenSSL failure reaches the user as one `Error:` line (input-dependent calls), or — for the calls
/// that fail only when memory runs out — stops the process naming the call, never printing a made-up value.
/// Faults are injected into the debug build through `EDUVAULT_TEST_FAULT=openssl:NAME`.
@Suite("OpenSSL failures reach the user")
struct CFailureTests {
    let pub = CLI.key("eduvault-1024", "public")
    let priv = CLI.key("eduvault-1024", "private")
    let k = ["--insecure-test-key"]

    func fault(_ name: String) -> [String: String] { ["EDUVAULT_TEST_FAULT": "openssl:\(name)"] }

    @Test("Input-dependent failures end in one Error: line")
    func typedFailures() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try CLI.eduvault(["encrypt", "--public-key", pub] + k + ["6"])
        #expect(made.status == 0)
        let c = dir.appendingPathComponent("c.json")
        try Data(made.stdout.utf8).write(to: c)
        expectCleanFailure(try CLI.eduvault(["multiply", "--public-key", pub] + k + [c.path, "7"],
                                            environment: fault("BN_mod_exp_mont")), mentioning: "multiplication failed")
        expectCleanFailure(try CLI.eduvault(["encrypt", "--public-key", pub] + k + ["6"],
                                            environment: fault("BN_priv_rand_ex")), mentioning: "random")
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", priv] + k + [c.path],
                                            environment: fault("BN_mod_exp_mont_consttime")), mentioning: "exponentiation failed")
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", priv] + k + [c.path],
                                            environment: fault("BN_check_prime")), mentioning: "could not test")
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", priv] + k + [c.path],
                                            environment: fault("BN_mod_inverse")))
        // A passphrase-protected key whose scrypt call fails.
        let pass = dir.appendingPathComponent("pass")
        try Data("correct horse\n".utf8).write(to: pass)
        let keys = dir.appendingPathComponent("keys")
        #expect(try CLI.eduvault(["keys", "generate", "--bits", "512", "--insecure-test-key", "--out", keys.path,
                                  "--passphrase-file", pass.path]).status == 0)
        let sealedKey = keys.appendingPathComponent("private.json").path
        let c2 = try CLI.eduvault(["encrypt", "--public-key", keys.appendingPathComponent("public.json").path] + k + ["5"])
        let c2file = dir.appendingPathComponent("c2.json")
        try Data(c2.stdout.utf8).write(to: c2file)
        expectCleanFailure(try CLI.eduvault(["decrypt", "--private-key", sealedKey, "--passphrase-file", pass.path] + k
                                            + [c2file.path], environment: fault("EVP_PBE_scrypt")), mentioning: "scrypt")
        let opened = try CLI.eduvault(["decrypt", "--private-key", sealedKey, "--passphrase-file", pass.path] + k + [c2file.path])
        #expect(opened.status == 0 && opened.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "5", "\(opened.stderr)")
    }

    @Test("School pseudonyms, signatures and batch verification: failures end in one Error: line")
    func vaultFailures() throws {
        let fixture = try VaultFixture()
        defer { fixture.remove() }
        let keys = try fixture.addSchool("GP", ["region=urban"])
        let csv = try fixture.write("gp.csv", "student_id,subject,score\ns1,math,50\ns2,math,60.5\n")
        let batch = fixture.path("gp.batch")
        for name in ["HMAC", "EVP_DigestSign"] {
            let result = try CLI.eduvault(["school", "encrypt", "--descriptor", fixture.descriptor, "--school", "GP",
                                           "--keys", keys, "--input", csv, "--output", batch] + k,
                                          environment: fault(name))
            expectCleanFailure(result)
            #expect(!FileManager.default.fileExists(atPath: batch), "\(name): a batch was written")
        }
        #expect(try fixture.encrypt(school: "GP", keys: keys, csv: csv, output: batch).status == 0)
        let refused = try CLI.eduvault(["vault", "ingest", "--vault", fixture.vault, batch], environment: fault("EVP_DigestVerify"))
        expectCleanFailure(refused, mentioning: "could not be checked")
        #expect(try fixture.status().total_records == 0)
        #expect(try fixture.ingest([batch]).status == 0)
        #expect(try fixture.status().total_records == 2)
    }

    @Test("Allocation-only failures stop the process with the call's name and print no value",
          arguments: [("BN_bn2dec", ["encrypt"]), ("BN_mul", ["encrypt"]), ("BN_add", ["encrypt"]),
                      ("BN_new", ["encrypt"]), ("BN_CTX_new", ["encrypt"]),
                      ("EVP_DigestUpdate", ["keys-show"]), ("EVP_DigestFinal_ex", ["keys-show"])])
    func allocationFailures(name: String, command: [String]) throws {
        let arguments = command == ["keys-show"]
            ? ["keys", "show", "--insecure-test-key", pub]
            : ["encrypt", "--public-key", pub] + k + ["6"]
        let result = try CLI.eduvault(arguments, environment: fault(name).merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 })
        #expect(result.status != 0)
        #expect(result.stderr.contains("OpenSSL failed in \(name)"), "\(result.stderr.prefix(600))")
        #expect(result.stdout.isEmpty || !result.stdout.contains("\"v\""), "a value was printed: \(result.stdout.prefix(200))")
        #expect(!result.stdout.contains("?"))
    }
}
