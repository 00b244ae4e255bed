import Foundation
import GRDB
import Primitives
import VaultAudit
import VaultModel

extension VaultMigrations {
    /// Migration `v6-release-shares` (issue 11, shares over the service): the threshold key's public file, which the
    /// vault checks posted partial decryptions against, and the partials it accepted.
    static func registerShares(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-release-shares") { db in
            try db.execute(
                sql: """
                    CREATE TABLE threshold_key (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        json BLOB NOT NULL,
                        sha256 TEXT NOT NULL,
                        stored TEXT NOT NULL
                    );
                    CREATE TABLE release_shares (
                        release_id TEXT NOT NULL REFERENCES releases(id),
                        party TEXT NOT NULL,
                        principal TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        json BLOB NOT NULL,
                        received TEXT NOT NULL,
                        log_index INTEGER NOT NULL REFERENCES audit_log(idx),
                        PRIMARY KEY (release_id, party)
                    );
                    """)
        }
    }
}

/// A partial decryption the vault accepted for a release: who posted it, its bytes and its log entry.
public struct StoredShare: Sendable, Equatable {
    /// The release id.
    public var releaseID: String
    /// The party the partial names (the posting member's name).
    public var party: String
    /// The principal id that posted it.
    public var principal: String
    /// Lower-case hex SHA-256 of `json`.
    public var sha256: String
    /// The partial file exactly as posted.
    public var json: [UInt8]
    /// When it was stored (ISO 8601).
    public var received: String
    /// Its `release.share` entry.
    public var logIndex: Int64

    public init(releaseID: String, party: String, principal: String, sha256: String, json: [UInt8], received: String,
                logIndex: Int64) {
        self.releaseID = releaseID
        self.party = party
        self.principal = principal
        self.sha256 = sha256
        self.json = json
        self.received = received
        self.logIndex = logIndex
    }
}

extension Vault {
    /// The threshold key's public file (`threshold.json`) the vault holds, or nil (a single-key vault, or a threshold
    /// vault made before the vault kept the file: `eduvault vault threshold` stores it).
    public func thresholdKeyFile() throws(StoreError) -> [UInt8]? {
        do {
            return try pool.read { db in
                try Data.fetchOne(db, sql: "SELECT json FROM threshold_key WHERE id = 1").map { Array($0) }
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// Stores the threshold key's public file with a `threshold.stored` entry, in one transaction. The caller has
    /// checked the file against the descriptor's custody (key id, ceremony, parties, threshold, verification keys).
    ///
    /// - Parameter details: public facts for the entry (ceremony, SHA-256 of the verification keys).
    /// - Returns: false when the vault already holds exactly this file (nothing is written).
    /// - Throws: `.shareConflict` when it holds a different file, `.database`/`.audit` (then nothing is stored).
    @discardableResult
    public func storeThresholdKey(_ json: [UInt8], details: [String: String]) throws(StoreError) -> Bool {
        let sha256 = Hex.encode(SHA256.hash(json))
        do {
            return try writeLogged { db in
                if let stored = try String.fetchOne(db, sql: "SELECT sha256 FROM threshold_key WHERE id = 1") {
                    guard stored == sha256 else {
                        throw StoreError(.shareConflict, "the vault already holds a different threshold.json")
                    }
                    return false
                }
                try AuditLog.append(db, kind: .thresholdStored, details: details.merging(["sha256": sha256]) { _, new in new })
                try Vault.insertThresholdKey(db, json)
                return true
            }
        } catch { throw StoreError.wrap(error) }
    }

    static func insertThresholdKey(_ db: Database, _ json: [UInt8]) throws {
        try db.execute(sql: "INSERT INTO threshold_key (id, json, sha256, stored) VALUES (1, ?, ?, ?)",
                       arguments: [Data(json), Hex.encode(SHA256.hash(json)), Timestamp.now()])
    }

    /// Stores a verified partial decryption of release `releaseID` by `party` with its `release.share` entry, in one
    /// transaction. The caller has verified every proof against the vault's threshold key.
    ///
    /// - Returns: the stored share, and `true` when the same bytes were already stored (nothing is written: an
    ///   identical re-post is harmless).
    /// - Throws: `.invalidRelease` for an unknown release; `.shareConflict` when `party` already posted a different
    ///   partial of this release; `.database`/`.audit` (then nothing is stored).
    public func storeReleaseShare(releaseID: String, party: String, principal: String, json: [UInt8])
        throws(StoreError) -> (share: StoredShare, alreadyStored: Bool)
    {
        let sha256 = Hex.encode(SHA256.hash(json))
        do {
            return try writeLogged { db in
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM releases WHERE id = ?", arguments: [releaseID]) != nil else {
                    throw StoreError(.invalidRelease, "no stored release with that id")
                }
                if let row = try Row.fetchOne(db, sql: "SELECT * FROM release_shares WHERE release_id = ? AND party = ?",
                                              arguments: [releaseID, party]) {
                    let stored = Vault.share(from: row)
                    guard stored.sha256 == sha256 else {
                        throw StoreError(.shareConflict, "\(party) already posted a different partial decryption of this "
                                         + "release; each party posts one")
                    }
                    return (stored, true)
                }
                let received = Timestamp.now()
                let entry = try AuditLog.append(
                    db, kind: .releaseShare,
                    details: ["release": releaseID, "party": party, "principal": principal, "sha256": sha256])
                try db.execute(
                    sql: """
                        INSERT INTO release_shares (release_id, party, principal, sha256, json, received, log_index)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [releaseID, party, principal, sha256, Data(json), received, entry.index])
                return (StoredShare(releaseID: releaseID, party: party, principal: principal, sha256: sha256, json: json,
                                    received: received, logIndex: entry.index), false)
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// The partial decryptions stored for a release, in the order they arrived.
    public func releaseShares(releaseID: String) throws(StoreError) -> [StoredShare] {
        guard releaseID.utf8.count <= 128 else { return [] }
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM release_shares WHERE release_id = ? ORDER BY log_index",
                                 arguments: [releaseID]).map(Vault.share(from:))
            }
        } catch { throw StoreError.wrap(error) }
    }

    static func share(from row: Row) -> StoredShare {
        StoredShare(releaseID: row["release_id"], party: row["party"], principal: row["principal"], sha256: row["sha256"],
                    json: Array(row["json"] as Data), received: row["received"], logIndex: row["log_index"])
    }
}
