// Audit exports (`audit verify --export DIR`): the log's entries as JSON lines, checked against a checkpoint signed
// with the fuzz log key over the seed log.
//
// Path: the bytes become DIR/entries.jsonl next to a fixed signed checkpoint; ExportDirectory and AuditVerifier run
// exactly as `audit verify` does.
// Properties: the verifier never traps and always reaches a verdict; it passes only when the entries are exactly
// the log the checkpoint signed (the seed), byte for byte up to JSON whitespace — any other log is refused.
import Foundation
import FuzzDriver
import FuzzSupport
import Primitives
import VaultAudit
import VaultAuditor

let signer = NoteSigner(name: "eduvault/fuzz", privateKey: Fuzz.batchSigner)
let directory = Fuzz.scratchFile("export")
try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

/// The seed log: three entries, and its signed checkpoint.
let seedEntries: [AuditEntry] = {
    var out: [AuditEntry] = []
    for i in 0..<3 {
        out.append(try! AuditChain.entry(after: out.last, time: "2026-01-01T00:00:0\(i)Z", kind: .queryRefused,  // safe: fixed input
                                         details: ["rule": "K-MIN", "n": String(i)]))
    }
    return out
}()
let note: String = {
    var range = CompactMerkleRange()
    for e in seedEntries { range.append(leafHash: MerkleTree.leafHash(Hex.decode(e.hash)!)) }  // safe: our own hashes
    return try! Checkpoint(origin: signer.name, size: 3, rootHash: range.root()).signedNote(signers: [signer]).encoded  // safe: fixed input
}()
try? Data(note.utf8).write(to: directory.appendingPathComponent(AuditExport.checkpointFile))

Fuzz.run { data in
    guard (try? data.write(to: directory.appendingPathComponent(AuditExport.entriesFile))) != nil,
          let source = try? ExportDirectory(directory)
    else { return }
    var report: AuditReport
    do { report = try AuditVerifier(logKey: signer.verifierKey).verify(source) } catch {
        Fuzz.require(error is ExportError || error is AuditError, "verify failed with a \(type(of: error))")
        return
    }
    if report.verdict == .pass {
        var parsed: [AuditEntry] = []
        try? source.forEachEntry { parsed.append($0) }
        Fuzz.require(parsed == seedEntries, "a log other than the signed one verified")
    }
}
