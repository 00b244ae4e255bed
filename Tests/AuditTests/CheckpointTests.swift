import Foundation
import Primitives
import Testing

@testable import VaultAudit

@Suite("C2SP checkpoints and cosignatures")
struct CheckpointTests {
    static let root = Array(SHA256.hash(Array("root".utf8)))

    @Test("Checkpoint bodies round-trip, and the C2SP example body parses")
    func roundTrip() throws {
        let checkpoint = try Checkpoint(origin: "eduvault.example/vault-1", size: 20_852_163, rootHash: Self.root)
        #expect(checkpoint.body == "eduvault.example/vault-1\n20852163\n\(StrictBase64.encode(Self.root))\n")
        #expect(try Checkpoint(parsing: checkpoint.body) == checkpoint)
        let withExtensions = try Checkpoint(
            origin: "o", size: 0, rootHash: MerkleTree.emptyRoot, extensions: ["ext one", "two"])
        #expect(withExtensions.body.hasSuffix("\next one\ntwo\n"))
        #expect(try Checkpoint(parsing: withExtensions.body) == withExtensions)
        // The example in c2sp.org/tlog-checkpoint.
        let example = try Checkpoint(
            parsing: "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
        #expect(
            example.origin == "example.com/behind-the-sofa" && example.size == 20_852_163 && example.extensions.isEmpty)
        let max = try Checkpoint(origin: "o", size: .max, rootHash: Self.root)
        #expect(try Checkpoint(parsing: max.body).size == .max)
    }

