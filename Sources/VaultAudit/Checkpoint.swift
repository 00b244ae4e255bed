import Primitives

/// A C2SP tlog-checkpoint body: the log's origin, tree size and RFC 6962 root hash, plus optional extension lines.
///
/// ```
/// <origin>\n
/// <tree size, decimal, no leading zeros>\n
/// <base64 of the 32-byte root hash>\n
/// [<extension line>\n …]
/// ```
///
/// Built and parsed strictly: a non-empty origin of at most `maxOriginBytes`; a size in canonical decimal
/// (`0`, or no leading zero) that fits an `Int64`; strict base64 of exactly 32 bytes; non-empty extension lines,
/// at most `maxExtensionLines`; no control character anywhere but the newlines; every line ends in `\n`; at most
/// `maxBodyBytes` in all. The origin is not required to be a URL (the spec only recommends it).
///
/// Law: `Checkpoint(parsing: c.body) == c`, and `Checkpoint(parsing: b).body == b` for every body `b` it accepts.
public struct Checkpoint: Sendable, Equatable {
    /// Largest body accepted, in bytes.
    public static let maxBodyBytes = 16 * 1024
    /// Longest origin accepted, in UTF-8 bytes.
    public static let maxOriginBytes = 1024
    /// Most extension lines accepted.
    public static let maxExtensionLines = 32

    /// The log's identity (the vault uses its log key's name).
    public let origin: String
    /// The number of leaves in the tree.
    public let size: Int64
    /// The RFC 6962 root hash of the tree (32 bytes).
    public let rootHash: [UInt8]
    /// Extension lines, without their newlines (the C2SP spec does not recommend using them).
    public let extensions: [String]

    /// A checkpoint with these fields.
    ///
    /// - Throws: `AuditError.malformedCheckpoint` for an empty, oversized or control-character origin, a negative
    ///   size, a root that is not 32 bytes, an empty or control-character extension line, or a body over the limits.
    public init(origin: String, size: Int64, rootHash: [UInt8], extensions: [String] = []) throws(AuditError) {
        try Self.checkLine(origin, what: "origin", limit: Self.maxOriginBytes)
        guard size >= 0 else { throw AuditError(.malformedCheckpoint, "a checkpoint's tree size is never negative") }
        guard rootHash.count == 32 else {
            throw AuditError(.malformedCheckpoint, "a checkpoint's root hash is 32 bytes")
        }
        guard extensions.count <= Self.maxExtensionLines else {
            throw AuditError(.malformedCheckpoint, "a checkpoint has too many extension lines")
        }
        for line in extensions { try Self.checkLine(line, what: "extension line", limit: Self.maxBodyBytes) }
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensions = extensions
        guard body.utf8.count <= Self.maxBodyBytes else {
            throw AuditError(.malformedCheckpoint, "a checkpoint body is too large")
        }
    }

    private static func checkLine(_ line: String, what: String, limit: Int) throws(AuditError) {
        let bytes = line.utf8
        guard !bytes.isEmpty, bytes.count <= limit else {
            throw AuditError(.malformedCheckpoint, "a checkpoint's \(what) is empty or too long")
        }
        guard bytes.allSatisfy({ $0 >= 0x20 }) else {
            throw AuditError(.malformedCheckpoint, "a checkpoint's \(what) has a control character")
        }
    }

    /// The note text: origin, size, base64 root, extension lines, each ending in `\n`.
    public var body: String {
        origin + "\n" + String(size) + "\n" + StrictBase64.encode(rootHash) + "\n"
            + extensions.map { $0 + "\n" }.joined()
    }

    /// Parses a checkpoint body strictly (see the type's summary).
    ///
    /// - Complexity: O(n), n ≤ `maxBodyBytes`.
    /// - Throws: `AuditError.malformedCheckpoint` for anything else.
    public init(parsing body: String) throws(AuditError) {
        let bytes = Array(body.utf8)
        guard bytes.count <= Self.maxBodyBytes else {
            throw AuditError(.malformedCheckpoint, "a checkpoint body is too large")
        }
        guard bytes.last == 0x0A else { throw AuditError(.malformedCheckpoint, "a checkpoint body ends in a newline") }
        let lines = bytes.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count >= 3 else {
            throw AuditError(.malformedCheckpoint, "a checkpoint body has origin, size and root hash lines")
        }
        guard lines.count - 3 <= Self.maxExtensionLines else {
            throw AuditError(.malformedCheckpoint, "a checkpoint has too many extension lines")
        }
        let sizeLine = lines[1]
        guard !sizeLine.isEmpty, sizeLine.count <= 19, sizeLine.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            sizeLine.first != 0x30 || sizeLine.count == 1, let size = Int64(String(decoding: sizeLine, as: UTF8.self))
        else { throw AuditError(.malformedCheckpoint, "a checkpoint's tree size is a decimal without leading zeros") }
        guard let root = StrictBase64.decode(String(decoding: lines[2], as: UTF8.self)[...], maxBytes: 32),
            root.count == 32
        else { throw AuditError(.malformedCheckpoint, "a checkpoint's root hash is strict base64 of 32 bytes") }
        try self.init(
            origin: String(decoding: lines[0], as: UTF8.self), size: size, rootHash: root,
            extensions: lines.dropFirst(3).map { String(decoding: $0, as: UTF8.self) })
        guard Array(self.body.utf8) == bytes else {
            throw AuditError(.malformedCheckpoint, "a checkpoint body is not in canonical form")
        }
    }

