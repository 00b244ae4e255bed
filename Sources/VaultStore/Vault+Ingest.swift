public import Foundation
import GRDB
import Primitives
import VaultAudit
public import VaultModel

extension Vault {
    /// Ingests a school's batch file in one streaming pass; all or nothing.
    ///
    /// 1. Hashes the file once (everything before the trailer line); a batch already stored under that hash
    ///    returns its original receipt with `alreadyStored = true` and writes nothing.
    /// 2. Inside one write transaction: checks the header (registered school, this vault, this key id, this
    ///    schema), streams the records into the table (each ciphertext through `validateCiphertext` — ciphertext 0
    ///    and every further ciphertext the schema's `MomentLayout` asks for, no more and no fewer —, subject and
    ///    attributes against the schema, duplicates within the batch or against stored data refused), verifies
    ///    the trailer hash and the signature under the school's registered key, then writes the batch row and the
    ///    `batch.ingested` audit entry and commits.
    /// 3. On any refusal the transaction rolls back, a `batch.refused` entry (reason code, school id if known,
    ///    content hash if known, line) is appended in its own transaction, and the error is thrown.
    ///
    /// Complexity: O(N) time, memory flat in N.
    /// - Parameter validateCiphertext: checks one ciphertext's encoding (range, width, gcd); any error refuses the
    ///   batch with `.invalidCiphertext`.
    /// - Throws: a `StoreError` whose `isBatchRefusal` is true for refusals; `.io`, `.database`, `.audit` otherwise.
    public func ingest(
        batchAt url: URL, validateCiphertext: ([UInt8]) throws -> Void, finishValidation: () throws -> Void = {}
    ) throws(StoreError) -> Receipt {
        var context: [String: String] = [:]
        do {
            let contentHash: [UInt8]
            let trailerLine: [UInt8]
            let lines: Int
            do { (contentHash, trailerLine, lines) = try BatchReader.contentHashAndTrailer(of: url) } catch {
                throw StoreError.refusal(error)
            }
            let hashHex = Hex.encode(contentHash)
            context["batch"] = hashHex
            // The signature line first: a copy cut short, or stripped of its trailer, is named as such rather than
            // by whatever its records trip over (a re-sent batch's records are all duplicates).
            guard let trailer = try? JSONDecoder().decode(BatchTrailer.self, from: Data(trailerLine)) else {
                throw StoreError(
                    .badSignature, "the batch's last line is not its signature line: the file was cut short or never "
                        + "signed", line: lines)
            }
            guard trailer.sha256 == hashHex else {
                throw StoreError(
                    .hashMismatch, "the batch's content is not what its signature line covers (changed after signing, "
                        + "or cut short)", line: lines)
            }
            if let receipt = try pool.read({ db in try Vault.storedReceipt(db, batchID: hashHex) }) {
                // A re-sent batch verifies like a new one before it gets the original receipt: the lookup key
                // covers only the content, so a copy with its trailer or signature cut off must not pass.
                try verifyResent(url, contentHash: contentHash, receipt: receipt)
                return receipt
            }
            let reader: BatchReader
            do { reader = try BatchReader(url: url) } catch { throw StoreError.refusal(error) }
            if (try? SchoolID(reader.header.school)) != nil { context["school"] = reader.header.school }
            let fileHash = try Vault.fileSHA256(url)
            return try writeLogged { db in
                try ingest(
                    db, reader: reader, contentHash: contentHash, fileHash: fileHash, validateCiphertext: validateCiphertext,
                    finishValidation: finishValidation)
            }
        } catch {
            let storeError = StoreError.wrap(error)
            guard storeError.isBatchRefusal else { throw storeError }
            context["reason"] = storeError.code.rawValue
            if let line = storeError.line { context["line"] = String(line) }
            let details = context
            do { _ = try writeLogged { db in try AuditLog.append(db, kind: .batchRefused, details: details) } } catch {
                throw StoreError.wrap(error)
            }
            throw storeError
        }
    }

