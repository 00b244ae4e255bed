import Foundation
import GRDB
public import VaultAudit
import VaultModel

/// A chunk of records for the aggregation hot loop: parallel arrays plus the ciphertexts packed back to back at a
/// fixed width, so a summing thread walks one contiguous buffer.
public struct RecordChunk: Sendable {
    /// SQLite rowids, increasing.
    public var rowIDs: [Int64] = []
    /// School ids (shared strings; one per record).
    public var schoolIDs: [String] = []
    /// Subjects.
    public var subjects: [String] = []
    /// Per-record attributes, decoded once per distinct stored JSON text and shared.
    public var attributes: [[String: String]] = []
    /// Ciphertexts, `width` bytes each, in record order.
    public var ciphertexts: [UInt8] = []
    /// The ciphertext width.
    public var width: Int

    /// The number of records.
    public var count: Int { rowIDs.count }

    init(width: Int, capacity: Int) {
        self.width = width
        rowIDs.reserveCapacity(capacity)
        schoolIDs.reserveCapacity(capacity)
        subjects.reserveCapacity(capacity)
        attributes.reserveCapacity(capacity)
        ciphertexts.reserveCapacity(capacity * width)
    }
}

extension Vault {
    /// Streams the records matching `filter` in chunks of up to `chunkSize`, reading each ciphertext BLOB without
    /// an intermediate copy and decoding each distinct attribute JSON only once. Memory is bounded by one chunk
    /// plus the distinct attribute sets.
    ///
    /// - Throws: `.invalidRecord` if a stored ciphertext is not `width` bytes; `.database`; `body`'s errors.
    public func forEachRecordChunk(
        matching filter: RecordFilter = RecordFilter(), width: Int, chunkSize: Int = 4096,
        _ body: (RecordChunk) throws -> Void
    ) throws {
        let (sql, arguments) = Vault.recordSelect(filter)
        try pool.read { db in
            var decoded: [String: [String: String]] = [:]
            var interned: [String: String] = [:]
            func intern(_ s: String) -> String {
                if let existing = interned[s] { return existing }
                interned[s] = s
                return s
            }
            var chunk = RecordChunk(width: width, capacity: chunkSize)
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() {
                let attrsText: String = row[3]
                let attrs: [String: String]
                if let cached = decoded[attrsText] { attrs = cached } else {
                    attrs = try CanonicalJSON.decode([String: String].self, from: Array(attrsText.utf8), what: "attrs")
                    decoded[attrsText] = attrs
                }
                let ok = try row.withUnsafeData(atIndex: 4) { data -> Bool in
                    guard let data, data.count == width else { return false }
                    chunk.ciphertexts.append(contentsOf: data)
                    return true
                }
                guard ok else {
                    throw StoreError(.invalidRecord, "a stored ciphertext does not have the key's width; run `vault check`")
                }
                chunk.rowIDs.append(row[0])
                chunk.schoolIDs.append(intern(row[1]))
                chunk.subjects.append(intern(row[2]))
                chunk.attributes.append(attrs)
                if chunk.count >= chunkSize {
                    try body(chunk)
                    chunk = RecordChunk(width: width, capacity: chunkSize)
                }
            }
            if chunk.count > 0 { try body(chunk) }
        }
    }

    /// Stores a release whose cells are decided inside the write transaction: `decide` sees every earlier released
    /// cell (for the differencing guard) and returns the cells to store, so the guard and the insert are atomic.
    /// If `decide` throws, nothing is written and its error is rethrown unchanged.
    @discardableResult
    public func recordRelease(
        id: String, queryJSON: String, details: [String: String],
        decide: (PriorReleases) throws -> [ReleaseCell]
    ) throws -> AuditEntry {
        var decided: [ReleaseCell] = []
        return try withoutActuallyEscaping(decide) { decide in
            try recordRelease(id: id, queryJSON: queryJSON, cellsProvider: { decided }, details: details) { prior in
                decided = try decide(prior)
            }
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
