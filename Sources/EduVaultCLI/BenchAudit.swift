import Foundation
import Primitives
import VaultAudit
import VaultAuditor
import VaultModel
import VaultStore

/// `eduvault bench --audit-entries N`: how long an auditor takes to verify a log of N entries, and how large its
/// export is. Builds a real export (hash-chained entries, the RFC 6962 tree, a checkpoint signed with a fresh log
/// key) in a temporary directory, then times `audit verify` on it.
struct AuditBenchmark {
    var entries: Int

    struct Result {
        var buildSeconds: Double
        var verifySeconds: Double
        var entriesBytes: Int64
        var peakMemoryBytes: Int64
        var verdict: String
    }

    func run(log: (String) -> Void) throws -> Result {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("eduvault-audit-bench-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: root) }
        let built = Date()
        let signer = NoteSigner(name: "eduvault/bench", privateKey: try Ed25519.PrivateKey())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let writer = try AtomicFile.begin(for: root.appendingPathComponent(AuditExport.entriesFile))
        var range = CompactMerkleRange()
        var previous: AuditEntry? = nil
        var buffer = Data()
        for i in 0..<entries {
            // Refusal entries: the shape of most log traffic (a query hash and a rule), no data to bind.
            let entry = try AuditChain.entry(
                after: previous, kind: .queryRefused,
                details: [
                    "query_sha256": Hex.encode(SHA256.hash(Array(String(i).utf8))), "rule": "K-MIN", "reason": "bench",
                ])
            _ = range.append(leafHash: MerkleTree.leafHash(Hex.decode(entry.hash) ?? []))
            buffer.append(try encoder.encode(entry))
            buffer.append(10)
            if buffer.count > 1 << 20 {
                try writer.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
            previous = entry
            if (i + 1) % 200_000 == 0 { log("built \(i + 1) entries") }
        }
        try writer.write(buffer)
        try writer.stage().commit(overwrite: false)
        let checkpoint = try Checkpoint(origin: signer.name, size: Int64(entries), rootHash: range.root())
        let note = try checkpoint.signedNote(signers: [signer]).encoded
        try AtomicFile.write(
            Data(note.utf8), to: root.appendingPathComponent(AuditExport.checkpointFile), overwrite: false)
        try AtomicFile.write(
            try encoder.encode(AuditExport.CheckpointRow(size: Int64(entries), note: note, created: Timestamp.now()))
                + Data([10]),
            to: root.appendingPathComponent(AuditExport.checkpointsFile), overwrite: false)
        let buildSeconds = Date().timeIntervalSince(built)
        log("verifying \(entries) entries")
        let started = Date()
        let report = try AuditVerifier(logKey: signer.verifierKey).verify(try ExportDirectory(root))
        let verifySeconds = Date().timeIntervalSince(started)
        let size =
            (try? fm.attributesOfItem(atPath: root.appendingPathComponent(AuditExport.entriesFile).path)[.size]
            as? NSNumber)?.int64Value ?? 0
        return Result(
            buildSeconds: buildSeconds, verifySeconds: verifySeconds, entriesBytes: size,
            peakMemoryBytes: QueryBenchmark.peakMemory(), verdict: report.verdict.rawValue)
    }
}