    @Test("Malformed checkpoint bodies are refused")
    func malformed() throws {
        let r = StrictBase64.encode(Self.root)
        let bodies = [
            "", "\n", "o\n1\n", "o\n1\n\(r)", "\n1\n\(r)\n", "o\n\n\(r)\n", "o\n01\n\(r)\n", "o\n00\n\(r)\n",
            "o\n-1\n\(r)\n",
            "o\n+1\n\(r)\n", "o\n 1\n\(r)\n", "o\n1 \n\(r)\n", "o\n1e3\n\(r)\n", "o\n0x10\n\(r)\n",
            "o\n9223372036854775808\n\(r)\n",
            "o\n99999999999999999999\n\(r)\n", "o\n1\n\(r.dropLast())\n",
            "o\n1\n\(StrictBase64.encode(Self.root.dropLast()))\n",
            "o\n1\n\(StrictBase64.encode(Self.root + [0]))\n", "o\n1\n\(r)\n\n", "o\n1\n\(r)\next\n\n",
            "o\n1\n\(r)\r\n",
            "o\r\n1\n\(r)\n", "o\t\n1\n\(r)\n", "o\n1\n \(r)\n", "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
            "o\n1\n\(r)\n" + String(repeating: "e\n", count: Checkpoint.maxExtensionLines + 1),
            String(repeating: "o", count: Checkpoint.maxOriginBytes + 1) + "\n1\n\(r)\n",
        ]
        for body in bodies {
            #expect(throws: AuditError.self, "\(body.debugDescription)") { try Checkpoint(parsing: body) }
        }
        #expect(throws: AuditError.self) { try Checkpoint(origin: "", size: 1, rootHash: Self.root) }
        #expect(throws: AuditError.self) { try Checkpoint(origin: "o\n", size: 1, rootHash: Self.root) }
        #expect(throws: AuditError.self) { try Checkpoint(origin: "o", size: -1, rootHash: Self.root) }
        #expect(throws: AuditError.self) { try Checkpoint(origin: "o", size: 1, rootHash: [1]) }
        #expect(throws: AuditError.self) { try Checkpoint(origin: "o", size: 1, rootHash: Self.root, extensions: [""]) }
        #expect(throws: AuditError.self) {
            try Checkpoint(origin: "o", size: 1, rootHash: Self.root, extensions: ["a\nb"])
        }
    }

    @Test("Signed checkpoints open only under the pinned log key")
    func signedCheckpoint() throws {
        let log = NoteSigner(name: "eduvault.example/vault-1", privateKey: try testKey(20))
        let checkpoint = try Checkpoint(origin: log.name, size: 42, rootHash: Self.root)
        let note = try checkpoint.signedNote(signers: [log])
        #expect(try Checkpoint.open(try SignedNote(parsing: note.encoded), logKey: log.verifierKey) == checkpoint)
        let impostor = NoteSigner(name: log.name, privateKey: try testKey(21))
        #expect(throws: AuditError.self) { try Checkpoint.open(note, logKey: impostor.verifierKey) }
        let bogus = try SignedNote.sign(text: "not a checkpoint\n", signers: [log])
        #expect(throws: AuditError.self) { try Checkpoint.open(bogus, logKey: log.verifierKey) }
    }

    @Test("Cosignatures: the exact cosignature/v1 message, type 0x04 key IDs, timestamp then signature")
    func cosignature() throws {
        let log = NoteSigner(name: "eduvault.example/vault-1", privateKey: try testKey(22))
        let witness = NoteSigner(name: "auditor.example/w1", privateKey: try testKey(23))
        let checkpoint = try Checkpoint(origin: log.name, size: 7, rootHash: Self.root, extensions: ["ext"])
        let timestamp: UInt64 = 1_679_315_147
        let sig = try Cosignature.sign(checkpoint: checkpoint, timestamp: timestamp, witness: witness)
        // Layout and key ID.
        #expect(sig.name == witness.name && sig.signature.count == 72)
        #expect(Array(sig.signature.prefix(8)) == [0, 0, 0, 0, 0x64, 0x18, 0x50, 0xCB])  // 1679315147 big-endian
        let expectedID = SHA256.hash(
            Array(witness.name.utf8) + [0x0A, 0x04] + witness.verifierKey.publicKey.rawRepresentation)
        #expect(sig.keyHash == expectedID.prefix(4).reduce(0) { $0 << 8 | UInt32($1) })
        #expect(sig.keyHash == witness.cosignerKey.keyHash && sig.keyHash != witness.verifierKey.keyHash)
        // The message, spelled out as in the spec.
        let message =
            "cosignature/v1\ntime 1679315147\neduvault.example/vault-1\n7\n\(StrictBase64.encode(Self.root))\next\n"
        #expect(Cosignature.message(checkpoint: checkpoint, timestamp: timestamp) == Array(message.utf8))
        #expect(
            try witness.cosignerKey.publicKey.isValidSignature(Array(sig.signature[8...]), for: Array(message.utf8)))
        // Verification.
        let ok = Cosignature.verify(sig, checkpoint: checkpoint, witnessKey: witness.cosignerKey)
        #expect(ok.valid && ok.timestamp == timestamp)
        let other = try Checkpoint(origin: log.name, size: 8, rootHash: Self.root, extensions: ["ext"])
        let noExt = try Checkpoint(origin: log.name, size: 7, rootHash: Self.root)
        #expect(!Cosignature.verify(sig, checkpoint: other, witnessKey: witness.cosignerKey).valid)
        // Extension lines are part of the signed message.
        #expect(!Cosignature.verify(sig, checkpoint: noExt, witnessKey: witness.cosignerKey).valid)
        var later = sig
        later.signature[7] ^= 1
        #expect(!Cosignature.verify(later, checkpoint: checkpoint, witnessKey: witness.cosignerKey).valid)
        for bad in [Array(sig.signature.dropLast()), sig.signature + [0]] {
            var s = sig
            s.signature = bad
            #expect(!Cosignature.verify(s, checkpoint: checkpoint, witnessKey: witness.cosignerKey).valid)
        }
        let impostor = NoteSigner(name: witness.name, privateKey: try testKey(24)).cosignerKey
        #expect(!Cosignature.verify(sig, checkpoint: checkpoint, witnessKey: impostor).valid)
        // Timestamps above 2^63 - 1 are refused when signing and verifying.
        #expect(throws: AuditError.self) {
            try Cosignature.sign(checkpoint: checkpoint, timestamp: 1 << 63, witness: witness)
        }
        #expect(
            try Cosignature.sign(checkpoint: checkpoint, timestamp: UInt64(Int64.max), witness: witness).signature.count
                == 72)
        var huge = sig
        huge.signature[0] = 0x80
        #expect(!Cosignature.verify(huge, checkpoint: checkpoint, witnessKey: witness.cosignerKey).valid)

        // On the note: the log signature still verifies, the cosignature is found, a plain key never accepts it.
        var note = try checkpoint.signedNote(signers: [log])
        try note.add(sig)
        let parsed = try SignedNote(parsing: note.encoded)
        #expect(parsed.verify(log.verifierKey))
        #expect(
            Cosignature.find(in: parsed, checkpoint: checkpoint, witnessKey: witness.cosignerKey)?.timestamp
                == timestamp)
        #expect(!parsed.verify(witness.verifierKey))
        #expect(throws: AuditError.self) { try note.add(sig) }  // one line per key
    }
}
