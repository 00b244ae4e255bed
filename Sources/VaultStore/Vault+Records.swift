import Foundation
import GRDB
import Primitives
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

/// A cell of a release, as stored: its key, its size and its atoms.
public struct ReleaseCell: Sendable, Equatable {
    /// The cell key (the grouping values joined by U+001F).
    public var key: String
    /// Records aggregated in the cell.
    public var recordCount: Int
    /// The atom ids the cell covers, strictly increasing. The cell's member set is exactly their records.
    public var atoms: [Int64]

    /// Makes a cell.
    public init(key: String, recordCount: Int, atoms: [Int64]) {
        self.key = key
        self.recordCount = recordCount
        self.atoms = atoms
    }
}

/// A cell released earlier, with its release.
public struct ReleasedCell: Sendable, Equatable {
    /// The release it belongs to.
    public var releaseID: String
    /// The release's audit log index.
    public var logIndex: Int64
    /// The cell.
    public var cell: ReleaseCell

    /// Makes a released cell.
    public init(releaseID: String, logIndex: Int64, cell: ReleaseCell) {
        self.releaseID = releaseID
        self.logIndex = logIndex
        self.cell = cell
    }
}

/// The stored state of the linear audit (opaque to the store) and what it covers.
public struct StoredAuditState: Sendable, Equatable {
    /// The minimum cell size the state was built for.
    public var k: Int
    /// The prime the state computes modulo.
    public var prime: UInt64
    /// Releases the state covers, and the log index of the last one (0 when none).
    public var releases: Int
    public var lastLogIndex: Int64
    /// The serialized state.
    public var bytes: [UInt8]

    /// Makes a state record.
    public init(k: Int, prime: UInt64, releases: Int, lastLogIndex: Int64, bytes: [UInt8]) {
        self.k = k
        self.prime = prime
        self.releases = releases
        self.lastLogIndex = lastLogIndex
        self.bytes = bytes
    }
}

/// What the aggregation layer decided inside a release transaction.
public struct ReleaseDecision: Sendable {
    /// The cells to release, in the order the audit admitted them.
    public var cells: [ReleaseCell]
    /// Extra pseudonymous audit details (rules applied, suppression counts).
    public var details: [String: String]
    /// The linear audit's state after this release, or nil to leave the stored one as it is.
    public var auditState: StoredAuditState?
    /// The zCDP budget this release spends, in units of 10⁻⁹ (0 for exact releases).
    public var privacyCostNano: Int64

    /// Makes a decision.
    public init(cells: [ReleaseCell], details: [String: String] = [:], auditState: StoredAuditState? = nil,
                privacyCostNano: Int64 = 0) {
        self.cells = cells
        self.details = details
        self.auditState = auditState
        self.privacyCostNano = privacyCostNano
    }
}

/// Read access to earlier releases inside a release transaction (see `Vault.recordRelease`).
///
/// Valid only during the call it is handed to; not `Sendable`.
public struct PriorReleases {
    let db: Database

    /// Calls `body` with every earlier released cell in release order (log index, then cell order).
    public func forEachCell(_ body: (ReleasedCell) throws -> Void) throws {
        try Vault.forEachReleasedCell(db, body)
    }

    /// The number of earlier releases and the log index of the last one (0 when none).
    public func releaseCount() throws -> (count: Int, lastLogIndex: Int64) {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(MAX(log_index), 0) FROM releases")
        return (row?[0] ?? 0, row?[1] ?? 0)
    }

    /// The stored linear-audit state, if any.
    public func auditState() throws -> StoredAuditState? {
        try Vault.auditState(db)
    }

    /// The zCDP budget spent by earlier releases, in units of 10⁻⁹.
    public func privacySpentNano() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(dp_rho_nano), 0) FROM releases") ?? 0
    }

    /// Records per atom, for the given atom ids (unknown ids are absent from the result).
    public func atomSizes(_ ids: some Sequence<Int64>) throws -> [Int64: Int] {
        let wanted = Set(ids)
        var out: [Int64: Int] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT id, record_count FROM atoms")
        while let row = try rows.next() {
            let id: Int64 = row[0]
            if wanted.contains(id) { out[id] = row[1] }
        }
        return out
    }
}

