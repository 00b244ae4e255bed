import Foundation
import GRDB
public import VaultAudit
public import VaultModel

/// Which records `forEachRecord` visits; `nil` means no restriction.
public struct RecordFilter: Sendable, Equatable {
    /// Only these schools.
    public var schools: [SchoolID]?
    /// Only these subjects.
    public var subjects: [String]?
    /// Only these terms (`""` matches records without a term).
    public var terms: [String]?

    /// Makes a filter.
    public init(schools: [SchoolID]? = nil, subjects: [String]? = nil, terms: [String]? = nil) {
        self.schools = schools
        self.subjects = subjects
        self.terms = terms
    }
}

/// One stored record as the aggregation layer sees it (no pseudonym).
public struct StoredRecord: Sendable {
    /// The SQLite rowid, the member id used in release member sets.
    public var rowID: Int64
    /// The school.
    public var schoolID: String
    /// The subject.
    public var subject: String
    /// Per-record attributes.
    public var attributes: [String: String]
    /// The ciphertext bytes.
    public var ciphertext: [UInt8]
}

/// A cell of a release, as inserted by the aggregation layer.
public struct ReleaseCell: Sendable, Equatable {
    /// The cell key (e.g. canonical JSON of the grouping values).
    public var key: String
    /// Records aggregated in the cell.
    public var recordCount: Int
    /// The member rowids, strictly increasing.
    public var members: [Int64]

    /// Makes a cell.
    public init(key: String, recordCount: Int, members: [Int64]) {
        self.key = key
        self.recordCount = recordCount
        self.members = members
    }
}

/// A cell released earlier, with its release id.
public struct ReleasedCell: Sendable, Equatable {
    /// The release it belongs to.
    public var releaseID: String
    /// The cell.
    public var cell: ReleaseCell

    /// Makes a released cell.
    public init(releaseID: String, cell: ReleaseCell) {
        self.releaseID = releaseID
        self.cell = cell
    }
}

/// Read access to earlier releases inside a release transaction (see `Vault.recordRelease`).
///
/// Valid only during the call it is handed to; not `Sendable`.
public struct PriorReleases {
    let db: Database

    /// Calls `body` with every earlier released cell, decoding member sets one at a time.
    public func forEachCell(_ body: (ReleasedCell) throws -> Void) throws {
        try Vault.forEachReleasedCell(db, body)
    }
}

extension Vault {
    /// The SELECT over `records` for a filter, parameterised (values never enter the SQL text), in rowid order.
    static func recordSelect(_ filter: RecordFilter) -> (sql: String, arguments: StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        func restrict(_ column: String, _ values: [String]?) {
            guard let values else { return }
            clauses.append(
                values.isEmpty
                    ? "0" : "\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ",")))")
            for value in values { _ = arguments.append(contentsOf: [value]) }
        }
        restrict("school_id", filter.schools?.map(\.rawValue))
        restrict("subject", filter.subjects)
        restrict("term", filter.terms)
        let whereClause = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        return ("SELECT rowid, school_id, subject, attrs, ciphertext FROM records" + whereClause + " ORDER BY rowid",
                arguments)
    }

    /// Calls `body` with every record matching `filter`, in rowid order, through a SQLite cursor (memory flat in the
    /// number of records). The read sees one consistent snapshot.
    ///
    /// - Throws: `.database`; errors thrown by `body` are wrapped as `.database` unless they are `StoreError`s.
    public func forEachRecord(
        matching filter: RecordFilter = RecordFilter(), _ body: (StoredRecord) throws -> Void
    ) throws(StoreError) {
        let (sql, arguments) = Vault.recordSelect(filter)
        do {
            try pool.read { db in
                let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
                while let row = try rows.next() {
                    let attrs: String = row["attrs"]
                    let ciphertext: Data = row["ciphertext"]
                    try body(
                        StoredRecord(
                            rowID: row["rowid"], schoolID: row["school_id"], subject: row["subject"],
                            attributes: try CanonicalJSON.decode(
                                [String: String].self, from: Array(attrs.utf8), what: "attrs"),
                            ciphertext: Array(ciphertext)))
                }
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// Stores a release, its cells and a `query.released` audit entry in one transaction.
    ///
    /// `check` runs first inside the same transaction with read access to earlier releases (for the differencing
    /// guard); if it throws, nothing is written and its error is rethrown unchanged.
    ///
    /// - Parameter details: pseudonymous audit details (query hash, cell count, rules applied); the release id and
    ///   cell count are added.
    /// - Throws: `StoreError.invalidRelease` for unsorted members or a reused release id, `.database`, or `check`'s
    ///   error.
    @discardableResult
    public func recordRelease(
        id: String, queryJSON: String, cells: [ReleaseCell], details: [String: String],
        check: ((PriorReleases) throws -> Void)? = nil
    ) throws -> AuditEntry {
        try recordRelease(id: id, queryJSON: queryJSON, cellsProvider: { cells }, details: details, check: check)
    }

    func recordRelease(
        id: String, queryJSON: String, cellsProvider: () -> [ReleaseCell], details: [String: String],
        check: ((PriorReleases) throws -> Void)?
    ) throws -> AuditEntry {
        do {
            return try pool.write { db in
                try check?(PriorReleases(db: db))
                let cells = cellsProvider()
                var encoded: [[UInt8]] = []
                for cell in cells { encoded.append(try MemberSet.encode(cell.members)) }
                var finalDetails = details
                finalDetails["release"] = id
                finalDetails["cells"] = String(cells.count)
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM releases WHERE id = ?", arguments: [id]) == nil else {
                    throw StoreError(.invalidRelease, "a release with this id already exists")
                }
                let entry = try AuditLog.append(db, kind: .queryReleased, details: finalDetails)
                try db.execute(
                    sql: "INSERT INTO releases (id, created, query, log_index) VALUES (?, ?, ?, ?)",
                    arguments: [id, entry.time, queryJSON, entry.index])
                let insert = try db.makeStatement(
                    sql: "INSERT INTO release_cells (release_id, cell_key, record_count, members) VALUES (?, ?, ?, ?)")
                for (cell, members) in zip(cells, encoded) {
                    try insert.execute(arguments: [id, cell.key, cell.recordCount, Data(members)])
                }
                return entry
            }
        } catch let error as DatabaseError {
            throw StoreError.wrap(error)
        }
    }

    /// Calls `body` with every released cell (member sets decoded one cell at a time).
    public func forEachReleasedCell(_ body: (ReleasedCell) throws -> Void) throws(StoreError) {
        do { try pool.read { db in try Vault.forEachReleasedCell(db, body) } } catch { throw StoreError.wrap(error) }
    }

    static func forEachReleasedCell(_ db: Database, _ body: (ReleasedCell) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT release_id, cell_key, record_count, members FROM release_cells ORDER BY release_id, cell_key")
        while let row = try rows.next() {
            let members: Data = row["members"]
            try body(
                ReleasedCell(
                    releaseID: row["release_id"],
                    cell: ReleaseCell(
                        key: row["cell_key"], recordCount: row["record_count"], members: try MemberSet.decode(members)))
            )
        }
    }
}
