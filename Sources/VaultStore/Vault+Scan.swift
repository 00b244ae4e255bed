import Foundation
import GRDB
internal import GRDBSQLite
import VaultModel

/// A chunk of records for the aggregation hot loop: atom ids plus the ciphertexts packed back to back at a fixed
/// width, so a summing thread walks one contiguous buffer.
public struct RecordChunk: Sendable {
    /// Each record's atom id.
    public var atomIDs: [Int64] = []
    /// Ciphertexts, `width` bytes each, `perRecord` per record (ciphertext 0 first), in record order.
    public var ciphertexts: [UInt8] = []
    /// The width of one ciphertext.
    public var width: Int
    /// Ciphertexts per record: 1 for an ordinary scan; the schema's `MomentLayout.ciphertextCount` for a scan with
    /// `allCiphertexts`. Record i's ciphertext j starts at byte `(i · perRecord + j) · width`.
    public var perRecord: Int

    /// The number of records.
    public var count: Int { atomIDs.count }

    init(width: Int, capacity: Int, perRecord: Int = 1) {
        self.width = width
        self.perRecord = perRecord
        atomIDs.reserveCapacity(capacity)
        ciphertexts.reserveCapacity(capacity * width * perRecord)
    }
}

/// An atom: the records of one batch that share subject and attributes. No query can split one.
public struct Atom: Sendable, Equatable {
    /// The atom id (stable; atoms never change once their batch is stored).
    public var id: Int64
    /// The batch its records arrived in.
    public var batchID: String
    /// The school.
    public var schoolID: String
    /// The subject.
    public var subject: String
    /// The per-record attributes (term included).
    public var attributes: [String: String]
    /// The number of records.
    public var recordCount: Int
}

extension Vault {
    /// Every atom with stored records, by id (atoms of purged batches are history: LIN-AUDIT still counts them in
    /// the cells released before the purge, but no new cell includes them).
    ///
    /// - Throws: `.database`, or `.invalidRecord` for attributes that are not canonical JSON.
    public func atoms() throws(StoreError) -> [Atom] {
        do {
            return try pool.read { db in
                var decoded: [String: [String: String]] = [:]
                return try Row.fetchAll(
                    db, sql: """
                        SELECT id, batch_id, school_id, subject, attrs, record_count FROM atoms
                        WHERE batch_id NOT IN (SELECT batch_id FROM purged_batches) ORDER BY id
                        """
                ).map { row in
                    let text: String = row[4]
                    let attributes: [String: String]
                    if let cached = decoded[text] { attributes = cached } else {
                        attributes = try CanonicalJSON.decode([String: String].self, from: Array(text.utf8), what: "attrs")
                        decoded[text] = attributes
                    }
                    return Atom(id: row[0], batchID: row[1], schoolID: row[2], subject: row[3], attributes: attributes,
                                recordCount: row[5])
                }
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// Streams the records matching `filter` in chunks of up to `chunkSize`: atom ids and ciphertext bytes, read
    /// without an intermediate copy. Memory is bounded by one chunk.
    ///
    /// - Parameter allCiphertexts: also read each record's further ciphertexts (the covariate products of the
    ///   schema's `MomentLayout`, from `record_moments`); each chunk then has `perRecord` = the layout's ciphertext
    ///   count. Off (the default), only ciphertext 0 is read, from `records` alone, exactly as before covariates.
    /// - Throws: `.invalidRecord` if a stored ciphertext is not `width` bytes, a record lacks its further
    ///   ciphertexts or a record has no atom; `.database`; `body`'s errors.
    public func forEachRecordChunk(
        matching filter: RecordFilter = RecordFilter(), width: Int, chunkSize: Int = 4096, allCiphertexts: Bool = false,
        _ body: (RecordChunk) throws -> Void
    ) throws {
        var perRecord = 1
        if allCiphertexts {
            do { perRecord = try descriptor.schema.momentLayout(keyBits: descriptor.keyBits).ciphertextCount } catch {
                throw StoreError(.invalidRecord, "the vault's schema has no valid product layout: \(error.message)")
            }
        }
        let moments = perRecord > 1
        let (sql, arguments) = Vault.recordSelect(
            filter,
            columns: moments
                ? "atom_id, ciphertext, (SELECT ciphertexts FROM record_moments WHERE record_id = records.rowid)"
                : "atom_id, ciphertext")
        let extraBytes = (perRecord - 1) * width
        try pool.read { db in
            var chunk = RecordChunk(width: width, capacity: chunkSize, perRecord: perRecord)
            let statement = try db.makeStatement(sql: sql)
            let rows = try Row.fetchCursor(statement, arguments: arguments)
            // GRDB steps the statement and reports its errors; the columns are read straight from SQLite, with
            // no `Data` (an allocation) per row. `sqlite3_column_blob`'s bytes stay valid until the next step.
            let stmt = statement.sqliteStatement
            while try rows.next() != nil {
                guard sqlite3_column_type(stmt, 0) == SQLITE_INTEGER else {
                    throw StoreError(.invalidRecord, "a stored record has no atom; run `vault check`")
                }
                let atom = sqlite3_column_int64(stmt, 0)
                let blob = sqlite3_column_type(stmt, 1) == SQLITE_BLOB ? sqlite3_column_blob(stmt, 1) : nil
                guard let blob, Int(sqlite3_column_bytes(stmt, 1)) == width else {
                    throw StoreError(.invalidRecord, "a stored ciphertext does not have the key's width; run `vault check`")
                }
                chunk.ciphertexts.append(contentsOf: UnsafeRawBufferPointer(start: blob, count: width))
                if moments {
                    let extra = sqlite3_column_type(stmt, 2) == SQLITE_BLOB ? sqlite3_column_blob(stmt, 2) : nil
                    guard let extra, Int(sqlite3_column_bytes(stmt, 2)) == extraBytes else {
                        throw StoreError(
                            .invalidRecord,
                            "a stored record lacks its covariate ciphertexts or they have the wrong size; run `vault check`")
                    }
                    chunk.ciphertexts.append(contentsOf: UnsafeRawBufferPointer(start: extra, count: extraBytes))
                }
                chunk.atomIDs.append(atom)
                if chunk.count >= chunkSize {
                    try body(chunk)
                    chunk = RecordChunk(width: width, capacity: chunkSize, perRecord: perRecord)
                }
            }
            if chunk.count > 0 { try body(chunk) }
        }
    }
}

extension Vault {
    /// The number of stored records (an upper bound for any cell, used to rule out slot overflow up front).
    public func recordCount() throws(StoreError) -> Int {
        do { return try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM records") ?? 0 } } catch {
            throw StoreError.wrap(error)
        }
    }
}
