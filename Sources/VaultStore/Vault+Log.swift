import Foundation
import GRDB
public import Primitives
public import VaultAudit
import VaultModel

/// The vault's log signing key: an Ed25519 key in a 0600 file `log-key.private` in the vault directory, in the
/// signed-note signer format `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`. Its verifier key goes into
/// `descriptor.json`; auditors pin it.
public enum LogKey {
    /// The file name inside the vault directory.
    public static let fileName = "log-key.private"

    /// The log's name (the checkpoints' origin line) for a vault.
    public static func origin(vaultID: String) -> String { "eduvault/\(vaultID)" }

    /// A new key for a vault's log.
    public static func generate(vaultID: String) throws(StoreError) -> Ed25519.PrivateKey {
        do { return try Ed25519.PrivateKey() } catch {
            throw StoreError(.io, "cannot generate the log key: \(error.message)")
        }
    }

    /// The signer-key file text for a key named `name`.
    public static func encode(name: String, privateKey: Ed25519.PrivateKey) -> String {
        let key = NoteSigner(name: name, privateKey: privateKey).verifierKey
        return "PRIVATE+KEY+\(name)+\(String(format: "%08x", key.keyHash))+"
            + Data([1] + privateKey.rawRepresentation).base64EncodedString() + "\n"
    }

    /// Parses a signer-key file.
    ///
    /// - Throws: `.io` naming the file for anything malformed.
    public static func decode(_ text: String) throws(StoreError) -> NoteSigner {
        let bad = StoreError(.io, "\(fileName) is not a log signing key")
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.count <= 512, line.hasPrefix("PRIVATE+KEY+") else { throw bad }
        // The name and hash contain no "+"; the base64 key may.
        let parts = line.dropFirst("PRIVATE+KEY+".count).split(
            separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let raw = Data(base64Encoded: String(parts[2])), raw.count == 33, raw.first == 1 else {
            throw bad
        }
        do {
            let signer = NoteSigner(
                name: String(parts[0]), privateKey: try Ed25519.PrivateKey(rawRepresentation: Array(raw.dropFirst())))
            guard String(format: "%08x", signer.verifierKey.keyHash) == parts[1] else { throw bad }
            return signer
        } catch { throw bad }
    }

    /// Writes a new key file (0600) into `directory`; refuses to replace one. Returns the signer.
    static func write(name: String, privateKey: Ed25519.PrivateKey, in directory: URL) throws(StoreError) -> NoteSigner
    {
        do {
            try AtomicFile.write(
                Data(encode(name: name, privateKey: privateKey).utf8),
                to: directory.appendingPathComponent(fileName), mode: 0o600, overwrite: false)
        } catch { throw StoreError(.io, "cannot write the log key: \(error.description)") }
        return NoteSigner(name: name, privateKey: privateKey)
    }

    /// Reads the key file of a vault directory, if there is one.
    static func read(in directory: URL) throws(StoreError) -> NoteSigner? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let data = FileManager.default.contents(atPath: url.path), data.count <= 4096 else {
            throw StoreError(.io, "cannot read \(fileName)")
        }
        return try decode(String(decoding: data, as: UTF8.self))
    }
}

extension Vault {
    /// A write transaction whose new audit entries are added to the log's Merkle tree and covered by a checkpoint
    /// signed inside the same transaction: a checkpoint never covers an uncommitted entry, and every committed
    /// write leaves a signed checkpoint of the whole log.
    func writeLogged<T>(_ body: (Database) throws -> T) throws -> T {
        guard logSigner != nil else {
            throw StoreError(
                .io,
                "\(LogKey.fileName) is missing from the vault directory: the vault cannot sign its log, "
                    + "so it accepts no writes (restore the file from backup)")
        }
        return try pool.write { db in
            let result = try body(db)
            try Vault.sealLog(db, signer: logSigner)
            return result
        }
    }

