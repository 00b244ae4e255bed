import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 14: a process killed between writing the new file and renaming it over the old one leaves the old file
/// exactly as it was. `EDUVAULT_TEST_FAULT=atomic-pause` stops the command (SIGSTOP) right after the new file is
/// written and synced and before the rename; the test then checks the staged file, kills the process with SIGKILL,
/// and checks the destination.
@Suite("Killed between write and rename")
struct KillDuringReplaceTests {
    /// The state letter of a process from /proc (`T` when stopped), or nil once it is gone.
    static func state(of pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].first { $0 != " " }
    }

    /// Starts `eduvault arguments` with the pause hook, waits until it stops before its rename, kills it, and
    /// returns the staged temporary files it left in `directory` (checked by `inspectStaged` while it was stopped).
    static func killBeforeRename(_ arguments: [String], directory: URL, destination: URL,
                                 inspectStaged: (URL) throws -> Void) throws -> [URL] {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["EDUVAULT_TEST_FAULT"] = "atomic-pause"
        environment["CI"] = "1"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let before = try Data(contentsOf: destination)
        try process.run()
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(120)
        while state(of: pid) != "T" && process.isRunning && Date() < deadline { usleep(10_000) }
        let stopped = state(of: pid) == "T"
        #expect(stopped, "the command never paused before its rename")
        func staged() -> [URL] {
            let prefix = "." + destination.lastPathComponent + "."
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".tmp") }.map { directory.appendingPathComponent($0) }
        }
        if stopped {
            // Stopped between the phases: the new file is complete beside the old one, which is untouched.
            let files = staged()
            #expect(files.count == 1, "\(files)")
            if let file = files.first { try inspectStaged(file) }
            #expect(try Data(contentsOf: destination) == before, "the destination changed before the rename")
        }
        kill(pid, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        #expect(try Data(contentsOf: destination) == before, "the old file did not survive the kill")
        return staged()
    }

    @Test("keys generate --force killed before its rename: the old private key is intact and still works")
    func keys() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let generate = ["keys", "generate", "--bits", "512", "--insecure-test-key", "--out", dir.path]
        #expect(try CLI.eduvault(generate).status == 0)
        let privateKey = dir.appendingPathComponent("private.json")
        let publicKey = dir.appendingPathComponent("public.json")
        let oldPublic = try Data(contentsOf: publicKey)
        let leftovers = try Self.killBeforeRename(generate + ["--force"], directory: dir, destination: privateKey) { staged in
            // Complete and private: a whole key file, mode 0600, not the old key.
            let attributes = try FileManager.default.attributesOfItem(atPath: staged.path)
            #expect(attributes[.posixPermissions] as? Int == 0o600)
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: staged)) as? [String: Any]
            #expect(object?["p"] is String && object?["q"] is String)
            #expect(try Data(contentsOf: staged) != Data(contentsOf: privateKey))
        }
        #expect(try Data(contentsOf: publicKey) == oldPublic, "the public key changed although the private one did not")
        // The old pair still works: encrypt with the old public key, decrypt with the old private key.
        let c = try CLI.eduvault(["encrypt", "--public-key", publicKey.path, "--insecure-test-key", "42"])
        let cfile = dir.appendingPathComponent("c.json")
        try Data(c.stdout.utf8).write(to: cfile)
        let m = try CLI.eduvault(["decrypt", "--private-key", privateKey.path, "--insecure-test-key", cfile.path])
        #expect(m.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "42", "\(m.stderr)")
        // What a kill leaves behind is the staged file only (mode 0600), under a name an operator recognises.
        #expect(leftovers.count == 1)
        for file in leftovers { try FileManager.default.removeItem(at: file) }
        #expect(try CLI.eduvault(generate + ["--force"]).status == 0)
    }

    @Test("school encrypt --force killed before its rename: the old batch is intact and still ingests")
    func batch() throws {
        let fixture = try VaultFixture()
        defer { fixture.remove() }
        let keys = try fixture.addSchool("GP", ["region=urban"])
        var csv = "student_id,subject,score\n"
        for i in 0..<300 { csv += "s\(i),math,\(i % 100).5\n" }
        let input = try fixture.write("gp.csv", csv)
        let batch = URL(fileURLWithPath: fixture.path("gp.batch"))
        #expect(try fixture.encrypt(school: "GP", keys: keys, csv: input, output: batch.path).status == 0)
        let arguments = ["school", "encrypt", "--descriptor", fixture.descriptor, "--school", "GP", "--keys", keys,
                         "--input", input, "--output", batch.path, "--insecure-test-key", "--force"]
        let leftovers = try Self.killBeforeRename(arguments, directory: fixture.dir, destination: batch) { staged in
            // The staged batch is complete: 300 records and the signed trailer as its last line.
            let lines = try String(contentsOf: staged, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 302)
            #expect(lines.last?.contains("\"sig\"") == true)
        }
        #expect(leftovers.count == 1)
        let ingest = try fixture.ingest([batch.path])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        #expect(try fixture.status().total_records == 300)
    }

    @Test("A failed write or rename during school encrypt --force or school add --force leaves the old file intact")
    func failedReplace() throws {
        let fixture = try VaultFixture()
        defer { fixture.remove() }
        let keys = try fixture.addSchool("GP", ["region=urban"])
        let input = try fixture.write("gp.csv", "student_id,subject,score\ns1,math,50\ns2,math,60\n")
        let batch = fixture.path("gp.batch")
        #expect(try fixture.encrypt(school: "GP", keys: keys, csv: input, output: batch).status == 0)
        let oldBatch = try Data(contentsOf: URL(fileURLWithPath: batch))
        let oldKeys = try Data(contentsOf: URL(fileURLWithPath: keys))
        for fault in ["atomic-write", "atomic-rename"] {
            let encrypt = try CLI.eduvault(["school", "encrypt", "--descriptor", fixture.descriptor, "--school", "GP",
                                            "--keys", keys, "--input", input, "--output", batch, "--insecure-test-key",
                                            "--force"], environment: ["EDUVAULT_TEST_FAULT": fault])
            expectCleanFailure(encrypt, mentioning: "batch")
            #expect(try Data(contentsOf: URL(fileURLWithPath: batch)) == oldBatch, "\(fault)")
            let add = try CLI.eduvault(["school", "add", "--vault", fixture.vault, "--id", "MS-\(fault)", "--keys-out", keys,
                                        "--force"], environment: ["EDUVAULT_TEST_FAULT": fault])
            expectCleanFailure(add)
            #expect(try Data(contentsOf: URL(fileURLWithPath: keys)) == oldKeys, "\(fault)")
            let names = try FileManager.default.contentsOfDirectory(atPath: fixture.dir.path)
            let leftovers = names.filter { $0.hasSuffix(".tmp") && !$0.contains(".keys.json.") }
            #expect(leftovers.isEmpty, "\(fault): \(leftovers)")
            // school add registered MS before the rename failed: its keys are kept beside the destination, and the
            // message says where (they are the only copy).
            if fault == "atomic-rename" {
                #expect(add.stderr.contains("move that file by hand"), "\(add.stderr)")
                let kept = names.filter { $0.hasPrefix(".") && $0.contains(".keys.json.") && $0.hasSuffix(".tmp") }
                #expect(kept.count == 1, "\(names)")
                let attributes = try FileManager.default.attributesOfItem(atPath: fixture.dir.appendingPathComponent(kept[0]).path)
                #expect(attributes[.posixPermissions] as? Int == 0o600)
            }
        }
    }
}