extension Vault {
    /// The SELECT over `records` for a filter, parameterised (values never enter the SQL text), in rowid order.
    static func recordSelect(
        _ filter: RecordFilter, columns: String = "rowid, school_id, subject, attrs, ciphertext"
    ) -> (sql: String, arguments: StatementArguments) {
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
        return ("SELECT \(columns) FROM records" + whereClause + " ORDER BY rowid",
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

    /// Stores a release whose cells are decided inside the write transaction, its audit entry, the audit state and
    /// the privacy budget it spends, all in one transaction.
    ///
    /// 1. `decide` sees every earlier release (``PriorReleases``) and returns the cells to store; so the
    ///    disclosure checks and the insert are atomic.
    /// 2. `seal` gets the log index and time the release's entry will have, builds the release, hands it over (a
    ///    caller writes and fsyncs the release file there, so a release is never recorded unless it can be handed
    ///    over) and returns details that bind it (its SHA-256).
    /// 3. The `query.released` entry is appended with `details`, the decision's and the seal's details, the release
    ///    id, the cell count, each cell's record count and member digest (SHA-256 over its atoms' digests in atom-id
    ///    order), then the release rows.
    ///
    /// If `decide` or `seal` throws, nothing is written and the error is rethrown unchanged.
    ///
    /// - Throws: `StoreError.invalidRelease` for unsorted atoms or a reused release id, `.database`, or the
    ///   closures' errors.
    @discardableResult
    public func recordRelease(
        id: String, queryJSON: String, details: [String: String],
        decide: (PriorReleases) throws -> ReleaseDecision,
        seal: (_ logIndex: Int64, _ time: String, ReleaseDecision) throws -> [String: String] = { _, _, _ in [:] }
    ) throws -> AuditEntry {
        try recordRelease(id: id, queryJSON: queryJSON, details: details, decide: decide, sealStoring: {
            (try seal($0, $1, $2), nil)
        })
    }

    /// `recordRelease(id:queryJSON:details:decide:seal:)` whose `sealStoring` also returns the release file's bytes,
    /// stored with the release in the same transaction (`releaseFile(id:)` serves them again).
    @discardableResult
    public func recordRelease(
        id: String, queryJSON: String, details: [String: String],
        decide: (PriorReleases) throws -> ReleaseDecision,
        sealStoring: (_ logIndex: Int64, _ time: String, ReleaseDecision) throws -> (details: [String: String], file: [UInt8]?)
    ) throws -> AuditEntry {
        do {
            return try writeLogged { db in
                let decision = try decide(PriorReleases(db: db))
                var encoded: [[UInt8]] = []
                for cell in decision.cells { encoded.append(try MemberSet.encode(cell.atoms)) }
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM releases WHERE id = ?", arguments: [id]) == nil else {
                    throw StoreError(.invalidRelease, "a release with this id already exists")
                }
                let index = try AuditLog.nextIndex(db)
                let time = Timestamp.now()
                let (sealed, file) = try sealStoring(index, time, decision)
                var finalDetails = details.merging(decision.details) { _, new in new }.merging(sealed) { _, new in new }
                finalDetails["release"] = id
                finalDetails["cells"] = String(decision.cells.count)
                finalDetails["cell_counts"] = decision.cells.map { String($0.recordCount) }.joined(separator: ",")
                finalDetails["cell_members"] = try decision.cells.map { Hex.encode(try Vault.memberDigest(db, atoms: $0.atoms)) }
                    .joined(separator: ",")
                let entry = try AuditLog.append(db, kind: .queryReleased, details: finalDetails, time: time)
                guard entry.index == index else { throw StoreError(.audit, "the log moved during a release") }
                try db.execute(
                    sql: "INSERT INTO releases (id, created, query, log_index, dp_rho_nano) VALUES (?, ?, ?, ?, ?)",
                    arguments: [id, entry.time, queryJSON, entry.index, decision.privacyCostNano])
                let insert = try db.makeStatement(
                    sql: """
                        INSERT INTO release_cells (release_id, cell_key, record_count, members, atoms)
                        VALUES (?, ?, ?, X'', ?)
                        """)
                for (cell, atoms) in zip(decision.cells, encoded) {
                    try insert.execute(arguments: [id, cell.key, cell.recordCount, Data(atoms)])
                }
                if var state = decision.auditState {
                    state.lastLogIndex = entry.index
                    try Vault.saveAuditState(db, state)
                }
                if let file {
                    try db.execute(sql: "INSERT INTO release_files (release_id, json) VALUES (?, ?)", arguments: [id, Data(file)])
                }
                return entry
            }
        } catch let error as DatabaseError {
            throw StoreError.wrap(error)
        }
    }

    /// A released cell's member digest: SHA-256 over its atoms' digests, atoms in id order (each atom's digest is
    /// SHA-256 over its records' leaves in batch order).
    static func memberDigest(_ db: Database, atoms: [Int64]) throws -> [UInt8] {
        let statement = try db.makeStatement(sql: "SELECT digest FROM atoms WHERE id = ?")
        var digests: [[UInt8]] = []
        for atom in atoms.sorted() {
            guard let digest = try Data.fetchOne(statement, arguments: [atom]), digest.count == 32 else {
                throw StoreError(.invalidRelease, "an atom of a released cell has no digest; run `eduvault vault check`")
            }
            digests.append(Array(digest))
        }
        return RecordLeaf.digest(digests)
    }

    /// Stores a release with fixed cells (no decision), for tests and tools.
    @discardableResult
    public func recordRelease(id: String, queryJSON: String, cells: [ReleaseCell], details: [String: String])
        throws -> AuditEntry
    {
        try recordRelease(id: id, queryJSON: queryJSON, details: details) { _ in ReleaseDecision(cells: cells) }
    }

    static func auditState(_ db: Database) throws -> StoredAuditState? {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT k, prime, releases, last_log_index, state FROM lin_audit WHERE id = 1")
        else { return nil }
        let prime: Int64 = row["prime"]
        return StoredAuditState(
            k: row["k"], prime: UInt64(bitPattern: prime), releases: row["releases"],
            lastLogIndex: row["last_log_index"], bytes: Array(row["state"] as Data))
    }

    static func saveAuditState(_ db: Database, _ state: StoredAuditState) throws {
        try db.execute(
            sql: """
                INSERT INTO lin_audit (id, k, prime, releases, last_log_index, state) VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET k = excluded.k, prime = excluded.prime, releases = excluded.releases,
                    last_log_index = excluded.last_log_index, state = excluded.state
                """,
            arguments: [state.k, Int64(bitPattern: state.prime), state.releases, state.lastLogIndex, Data(state.bytes)])
    }

    /// The stored linear-audit state, if any.
    public func auditState() throws(StoreError) -> StoredAuditState? {
        do { return try pool.read { db in try Vault.auditState(db) } } catch { throw StoreError.wrap(error) }
    }

    /// Replaces the stored linear-audit state (a rebuild by `vault check --repair`-style tools and tests).
    public func saveAuditState(_ state: StoredAuditState) throws(StoreError) {
        do { try pool.write { db in try Vault.saveAuditState(db, state) } } catch { throw StoreError.wrap(error) }
    }

    /// Read access to the release history outside a release transaction (one consistent snapshot).
    public func readPriorReleases<T>(_ body: (PriorReleases) throws -> T) throws -> T {
        try pool.read { db in try body(PriorReleases(db: db)) }
    }

    /// Calls `body` with every released cell, in release order.
    public func forEachReleasedCell(_ body: (ReleasedCell) throws -> Void) throws(StoreError) {
        do { try pool.read { db in try Vault.forEachReleasedCell(db, body) } } catch { throw StoreError.wrap(error) }
    }

    static func forEachReleasedCell(_ db: Database, _ body: (ReleasedCell) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT c.release_id, r.log_index, c.cell_key, c.record_count, c.atoms
                FROM release_cells c JOIN releases r ON r.id = c.release_id
                ORDER BY r.log_index, c.rowid
                """)
        while let row = try rows.next() {
            let atoms: Data? = row[4]
            guard let atoms else { throw StoreError(.invalidRelease, "a released cell has no atom set") }
            try body(
                ReleasedCell(
                    releaseID: row[0], logIndex: row[1],
                    cell: ReleaseCell(key: row[2], recordCount: row[3], atoms: try MemberSet.decode(atoms))))
        }
    }

    /// The record rowids of the given atoms, ascending (a released cell's member set).
    public func memberRowIDs(ofAtoms atoms: [Int64]) throws(StoreError) -> [Int64] {
        guard !atoms.isEmpty else { return [] }
        do {
            let wanted = Set(atoms)
            return try pool.read { db in
                var out: [Int64] = []
                let rows = try Row.fetchCursor(db, sql: "SELECT rowid, atom_id FROM records ORDER BY rowid")
                while let row = try rows.next() {
                    if let atom = row[1] as Int64?, wanted.contains(atom) { out.append(row[0]) }
                }
                return out
            }
        } catch { throw StoreError.wrap(error) }
    }
}