    /// Appends the entries after the tree's size to the compact range and the stored perfect subtrees, then signs
    /// a checkpoint of the new size. O(log n) per entry.
    static func sealLog(_ db: Database, signer: NoteSigner?) throws {
        var size: Int64 = 0
        var range = CompactMerkleRange()
        if let row = try Row.fetchOne(db, sql: "SELECT size, range FROM log_state WHERE id = 1") {
            size = row[0]
            range = try JSONDecoder().decode(CompactMerkleRange.self, from: row[1] as Data)
            guard range.size == size else {
                throw StoreError(.audit, "the stored log tree is inconsistent; run `vault check`")
            }
        }
        let insertNode = try db.makeStatement(
            sql: "INSERT OR REPLACE INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)")
        let entries = try Row.fetchCursor(
            db, sql: "SELECT idx, hash FROM audit_log WHERE idx > ? ORDER BY idx",
            arguments: [size])
        var appended = false
        while let row = try entries.next() {
            let index: Int64 = row[0]
            guard index == size + 1, let hash = Hex.decode(row[1] as String), hash.count == 32 else {
                throw StoreError(.audit, "audit entry \(index) cannot be added to the log tree; run `vault check`")
            }
            for node in range.append(leafHash: MerkleTree.leafHash(hash)) {
                try insertNode.execute(arguments: [node.level, node.index, Data(node.hash)])
            }
            size = index
            appended = true
        }
        guard appended else { return }
        try db.execute(
            sql:
                "INSERT INTO log_state (id, size, range) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET size = excluded.size, range = excluded.range",
            arguments: [size, try JSONEncoder().encode(range)])
        guard let signer else { return }
        let note = try Checkpoint(origin: signer.name, size: size, rootHash: range.root()).signedNote(signers: [signer])
        try db.execute(
            sql: "INSERT OR REPLACE INTO checkpoints (size, note, created) VALUES (?, ?, ?)",
            arguments: [size, note.encoded, Timestamp.now()])
    }

