import Primitives

/// One signature line of a signed note: `— <name> base64(keyHash ‖ signature)`.
///
/// `signature` is what follows the 4-byte key ID: 64 bytes for an Ed25519 note signature, 72 (an 8-byte timestamp
/// and 64 bytes) for an Ed25519 cosignature, anything for a key type this module does not know.
public struct NoteSignature: Sendable, Equatable, Hashable {
    /// The signer's key name.
    public var name: String
    /// The signer's key ID.
    public var keyHash: UInt32
    /// The signature bytes after the key ID.
    public var signature: [UInt8]

    /// A signature line's parts (not checked; `SignedNote` checks them when it is built).
    public init(name: String, keyHash: UInt32, signature: [UInt8]) {
        self.name = name
        self.keyHash = keyHash
        self.signature = signature
    }

    /// `— name base64(keyHash ‖ signature)` without the final newline.
    public var line: String {
        let id = [
            UInt8(keyHash >> 24 & 0xFF), UInt8(keyHash >> 16 & 0xFF), UInt8(keyHash >> 8 & 0xFF), UInt8(keyHash & 0xFF),
        ]
        return "\u{2014} " + name + " " + StrictBase64.encode(id + signature)
    }

    /// Compares name bytes, key ID and signature.
    public static func == (a: Self, b: Self) -> Bool {
        Array(a.name.utf8) == Array(b.name.utf8) && a.keyHash == b.keyHash && a.signature == b.signature
    }

    /// Hashes name bytes, key ID and signature.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(Array(name.utf8))
        hasher.combine(keyHash)
        hasher.combine(signature)
    }
}

/// A C2SP signed note: a text ending in a newline, a blank line, and one or more signature lines.
///
/// ```
/// <text, ending in "\n">
/// <blank line>
/// — <key name> <base64(key ID ‖ signature)>
/// …
/// ```
///
/// Parsing is strict and bounded: valid UTF-8 with no control character but newline, at most `maxNoteBytes`
/// bytes and `maxSignatures` signature lines, each line exactly em dash (U+2014), space, a valid key name, one space,
/// strict base64 of 5 to 4 + `maxSignatureBytes` bytes. The text is everything before the *last* blank line (the
/// text may itself hold blank lines). Signatures from unknown keys are kept (and re-encoded unchanged); two lines
/// for the same key name and ID are refused as ambiguous. Text and names are compared as bytes, never as
/// Unicode-equivalent strings.
///
/// Law: `SignedNote(parsing: n.encoded) == n` for every note this type builds or parses, and
/// `SignedNote(parsing: s).encoded == s` byte for byte for every `s` it accepts.
public struct SignedNote: Sendable, Equatable {
    /// Largest note accepted or built, in bytes (room for 16 signatures of nearly 5 kB, as the spec asks).
    public static let maxNoteBytes = 256 * 1024
    /// Most signature lines accepted (the spec asks for at least 16).
    public static let maxSignatures = 100
    /// Largest signature (after the key ID) accepted, in bytes.
    public static let maxSignatureBytes = 8 * 1024

    /// The signed text, ending in a newline.
    public let text: String
    /// The signature lines, in order.
    public private(set) var signatures: [NoteSignature]

    private init(text: String, signatures: [NoteSignature]) {
        self.text = text
        self.signatures = signatures
    }

    /// Signs `text` with each signer (Ed25519 over the exact UTF-8 bytes of `text`, type 0x01 key IDs).
    ///
    /// - Complexity: one Ed25519 signature per signer.
    /// - Throws: `AuditError.malformedNote` if `text` is empty, does not end in a newline, has a control character
    ///   other than newline, is over `maxNoteBytes`, or there are no signers, duplicate signers or over
    ///   `maxSignatures`; `.malformedKey` for an invalid signer name; `.signingFailed` if OpenSSL fails.
    public static func sign(text: String, signers: [NoteSigner]) throws(AuditError) -> SignedNote {
        let bytes = Array(text.utf8)
        try checkText(bytes)
        guard !signers.isEmpty else { throw AuditError(.malformedNote, "a signed note needs at least one signature") }
        var note = SignedNote(text: text, signatures: [])
        for signer in signers {
            try signer.checkName()
            let key = signer.verifierKey
            let signature = try signer.sign(bytes)
            try note.add(NoteSignature(name: key.name, keyHash: key.keyHash, signature: signature))
        }
        return note
    }

    /// Parses a signed note strictly (see the type's summary). Verifies nothing: call `verify(_:)`.
    ///
    /// - Complexity: O(n) in the note's length, bounded by `maxNoteBytes`.
    /// - Throws: `AuditError.malformedNote` for anything but a well-formed note within the limits.
    public init(parsing note: String) throws(AuditError) {
        try self.init(parsing: Array(note.utf8))
    }

