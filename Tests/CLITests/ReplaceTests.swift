import Foundation
#if canImport(Glibc)
import Glibc
#endif
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

    /// Every file in `dir`, by name: the state a failed command must leave exactly as it found it.
    func snapshot(_ dir: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            files[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return files
    }

    @Test("A failed write or rename during keys generate --force leaves the old key pair intact, both files",
          arguments: ["atomic-write", "atomic-rename", "atomic-rename-second"])
    func keysForceFailure(fault: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try keyPair(dir).status == 0)
        let before = try snapshot(dir)
        #expect(before.keys.sorted() == ["private.json", "public.json"])
        let failed = try keyPair(dir, extra: ["--force"], environment: ["EDUVAULT_TEST_FAULT": fault])
        #expect(failed.status != 0, "\(fault): the injected fault did not fail the command")
        #expect(failed.stderr.contains("unchanged"), "\(fault): \(failed.stderr)")
        // Same names (no .tmp or .old left behind), same bytes: the old pair, still a pair.
        #expect(try snapshot(dir) == before, "\(fault): the key pair changed")
    }

    @Test("keys ceremony --force that fails after replacing public.json puts it back: the old public key, threshold key and shares stay together")
    func ceremonyForceFailure() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ceremony = ["keys", "ceremony", "--parties", "a,b,c", "--threshold", "2", "--bits", "512", "--insecure-test-key",
                        "--out", dir.path]
        #expect(try CLI.eduvault(ceremony).status == 0)
        let before = try snapshot(dir)
        #expect(before.count == 5, "\(before.keys.sorted())")
        let failed = try CLI.eduvault(ceremony + ["--force"], environment: ["EDUVAULT_TEST_FAULT": "atomic-rename-second"])
        #expect(failed.status != 0 && failed.stderr.contains("unchanged"), "\(failed.stderr)")
        #expect(try snapshot(dir) == before, "the ceremony's files changed")
        #expect(try CLI.eduvault(ceremony + ["--force"]).status == 0)
        let after = try snapshot(dir)
        #expect(after.keys.sorted() == before.keys.sorted() && after.allSatisfy { before[$0.key] != $0.value })
    }

    @Test("--force never replaces a symbolic link, a named pipe or a device with a plain file",
          arguments: ["symlink", "fifo", "device"])
    func forceRefusesSpecialFiles(kind: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try keyPair(dir).status == 0)
        let target = dir.appendingPathComponent("public.json")
        let elsewhere = dir.appendingPathComponent("elsewhere.json")
        try FileManager.default.moveItem(at: target, to: elsewhere)
        switch kind {
        case "symlink": try FileManager.default.createSymbolicLink(at: target, withDestinationURL: elsewhere)
        case "fifo": #expect(mkfifo(target.path, 0o644) == 0)
        default: try FileManager.default.createSymbolicLink(at: target, withDestinationURL: URL(fileURLWithPath: "/dev/null"))
        }
        var info = stat()
        let before = try Data(contentsOf: dir.appendingPathComponent("private.json"))
        let refused = try keyPair(dir, extra: ["--force"])
        #expect(refused.status != 0, "\(kind): replaced")
        #expect(refused.stderr.contains("not a regular file"), "\(kind): \(refused.stderr)")
        #expect(try Data(contentsOf: dir.appendingPathComponent("private.json")) == before, "\(kind): the private key changed")
        #expect(lstat(target.path, &info) == 0)
        #expect((info.st_mode & S_IFMT) == (kind == "fifo" ? S_IFIFO : S_IFLNK), "\(kind): replaced by another kind of file")
    }
}