    /// This checkpoint as a signed note, signed by `signers` (the log key first, by convention).
    ///
    /// - Throws: as `SignedNote.sign(text:signers:)`.
    /// - Security: a log must never sign two checkpoints that are not consistent (tlog-checkpoint, "Signatures").
    public func signedNote(signers: [NoteSigner]) throws(AuditError) -> SignedNote {
        try SignedNote.sign(text: body, signers: signers)
    }

    /// The checkpoint in `note`, after checking that `logKey` signed it.
    ///
    /// - Throws: `AuditError.malformedNote` if no valid signature by `logKey` is on the note;
    ///   `.malformedCheckpoint` if its text is not a checkpoint body.
    /// - Security: the key name is not required to equal the origin (the spec says it SHOULD); compare `origin` with
    ///   what you expect.
    public static func open(_ note: SignedNote, logKey: NoteVerifierKey) throws(AuditError) -> Checkpoint {
        guard note.verify(logKey) else {
            throw AuditError(.malformedNote, "the checkpoint is not signed by the pinned log key")
        }
        return try Checkpoint(parsing: note.text)
    }

    /// Compares origin bytes, size, root and extension bytes.
    public static func == (a: Self, b: Self) -> Bool {
        Array(a.body.utf8) == Array(b.body.utf8)
    }
}

/// C2SP tlog-cosignature, Ed25519 version ("cosignature/v1"): a witness's timestamped statement that, at that time,
/// the checkpoint was the largest consistent tree head it had seen for the log.
///
/// The signed message is `"cosignature/v1\n" ‖ "time " ‖ decimal timestamp ‖ "\n" ‖ checkpoint body` (extension
/// lines included); the signature line carries `name`, the key ID SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[0..<4], and
/// 72 bytes: the timestamp as a big-endian UInt64, then the 64-byte Ed25519 signature. Add the line to the
/// checkpoint's note with `SignedNote.add(_:)`.
public enum Cosignature {
    /// The domain-separation header line.
    public static let header = "cosignature/v1"

    /// The exact bytes a witness signs for `checkpoint` at `timestamp`.
    public static func message(checkpoint: Checkpoint, timestamp: UInt64) -> [UInt8] {
        Array((header + "\ntime " + String(timestamp) + "\n" + checkpoint.body).utf8)
    }

    /// The witness's cosignature line for `checkpoint` at `timestamp` (POSIX seconds).
    ///
    /// - Throws: `AuditError.signingFailed` for a timestamp above 2^63 − 1 (the spec's limit) or if OpenSSL fails;
    ///   `.malformedKey` for an invalid witness name.
    public static func sign(
        checkpoint: Checkpoint, timestamp: UInt64, witness: NoteSigner
    ) throws(AuditError)
        -> NoteSignature
    {
        guard timestamp <= UInt64(Int64.max) else {
            throw AuditError(.signingFailed, "a cosignature timestamp is at most 2^63 - 1")
        }
        try witness.checkName()
        let signature = try witness.sign(message(checkpoint: checkpoint, timestamp: timestamp))
        let time = (0..<8).map { UInt8(timestamp >> UInt64(56 - 8 * $0) & 0xFF) }
        let key = witness.cosignerKey
        return NoteSignature(name: key.name, keyHash: key.keyHash, signature: time + signature)
    }

    /// Whether `sig` is `witnessKey`'s valid cosignature of `checkpoint`, and the time it states.
    ///
    /// - Returns: `(true, timestamp)` when the name and key ID are the witness's, the signature is 72 bytes, the
    ///   timestamp ≤ 2^63 − 1 and the Ed25519 signature verifies; otherwise `(false, 0)`.
    /// - Security: the timestamp is the witness's claim; callers may refuse one in the future.
    public static func verify(
        _ sig: NoteSignature, checkpoint: Checkpoint, witnessKey: CosignerVerifierKey
    )
        -> (valid: Bool, timestamp: UInt64)
    {
        guard Array(sig.name.utf8) == Array(witnessKey.name.utf8), sig.keyHash == witnessKey.keyHash,
            sig.signature.count == 72
        else { return (false, 0) }
        let timestamp = sig.signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard timestamp <= UInt64(Int64.max) else { return (false, 0) }
        let message = message(checkpoint: checkpoint, timestamp: timestamp)
        let valid = (try? witnessKey.publicKey.isValidSignature(Array(sig.signature[8...]), for: message)) ?? false
        return valid ? (true, timestamp) : (false, 0)
    }

    /// `witnessKey`'s cosignature on `note` if it carries a valid one for `checkpoint`.
    public static func find(
        in note: SignedNote, checkpoint: Checkpoint, witnessKey: CosignerVerifierKey
    )
        -> (signature: NoteSignature, timestamp: UInt64)?
    {
        guard let sig = note.signature(name: witnessKey.name, keyHash: witnessKey.keyHash) else { return nil }
        let result = verify(sig, checkpoint: checkpoint, witnessKey: witnessKey)
        return result.valid ? (sig, result.timestamp) : nil
    }
}
