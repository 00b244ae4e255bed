import Foundation
import Primitives
import Testing

@testable import VaultAudit

@Suite("C2SP signed notes and verifier keys")
struct SignedNoteTests {
    /// golang.org/x/mod/sumdb/note's documented example: its signer key is "PRIVATE+KEY+PeterNeumann+c74f20a3+" +
    /// base64(0x01 ‖ seed); Ed25519 is deterministic, so signing the same text must give the same bytes.
    @Test("Known answer: the Go sumdb/note example note, byte for byte")
    func goNoteExample() throws {
        let skey = try #require(Data(base64Encoded: "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"))
        #expect(skey.first == 0x01)
        let signer = NoteSigner(
            name: "PeterNeumann", privateKey: try Ed25519.PrivateKey(rawRepresentation: Array(skey.dropFirst())))
        #expect(signer.verifierKey.encoded == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        #expect(signer.verifierKey.keyHash == 0xc74f_20a3)
        let text =
            "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
        let expected =
            text + "\n"
            + "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        let note = try SignedNote.sign(text: text, signers: [signer])
        #expect(note.encoded == expected)
        let parsed = try SignedNote(parsing: expected)
        #expect(parsed == note)
        let key = try NoteVerifierKey(encoded: "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        #expect(parsed.verify(key))
        #expect(key == signer.verifierKey)
    }

    @Test("Verifier keys: published examples parse, malformed ones are refused")
    func verifierKeys() throws {
        // From transparency-dev/formats note tests: a type-0x01 key whose base64 holds '+', and a type-0x04 key.
        let plain = try NoteVerifierKey(encoded: "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
        #expect(plain.name == "TEST" && plain.keyHash == 0x7997_405c)
        #expect(plain.encoded == "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
        let witness = try CosignerVerifierKey(
            encoded: "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
        #expect(witness.encoded == "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
        #expect(throws: AuditError.self) { try NoteVerifierKey(encoded: witness.encoded) }
        #expect(throws: AuditError.self) { try CosignerVerifierKey(encoded: plain.encoded) }

        let good = plain.encoded
        let malformed = [
            "", "TEST", "TEST+7997405c", "bananas.sigstore.dev+12344556",
            "rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!",
            "rekor.sigstore.dev+12345678+AwEB", "TEST+NOT_A_NUMBER+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
            "TEST+00000000+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
            "TEST+7997405C+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",  // upper-case hex
            "TEST+7997405+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",  // 7 digits
            "TEST+07997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",  // 9 digits
            "test+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",  // name changed: hash mismatch
            "+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",  // empty name
            "TE ST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
            "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr",  // unpadded/short
            "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6 ",
            "TEST+7997405c+ AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
            "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6AA==",  // 34 bytes
            good + "\n", String(repeating: "a", count: 2000) + good,
        ]
        for text in malformed {
            #expect(throws: AuditError.self, "\(text)") { try NoteVerifierKey(encoded: text) }
        }
        // Names: no white space (any Unicode space), no '+', no control characters, not empty, ≤ 256 bytes.
        let key = try testKey(1).publicKey
        for name in [
            "", "a b", "a+b", "a\u{00A0}b", "a\u{2003}b", "a\u{3000}b", "a\tb", "a\u{7}b",
            String(repeating: "n", count: 257),
        ] {
            #expect(throws: AuditError.self) { try NoteVerifierKey(name: name, publicKey: key) }
            #expect(!NoteSigner.isValidName(name))
        }
        for name in ["eduvault.example/vault-1", "ünïcödé/ключ", String(repeating: "n", count: 256)] {
            let k = try NoteVerifierKey(name: name, publicKey: key)
            #expect(try NoteVerifierKey(encoded: k.encoded) == k)
        }
    }

    @Test("Signing: round trips, several signers, blank lines inside the text, unknown signatures kept")
    func roundTrips() throws {
        let log = NoteSigner(name: "eduvault.example/vault", privateKey: try testKey(2))
        let other = NoteSigner(name: "auditor.example/a", privateKey: try testKey(3))
        for text in [
            "one line\n", "\n", "first\n\nafter a blank line\n", "ends with a blank line\n\n", "ünïcödé — text\n",
        ] {
            let note = try SignedNote.sign(text: text, signers: [log, other])
            let parsed = try SignedNote(parsing: note.encoded)
            #expect(parsed == note)
            #expect(parsed.encoded == note.encoded)
            #expect(parsed.text == text)
            #expect(parsed.verify(log.verifierKey) && parsed.verify(other.verifierKey))
            #expect(!parsed.verify(NoteSigner(name: "x.example/y", privateKey: try testKey(4)).verifierKey))
            #expect(try SignedNote(parsing: Array(note.encoded.utf8)) == note)
        }
        // A signature by an unknown key is kept and re-encoded as it was.
        let stranger = "\u{2014} stranger.example/k AAAAAAE=\n"
        let note = try SignedNote.sign(text: "text\n", signers: [log])
        let extended = note.encoded + stranger
        let parsed = try SignedNote(parsing: extended)
        #expect(parsed.signatures.count == 2 && parsed.encoded == extended && parsed.verify(log.verifierKey))
        #expect(parsed.signatures[1] == NoteSignature(name: "stranger.example/k", keyHash: 0, signature: [1]))
    }

    @Test("Ed25519 signatures cover exactly the text bytes, and the key ID binds name, type and key")
    func exactBytes() throws {
        let signer = NoteSigner(name: "eduvault.example/vault", privateKey: try testKey(5))
        let text = "a\nb\n"
        let note = try SignedNote.sign(text: text, signers: [signer])
        let sig = try #require(note.signatures.first)
        #expect(sig.signature.count == 64)
        #expect(try signer.verifierKey.publicKey.isValidSignature(sig.signature, for: Array(text.utf8)))
        #expect(!(try signer.verifierKey.publicKey.isValidSignature(sig.signature, for: Array((text + "\n").utf8))))
        let expectedID = Array(
            SHA256.hash(
                Array("eduvault.example/vault".utf8) + [0x0A, 0x01] + (try testKey(5)).publicKey.rawRepresentation
            ).prefix(4))
        #expect(sig.keyHash == expectedID.reduce(0) { $0 << 8 | UInt32($1) })
        // Same name, other key: other ID; same key, other name: other ID. Neither verifies the note.
        let otherKey = NoteSigner(name: "eduvault.example/vault", privateKey: try testKey(6)).verifierKey
        let otherName = NoteSigner(name: "eduvault.example/vault2", privateKey: try testKey(5)).verifierKey
        #expect(otherKey.keyHash != sig.keyHash && !note.verify(otherKey) && !note.verify(otherName))
        // A forged line under the real key's name and ID does not verify.
        var forged = try SignedNote.sign(
            text: "a\nc\n", signers: [NoteSigner(name: "x.example/evil", privateKey: try testKey(7))])
        forged = try SignedNote(
            parsing: "a\nb\n\n"
                + NoteSignature(name: sig.name, keyHash: sig.keyHash, signature: forged.signatures[0].signature).line
                + "\n")
        #expect(!forged.verify(signer.verifierKey))
        // Tampering with any byte of the text breaks the signature.
        let tampered = try SignedNote(parsing: note.encoded.replacingOccurrences(of: "a\nb", with: "a\nB"))
        #expect(!tampered.verify(signer.verifierKey))
    }

    @Test("Malformed notes are refused")
    func malformed() throws {
        let signer = NoteSigner(name: "eduvault.example/vault", privateKey: try testKey(8))
        let good = try SignedNote.sign(text: "hello\n", signers: [signer]).encoded
        let line = String(good.split(separator: "\n").last ?? "")
        let b64 = String(line.split(separator: " ").last ?? "")
        let cases: [String: String] = [
            "empty": "",
            "no blank line": "hello\n" + line + "\n",
            "no signature": "hello\n\n",
            "no final newline": String(good.dropLast()),
            "hyphen instead of em dash": "hello\n\n- eduvault.example/vault " + b64 + "\n",
            "en dash": "hello\n\n\u{2013} eduvault.example/vault " + b64 + "\n",
            "no space after dash": "hello\n\n\u{2014}eduvault.example/vault " + b64 + "\n",
            "two spaces": "hello\n\n\u{2014} eduvault.example/vault  " + b64 + "\n",
            "trailing space": "hello\n\n\u{2014} eduvault.example/vault " + b64 + " \n",
            "no name": "hello\n\n\u{2014}  " + b64 + "\n",
            "name with +": "hello\n\n\u{2014} a+b " + b64 + "\n",
            "unpadded base64": "hello\n\n\u{2014} eduvault.example/vault " + b64.replacingOccurrences(of: "=", with: "")
                + "\n",
            "short signature": "hello\n\n\u{2014} eduvault.example/vault AAAAAA==\n",
            "non-canonical base64": "hello\n\n\u{2014} eduvault.example/vault AAAAAAB=\n",
            "bad base64": "hello\n\n\u{2014} eduvault.example/vault !!!!\n",
            "carriage return": "hel\rlo\n\n" + line + "\n",
            "CRLF": good.replacingOccurrences(of: "\n", with: "\r\n"),
            "tab": "hel\tlo\n\n" + line + "\n",
            "NUL": "hel\u{0}lo\n\n" + line + "\n",
            "duplicate signature": good + line + "\n",
            "text only": "hello\n",
        ]
        for (what, text) in cases {
            #expect(throws: AuditError.self, "\(what)") { try SignedNote(parsing: text) }
        }
        // A blank line among signature lines: the text runs to the last blank line, so it now holds the first
        // signature line, and the signature no longer verifies.
        let moved = try SignedNote(parsing: good + "\n" + line + "\n")
        #expect(moved.text == "hello\n\n" + line + "\n" && !moved.verify(signer.verifierKey))
        // Invalid UTF-8.
        #expect(throws: AuditError.self) {
            try SignedNote(parsing: Array("hello\n\n".utf8) + [0xC3, 0x28] + Array(line.utf8) + [0x0A])
        }
        // Limits: too many signatures, too large.
        var many = "hello\n\n"
        for i in 0...SignedNote.maxSignatures { many += "\u{2014} k\(i).example/x AAAAAAE=\n" }
        #expect(throws: AuditError.self) { try SignedNote(parsing: many) }
        #expect(throws: AuditError.self) {
            try SignedNote(parsing: String(repeating: "a", count: SignedNote.maxNoteBytes) + "\n\n" + line + "\n")
        }
        // At least 16 signatures are accepted (the spec's minimum).
        var sixteen = "hello\n\n"
        for i in 0..<16 { sixteen += "\u{2014} k\(i).example/x AAAAAAE=\n" }
        #expect(try SignedNote(parsing: sixteen).signatures.count == 16)
        // Signing refuses bad text and bad signers.
        for text in ["", "no newline", "cr\r\n", "nul\u{0}\n"] {
            #expect(throws: AuditError.self) { try SignedNote.sign(text: text, signers: [signer]) }
        }
        #expect(throws: AuditError.self) { try SignedNote.sign(text: "t\n", signers: []) }
        #expect(throws: AuditError.self) { try SignedNote.sign(text: "t\n", signers: [signer, signer]) }
        #expect(throws: AuditError.self) {
            try SignedNote.sign(text: "t\n", signers: [NoteSigner(name: "bad name", privateKey: try testKey(9))])
        }
        // Parsing never traps on random bytes or random mutations of a good note.
        var rng = SeededGenerator(seed: 21)
        let goodBytes = Array(good.utf8)
        for _ in 0..<3000 {
            var bytes = goodBytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
            }
            if let note = try? SignedNote(parsing: bytes), note.verify(signer.verifierKey) {
                #expect(note.text == "hello\n", "a mutated note verified with different text")
            }
            _ = try? SignedNote(parsing: rng.bytes(Int.random(in: 0...200, using: &rng)))
        }
    }

    @Test("The signer never prints its private key")
    func signerRedacted() throws {
        let key = try testKey(10)
        let signer = NoteSigner(name: "eduvault.example/vault", privateKey: key)
        let shown = "\(signer) \(String(reflecting: signer))"
        #expect(!shown.contains(StrictBase64.encode(key.rawRepresentation)))
        #expect(!shown.contains("10, 10, 10"))
        #expect(shown.contains(signer.verifierKey.encoded))
    }
}