    private func ingest(
        _ db: Database, reader: BatchReader, contentHash: [UInt8], fileHash: [UInt8], validateCiphertext: ([UInt8]) throws -> Void,
        finishValidation: () throws -> Void
    ) throws -> Receipt {
        let batchID = Hex.encode(contentHash)
        if let receipt = try Vault.storedReceipt(db, batchID: batchID) { return receipt }
        let header = reader.header
        guard let school = try Vault.school(db, id: header.school) else {
            throw StoreError(
                .unknownSchool, "the batch names a school that is not registered; register it first", line: 1)
        }
        guard try !Vault.isRevoked(db, school: header.school) else {
            throw StoreError(.revokedSchool, "the school's key was revoked; its batches are no longer accepted", line: 1)
        }
        guard header.vault == descriptor.vaultID else {
            throw StoreError(.wrongVault, "the batch is meant for another vault", line: 1)
        }
        guard header.keyID == descriptor.keyID else {
            throw StoreError(
                .wrongKey, "the batch was encrypted under another key; re-encrypt under key \(descriptor.keyID)",
                line: 1)
        }
        guard header.schemaHash == (try descriptor.schema.schemaHash) else {
            throw StoreError(.wrongSchema, "the batch follows another schema; fetch this vault's descriptor", line: 1)
        }
        let schema = descriptor.schema
        let extraCount: Int
        do { extraCount = try schema.momentLayout(keyBits: descriptor.keyBits).ciphertextCount - 1 } catch {
            throw StoreError(.invalidRecord, "the vault's schema has no valid product layout: \(error.message)")
        }
        let insertMoments = try db.makeStatement(
            sql: "INSERT INTO record_moments (record_id, ciphertexts) VALUES (?, ?)")
        let insert = try db.makeStatement(
            sql: """
                INSERT INTO records (batch_id, school_id, pseudonym, subject, attrs, term, ciphertext, atom_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let insertAtom = try db.makeStatement(
            sql: "INSERT INTO atoms (batch_id, school_id, subject, attrs, record_count) VALUES (?, ?, ?, ?, 0)")
        // Atoms of this batch, keyed by subject and canonical attributes: (id, records, positions of their leaves).
        var atoms: [String: (id: Int64, count: Int, leaves: [Int])] = [:]
        var leaves: [[UInt8]] = []
        while let record = try nextRecord(reader) {
            let line = reader.lineNumber
            let subject = try? schema.normalizeSubject(record.subject)
            guard subject == record.subject else {
                throw StoreError(.invalidRecord, "the subject is not a canonical subject of the schema", line: line)
            }
            let attributes: [String: String]
            do { attributes = try schema.normalizeAttributes(record.attributes) } catch {
                throw StoreError(.invalidRecord, error.message, line: line)
            }
            guard attributes == record.attributes else {
                throw StoreError(
                    .invalidRecord, "attribute values must be spelled as the schema declares them", line: line)
            }
            do { try validateCiphertext(record.ciphertext) } catch {
                throw StoreError(.invalidCiphertext, "the ciphertext was rejected: \(error)", line: line)
            }
            // A record carries exactly the ciphertexts of the schema's product layout, each checked like the first.
            guard record.extraCiphertexts.count == extraCount else {
                throw StoreError(
                    .invalidCiphertext,
                    "the record carries \(1 + record.extraCiphertexts.count) ciphertexts; this vault's schema needs "
                        + "\(1 + extraCount)", line: line)
            }
            for (index, extra) in record.extraCiphertexts.enumerated() {
                do { try validateCiphertext(extra) } catch {
                    throw StoreError(.invalidCiphertext, "ciphertext \(index + 1) was rejected: \(error)", line: line)
                }
            }
            let attrsText = try CanonicalJSON.string(attributes)
            let atomKey = record.subject + "\u{1F}" + attrsText
            let atomID: Int64
            let leaf = try RecordLeaf.data(pseudonym: record.pseudonym.bytes, subject: record.subject,
                                           canonicalAttributes: attrsText, ciphertext: record.allCiphertextBytes)
            if atoms[atomKey] == nil {
                try insertAtom.execute(arguments: [batchID, header.school, record.subject, attrsText])
                atoms[atomKey] = (db.lastInsertedRowID, 0, [])
            }
            atomID = atoms[atomKey]!.id  // safe: set just above
            atoms[atomKey]!.count += 1  // safe: set just above
            atoms[atomKey]!.leaves.append(leaves.count)  // safe: set just above
            leaves.append(leaf)
            do {
                try insert.execute(arguments: [
                    batchID, header.school, Data(record.pseudonym.bytes), record.subject, attrsText,
                    attributes["term"] ?? "", Data(record.ciphertext), atomID,
                ])
                if !record.extraCiphertexts.isEmpty {
                    try insertMoments.execute(arguments: [db.lastInsertedRowID, Data(record.extraCiphertexts.joined())])
                }
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                throw StoreError(
                    .duplicateRecord,
                    "a record for this student, subject and term is already stored or appears earlier in the batch",
                    line: line)
            }
        }
        do { try finishValidation() } catch {
            throw StoreError(.invalidCiphertext, "the batch's ciphertexts were rejected: \(error)")
        }
        try Vault.verifyTrailer(reader, signedBy: school, contentHash: contentHash)
        try db.execute(sql: "INSERT INTO batch_leaves (batch_id, leaves) VALUES (?, ?)",
                       arguments: [batchID, Data(leaves.joined())])
        let countAtom = try db.makeStatement(sql: "UPDATE atoms SET record_count = ?, digest = ? WHERE id = ?")
        for atom in atoms.values {
            try countAtom.execute(arguments: [atom.count, Data(RecordLeaf.digest(atom.leaves.map { leaves[$0] })), atom.id])
        }
        let received = Timestamp.now()
        // The entry binds the batch: the whole file's SHA-256, the school's signature over its content hash, and
        // the RFC 6962 root over its record leaves.
        let entry = try AuditLog.append(
            db, kind: .batchIngested,
            details: [
                "batch": batchID, "school": header.school, "records": String(header.records),
                "file_sha256": Hex.encode(fileHash), "signature": reader.trailer?.sig ?? "",
                "record_root": Hex.encode(MerkleTree.root(leaves)),
            ])
        try db.execute(
            sql: """
                INSERT INTO batches (id, school_id, record_count, log_index, received, header)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                batchID, header.school, header.records, entry.index, received, try CanonicalJSON.string(header),
            ])
        return Receipt(
            batchID: batchID, schoolID: school.id, recordCount: header.records, contentHash: batchID,
            logIndex: entry.index, receivedAt: received, alreadyStored: false)
    }

    /// SHA-256 of a whole file, read in 1 MiB chunks.
    static func fileSHA256(_ url: URL) throws(StoreError) -> [UInt8] {
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw StoreError(.io, "cannot read the batch file")
        }
        defer { try? handle.close() }
        var hasher = SHA256Hasher()
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch { throw StoreError(.io, "cannot read the batch file") }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(chunk)
        }
        return hasher.finalize()
    }

    /// Reads a re-sent batch to the end and checks its trailer hash and signature under the registered key of the
    /// school that sent the stored copy.
    private func verifyResent(_ url: URL, contentHash: [UInt8], receipt: Receipt) throws {
        let reader: BatchReader
        do { reader = try BatchReader(url: url) } catch { throw StoreError.refusal(error) }
        while try nextRecord(reader) != nil {}
        guard let school = try pool.read({ db in try Vault.school(db, id: receipt.schoolID.rawValue) }) else {
            throw StoreError(.unknownSchool, "the batch's school is no longer registered")
        }
        try Vault.verifyTrailer(reader, signedBy: school, contentHash: contentHash)
    }

    /// Checks a fully read batch's trailer: the signature under the school's registered key, and that the content
    /// hashed while reading is the content hashed before (the file did not change in between).
    private static func verifyTrailer(_ reader: BatchReader, signedBy school: SchoolInfo, contentHash: [UInt8]) throws {
        let publicKey: Ed25519.PublicKey
        do { publicKey = try Ed25519.PublicKey(rawRepresentation: school.signingPublicKey) } catch {
            throw StoreError(.badSignature, "the school's registered key is not a valid Ed25519 key")
        }
        do { try reader.verify(publicKey: publicKey) } catch { throw StoreError.refusal(error) }
        guard reader.contentHash == contentHash else {
            throw StoreError(.changedDuringIngest, "the file changed while it was being read; send it again")
        }
    }

    private func nextRecord(_ reader: BatchReader) throws -> BatchRecord? {
        do { return try reader.nextRecord() } catch { throw StoreError.refusal(error) }
    }

    static func storedReceipt(_ db: Database, batchID: String) throws -> Receipt? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM batches WHERE id = ?", arguments: [batchID]) else {
            return nil
        }
        return Receipt(
            batchID: row["id"], schoolID: try SchoolID(row["school_id"]), recordCount: row["record_count"],
            contentHash: row["id"], logIndex: row["log_index"], receivedAt: row["received"], alreadyStored: true)
    }

    /// The receipt of a stored batch (with `alreadyStored = true`), or nil.
    public func receipt(batchID: String) throws(StoreError) -> Receipt? {
        do { return try pool.read { db in try Vault.storedReceipt(db, batchID: batchID) } } catch {
            throw StoreError.wrap(error)
        }
    }
}