    /// Parses a signed note from bytes, refusing invalid UTF-8.
    ///
    /// - Throws: `AuditError.malformedNote` (see `init(parsing:)` for `String`).
    public init(parsing bytes: [UInt8]) throws(AuditError) {
        guard bytes.count <= Self.maxNoteBytes else { throw AuditError(.malformedNote, "a signed note is too large") }
        let decoded = String(decoding: bytes, as: UTF8.self)
        guard Array(decoded.utf8) == bytes else { throw AuditError(.malformedNote, "a signed note is not valid UTF-8") }
        for byte in bytes where byte < 0x20 && byte != 0x0A {
            throw AuditError(.malformedNote, "a signed note has a control character")
        }
        // The text ends at the last blank line ("\n\n"): text includes the first "\n", signatures start after both.
        var split: Int? = nil
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A {
                split = i
                break
            }
            i -= 1
        }
        guard let split else {
            throw AuditError(.malformedNote, "a signed note has no blank line before its signatures")
        }
        let textBytes = Array(bytes[...split])
        let block = bytes[(split + 2)...]
        guard !block.isEmpty, block.last == 0x0A else {
            throw AuditError(.malformedNote, "a signed note ends with signature lines, each ending in a newline")
        }
        var note = SignedNote(text: String(decoding: textBytes, as: UTF8.self), signatures: [])
        for line in block.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false) {
            try note.add(try Self.parseLine(line))
        }
        self = note
    }

    /// The prefix of every signature line: em dash (U+2014) and a space.
    private static let linePrefix: [UInt8] = [0xE2, 0x80, 0x94, 0x20]

    private static func parseLine(_ line: ArraySlice<UInt8>) throws(AuditError) -> NoteSignature {
        guard line.starts(with: linePrefix) else {
            throw AuditError(.malformedNote, "a signature line starts with an em dash and a space")
        }
        let rest = line.dropFirst(linePrefix.count)
        guard let space = rest.firstIndex(of: 0x20) else {
            throw AuditError(.malformedNote, "a signature line is a name, a space and base64")
        }
        let name = String(decoding: rest[..<space], as: UTF8.self)
        guard NoteKeyRules.isValidName(name) else {
            throw AuditError(.malformedNote, "a signature line's key name is not valid")
        }
        let b64 = String(decoding: rest[(space + 1)...], as: UTF8.self)
        guard let raw = StrictBase64.decode(b64[...], maxBytes: 4 + maxSignatureBytes), raw.count >= 5 else {
            throw AuditError(
                .malformedNote, "a signature line's signature is strict base64 of a key ID and a signature")
        }
        let hash = raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return NoteSignature(name: name, keyHash: hash, signature: Array(raw[4...]))
    }

    private static func checkText(_ bytes: [UInt8]) throws(AuditError) {
        guard bytes.last == 0x0A else { throw AuditError(.malformedNote, "a note's text ends in a newline") }
        guard bytes.count < maxNoteBytes else { throw AuditError(.malformedNote, "a note's text is too large") }
        for byte in bytes where byte < 0x20 && byte != 0x0A {
            throw AuditError(.malformedNote, "a note's text has a control character")
        }
    }

    /// Adds a signature line (a cosignature, or a signature made elsewhere), after the existing ones.
    ///
    /// - Throws: `AuditError.malformedNote` for an invalid name, an empty or oversized signature, a second line for
    ///   the same name and key ID, more than `maxSignatures` lines, or a note over `maxNoteBytes`. The note is then
    ///   unchanged.
    public mutating func add(_ signature: NoteSignature) throws(AuditError) {
        guard NoteKeyRules.isValidName(signature.name) else {
            throw AuditError(.malformedNote, "a signature line's key name is not valid")
        }
        guard !signature.signature.isEmpty, signature.signature.count <= Self.maxSignatureBytes else {
            throw AuditError(.malformedNote, "a signature is empty or too large")
        }
        guard signatures.count < Self.maxSignatures else { throw AuditError(.malformedNote, "too many signatures") }
        let name = Array(signature.name.utf8)
        guard !signatures.contains(where: { Array($0.name.utf8) == name && $0.keyHash == signature.keyHash }) else {
            throw AuditError(.malformedNote, "two signature lines for the same key")
        }
        let size =
            text.utf8.count + 1 + signatures.reduce(0) { $0 + $1.line.utf8.count + 1 } + signature.line.utf8.count + 1
        guard size <= Self.maxNoteBytes else { throw AuditError(.malformedNote, "a signed note is too large") }
        signatures.append(signature)
    }

    /// The note in wire form: text, a blank line, one line per signature.
    public var encoded: String {
        text + "\n" + signatures.map { $0.line + "\n" }.joined()
    }

    /// The signature line for key `name` and `keyHash`, if any.
    public func signature(name: String, keyHash: UInt32) -> NoteSignature? {
        let nameBytes = Array(name.utf8)
        return signatures.first { Array($0.name.utf8) == nameBytes && $0.keyHash == keyHash }
    }

    /// Whether the note carries a valid Ed25519 signature by `key`: a line with the key's name and key ID whose 64-byte
    /// signature verifies over the exact bytes of `text`.
    ///
    /// - Complexity: one Ed25519 verification.
    /// - Security: lines of other keys are ignored (as the spec requires); a line that shares only the name or only
    ///   the ID with `key` is another key's. `false` also when OpenSSL cannot run the check.
    public func verify(_ key: NoteVerifierKey) -> Bool {
        guard let line = signature(name: key.name, keyHash: key.keyHash), line.signature.count == 64 else {
            return false
        }
        return (try? key.publicKey.isValidSignature(line.signature, for: Array(text.utf8))) ?? false
    }

    /// Compares text bytes and signatures.
    public static func == (a: Self, b: Self) -> Bool {
        Array(a.text.utf8) == Array(b.text.utf8) && a.signatures == b.signatures
    }
}
