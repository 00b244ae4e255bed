import Foundation
import Primitives
import Testing

@testable import VaultAudit

/// Cross-checks against python/c2sp_check.py, an independent implementation of the C2SP formats using Python's
/// `cryptography` package. Runs `.venv/bin/python` if it has `cryptography`, else `python3`.
@Suite("C2SP interoperability with an independent Python implementation")
struct PythonInteropTests {
    static let script = auditTestsDirectory.appendingPathComponent("python/c2sp_check.py").path

    static func python() throws -> String {
        let venv = repositoryRoot.appendingPathComponent(".venv/bin/python").path
        for candidate in [venv, "/usr/bin/python3", "/usr/local/bin/python3"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? run(candidate, ["-c", "import cryptography"]))?.status == 0 { return candidate }
        }
        Issue.record(
            "no Python with the `cryptography` package: run `.venv/bin/pip install cryptography` (or apt install python3-cryptography)"
        )
        throw CancellationError()
    }

    static func run(
        _ executable: String, _ arguments: [String]
    ) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self)
        )
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("Python parses and verifies a checkpoint note and a cosignature that Swift produced")
    func pythonVerifiesSwift() throws {
        let python = try Self.python()
        let log = NoteSigner(name: "eduvault.example/vault-1", privateKey: try testKey(30))
        let witness = NoteSigner(name: "auditor.example/w1", privateKey: try testKey(31))
        let checkpoint = try Checkpoint(origin: log.name, size: 123_456, rootHash: SHA256.hash(Array("tree".utf8)))
        var note = try checkpoint.signedNote(signers: [log])
        try note.add(try Cosignature.sign(checkpoint: checkpoint, timestamp: 1_700_000_000, witness: witness))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("audittests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("checkpoint.note")
        try Data(note.encoded.utf8).write(to: good)
        let result = try Self.run(
            python, [Self.script, "verify", good.path, log.verifierKey.encoded, witness.cosignerKey.encoded])
        #expect(result.status == 0, "python: \(result.output) \(result.error)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(json["origin"] as? String == log.name)
        #expect(json["size"] as? Int == 123_456)
        #expect(json["root"] as? String == Self.hex(checkpoint.rootHash))
        #expect(json["timestamp"] as? Int == 1_700_000_000)
        #expect(json["log_ok"] as? Bool == true && json["cosig_ok"] as? Bool == true)

        // Python must refuse what Swift would refuse: a changed size, a wrong witness key.
        let tampered = dir.appendingPathComponent("tampered.note")
        try Data(note.encoded.replacingOccurrences(of: "\n123456\n", with: "\n123457\n").utf8).write(to: tampered)
        #expect(
            try Self.run(
                python, [Self.script, "verify", tampered.path, log.verifierKey.encoded, witness.cosignerKey.encoded]
            ).status != 0)
        let stranger = NoteSigner(name: witness.name, privateKey: try testKey(32)).cosignerKey.encoded
        #expect(
            try Self.run(python, [Self.script, "verify", good.path, log.verifierKey.encoded, stranger]).status != 0)
    }

    @Test(
        "Swift parses and verifies a checkpoint note and cosignature that Python produced — byte-identical to Swift's")
    func swiftVerifiesPython() throws {
        let python = try Self.python()
        let logSeed = [UInt8](repeating: 40, count: 32)
        let witnessSeed = [UInt8](repeating: 41, count: 32)
        let root = SHA256.hash(Array("python tree".utf8))
        let result = try Self.run(
            python,
            [
                Self.script, "sign", Self.hex(logSeed), "python.example/log", Self.hex(witnessSeed),
                "python.example/witness",
                "python.example/log", "987654321", Self.hex(root), "1712345678",
            ])
        #expect(result.status == 0, "python: \(result.error)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String])
        let logKey = try NoteVerifierKey(encoded: try #require(json["log_vkey"]))
        let witnessKey = try CosignerVerifierKey(encoded: try #require(json["witness_vkey"]))
        let note = try SignedNote(parsing: try #require(json["note"]))
        let checkpoint = try Checkpoint.open(note, logKey: logKey)
        #expect(
            checkpoint.origin == "python.example/log" && checkpoint.size == 987_654_321 && checkpoint.rootHash == root)
        #expect(Cosignature.find(in: note, checkpoint: checkpoint, witnessKey: witnessKey)?.timestamp == 1_712_345_678)

        // Ed25519 is deterministic: Swift, given the same keys, writes the very same note.
        let log = NoteSigner(name: "python.example/log", privateKey: try Ed25519.PrivateKey(rawRepresentation: logSeed))
        let witness = NoteSigner(
            name: "python.example/witness", privateKey: try Ed25519.PrivateKey(rawRepresentation: witnessSeed))
        #expect(log.verifierKey == logKey && witness.cosignerKey == witnessKey)
        var mine = try checkpoint.signedNote(signers: [log])
        try mine.add(try Cosignature.sign(checkpoint: checkpoint, timestamp: 1_712_345_678, witness: witness))
        #expect(mine.encoded == json["note"])
    }
}