    /// The latest signed checkpoint, with its stored cosignature lines appended (as served to bureaus).
    public func latestCheckpointNote() throws(StoreError) -> String? {
        do {
            return try pool.read { db in
                guard
                    let row = try Row.fetchOne(db, sql: "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
                else { return nil }
                let size: Int64 = row[0]
                let lines = try String.fetchAll(
                    db, sql: "SELECT line FROM cosignatures WHERE size = ? ORDER BY witness",
                    arguments: [size])
                let note: String = row[1]
                return lines.isEmpty ? note : note + lines.map { $0 + "\n" }.joined()
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// Stores a witness's cosignature line for the checkpoint of `size` (after checking it verifies).
    public func addCosignature(size: Int64, witness: CosignerVerifierKey, line: String) throws(StoreError) {
        let refused = StoreError(.invalidRelease, "the cosignature does not verify for the checkpoint of size \(size)")
        do {
            try pool.write { db in
                // The line parses as one more signature line of the checkpoint's note.
                guard
                    let note = try String.fetchOne(
                        db, sql: "SELECT note FROM checkpoints WHERE size = ?", arguments: [size]),
                    !line.contains("\n"), let parsed = try? SignedNote(parsing: note + line + "\n")
                else { throw refused }
                _ = try Self.storeCosignatures(db, from: parsed, witness: witness, refused: refused)
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// Stores the cosignatures a witness handed over as a cosigned checkpoint (what `audit cosign --out` writes: the
    /// vault's signed checkpoint with the witness's line added).
    ///
    /// The checkpoint must be one this vault signed (its text byte for byte, at its size). With `witness`, its
    /// cosignature must verify and only it is stored (replacing an earlier one of that witness). Without, every line
    /// the vault's note lacks is stored if it is a well-formed tlog-cosignature (72 bytes: a timestamp ≤ 2^63 − 1 and
    /// an Ed25519 signature); it cannot be verified here, bureaus verify it with the witness keys they trust, and it
    /// does not replace a line already stored for that witness name.
    ///
    /// - Returns: the checkpoint's size and the names of the witnesses stored.
    /// - Throws: `.invalidRelease` with one line for a note that does not parse, a checkpoint this vault did not sign,
    ///   no cosignature, a malformed or unverifiable one.
    public func addCosignatures(note text: String, witness: CosignerVerifierKey?) throws(StoreError) -> (size: Int64, witnesses: [String]) {
        guard let note = try? SignedNote(parsing: text), let checkpoint = try? Checkpoint(parsing: note.text) else {
            throw StoreError(.invalidRelease, "not a cosigned checkpoint (a C2SP signed note, as `audit cosign --out` writes)")
        }
        do {
            return try pool.write { db in
                guard let stored = try String.fetchOne(
                          db, sql: "SELECT note FROM checkpoints WHERE size = ?", arguments: [checkpoint.size]),
                      let vaultNote = try? SignedNote(parsing: stored), Array(vaultNote.text.utf8) == Array(note.text.utf8)
                else {
                    throw StoreError(.invalidRelease, "the checkpoint of size \(checkpoint.size) is not one this vault signed")
                }
                let refused = StoreError(.invalidRelease, "the cosignature does not verify for the checkpoint of size \(checkpoint.size)")
                let names = try Self.storeCosignatures(db, from: note, witness: witness, except: vaultNote, refused: refused)
                return (checkpoint.size, names)
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// The one path that writes cosignatures: `witness`'s verified line of `note`, or (without a key) every
    /// well-formed cosignature line of `note` not in `except`.
    static func storeCosignatures(
        _ db: Database, from note: SignedNote, witness: CosignerVerifierKey?, except vaultNote: SignedNote? = nil,
        refused: StoreError
    ) throws -> [String] {
        guard let checkpoint = try? Checkpoint(parsing: note.text) else { throw refused }
        if let witness {
            guard let signature = note.signature(name: witness.name, keyHash: witness.keyHash),
                  Cosignature.verify(signature, checkpoint: checkpoint, witnessKey: witness).valid
            else { throw refused }
            try db.execute(
                sql: "INSERT OR REPLACE INTO cosignatures (size, witness, line) VALUES (?, ?, ?)",
                arguments: [checkpoint.size, witness.name, signature.line])
            return [witness.name]
        }
        let added = note.signatures.filter { signature in
            vaultNote?.signature(name: signature.name, keyHash: signature.keyHash) == nil
        }
        guard !added.isEmpty else {
            throw StoreError(.invalidRelease, "the note carries no cosignature besides the vault's own signature")
        }
        for signature in added {
            let timestamp = signature.signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard signature.signature.count == 72, timestamp <= UInt64(Int64.max) else {
                throw StoreError(.invalidRelease, "the signature of \(signature.name) is not a tlog-cosignature (8-byte time, Ed25519)")
            }
            let exists = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM cosignatures WHERE size = ? AND witness = ?",
                arguments: [checkpoint.size, signature.name]) ?? false
            guard !exists else {
                throw StoreError(.invalidRelease,
                    "a cosignature of \(signature.name) is already stored for size \(checkpoint.size); give --witness to replace it with one verified")
            }
            try db.execute(
                sql: "INSERT INTO cosignatures (size, witness, line) VALUES (?, ?, ?)",
                arguments: [checkpoint.size, signature.name, signature.line])
        }
        return added.map(\.name)
    }
}

/// The log's stored perfect subtrees, as a node source for O(log n) proofs.
struct StoredLogNodes: MerkleNodeSource {
    let db: Database

    func nodeHash(level: Int, index: Int64) throws -> [UInt8] {
        guard
            let hash = try Data.fetchOne(
                db, sql: "SELECT hash FROM log_nodes WHERE level = ? AND idx = ?",
                arguments: [level, index]), hash.count == 32
        else { throw AuditError(.nodeUnavailable, "the log has no stored subtree at level \(level), index \(index)") }
        return Array(hash)
    }
}

extension Vault {
    /// The audit path of entry `index` (1-based, as the log numbers entries) in the tree of `size` entries, from the
    /// stored subtree hashes: O(log n) hashes, nothing recomputed (RFC 9162 §2.1.3).
    ///
    /// - Throws: `.audit` when the sizes are out of range or a subtree is missing.
    public func inclusionProof(entry index: Int64, size: Int64) throws(StoreError) -> [[UInt8]] {
        do {
            return try pool.read { db in
                try MerkleProofs.inclusionProof(index: index - 1, size: size, nodes: StoredLogNodes(db: db))
            }
        } catch { throw StoreError(.audit, "no inclusion proof: \(error)") }
    }

    /// The consistency proof between the trees of `size1` and `size2` entries, from the stored subtree hashes
    /// (RFC 9162 §2.1.4).
    public func consistencyProof(from size1: Int64, to size2: Int64) throws(StoreError) -> [[UInt8]] {
        do {
            return try pool.read { db in
                try MerkleProofs.consistencyProof(from: size1, to: size2, nodes: StoredLogNodes(db: db))
            }
        } catch { throw StoreError(.audit, "no consistency proof: \(error)") }
    }
}

extension Vault {
    /// Signs a release this vault makes with its log key (``ReleaseSignature``): `canonical` is the release's canonical
    /// encoding without its signature.
    ///
    /// - Throws: `.io` when the vault has no log key (it then accepts no writes either) or signing fails.
    public func signRelease(_ canonical: [UInt8]) throws(StoreError) -> String {
        guard let logSigner else {
            throw StoreError(.io, "\(LogKey.fileName) is missing from the vault directory: the vault cannot sign a release")
        }
        do { return try ReleaseSignature.sign(canonical, with: logSigner) } catch {
            throw StoreError(.io, "cannot sign the release: \(error.message)")
        }
    }

}
