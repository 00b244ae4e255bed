// Signed checkpoints and verifier keys (`audit verify`, `release decrypt --checkpoint`, `vault checkpoint`): C2SP
// signed notes, tlog-checkpoint bodies, note and cosigner verifier keys.
//
// Path: SignedNote(parsing:), Checkpoint(parsing:), NoteVerifierKey(encoded:) and CosignerVerifierKey(encoded:) on the
// same bytes, as the verifier and `release decrypt` read them.
// Properties: a note that parses re-encodes to text that parses to the same note; its signatures never verify under
// the fuzz log key unless the input is the seed that key really signed; a checkpoint that parses re-encodes to the
// same body; a key that parses re-encodes to the same text.
import Foundation
import FuzzDriver
import FuzzSupport
import Primitives
import VaultAudit

let signer = NoteSigner(name: "eduvault/fuzz", privateKey: Fuzz.batchSigner)
let logKey = signer.verifierKey

Fuzz.run { data in
    let text = String(decoding: data, as: UTF8.self)
    if let note = try? SignedNote(parsing: Array(data)) {
        guard let again = try? SignedNote(parsing: note.encoded) else { return Fuzz.require(false, "a parsed note does not re-parse") }
        Fuzz.require(again == note, "parse → encode → parse changed the note")
        if note.verify(logKey) {
            // Only a note whose text the fuzz key signed can verify: re-signing must give the same signature line.
            let resigned = try? SignedNote.sign(text: note.text, signers: [signer])
            Fuzz.require(resigned?.signatures.first.map { s in note.signatures.contains(s) } == true,
                         "a signature verified that the key did not make")
        }
        if let checkpoint = try? Checkpoint(parsing: note.text) {
            Fuzz.require((try? Checkpoint(parsing: checkpoint.body)) == checkpoint, "a checkpoint does not round-trip")
        }
    }
    if let checkpoint = try? Checkpoint(parsing: text) {
        Fuzz.require(checkpoint.body == text, "a parsed checkpoint body is not the canonical body")
        Fuzz.require(checkpoint.size >= 0 && checkpoint.rootHash.count == 32, "an invalid checkpoint parsed")
    }
    let line = text.trimmingCharacters(in: .newlines)
    if let key = try? NoteVerifierKey(encoded: line) {
        Fuzz.require((try? NoteVerifierKey(encoded: key.encoded)) == key, "a note key does not round-trip")
    }
    if let key = try? CosignerVerifierKey(encoded: line) {
        Fuzz.require((try? CosignerVerifierKey(encoded: key.encoded)) == key, "a cosigner key does not round-trip")
        Fuzz.require((try? NoteVerifierKey(encoded: line)) == nil, "one text parsed as both key types")
    }
}
