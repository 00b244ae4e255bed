import Foundation
import Testing

/// `--force` replaces a file atomically: the new file appears whole, or the old one stays exactly as it was.
@Suite("Atomic file replacement")
struct ReplaceTests {
    func keyPair(_ dir: URL, extra: [String] = [], environment: [String: String] = [:]) throws -> CLI.Result {
        try CLI.eduvault(["keys", "generate", "--bits", "512", "--insecure-test-key", "--out", dir.path] + extra,
                         environment: environment)
    }

    @Test("keys generate --force replaces an existing key pair")
    func keysForce() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try keyPair(dir).status == 0)
        let old = try Data(contentsOf: dir.appendingPathComponent("private.json"))
        let refused = try keyPair(dir)
        #expect(refused.status != 0 && refused.stderr.contains("already exists"))
        let replaced = try keyPair(dir, extra: ["--force"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        let new = try Data(contentsOf: dir.appendingPathComponent("private.json"))
        #expect(new != old)
        let mode = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("private.json").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test("A failed write or rename during keys generate --force leaves the old private key intact")
    func keysForceFailure() throws {
        for fault in ["atomic-write", "atomic-rename"] {
            let dir = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            #expect(try keyPair(dir).status == 0)
            let before = try Data(contentsOf: dir.appendingPathComponent("private.json"))
            let failed = try keyPair(dir, extra: ["--force"], environment: ["EDUVAULT_TEST_FAULT": fault])
            #expect(failed.status != 0, "\(fault): the injected fault did not fail the command")
            #expect(failed.stderr.contains("unchanged"), "\(fault): \(failed.stderr)")
            #expect(try Data(contentsOf: dir.appendingPathComponent("private.json")) == before, "\(fault)")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
            #expect(leftovers.isEmpty, "\(fault): \(leftovers)")
        }
    }
}
