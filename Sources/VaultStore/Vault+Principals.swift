import Foundation
import GRDB
public import Primitives
import VaultAudit
import VaultModel

extension VaultMigrations {
    /// Issue 10, the vault as a service: members (principals other than schools, each with an Ed25519 request key
    /// and a role), revoked school keys, and every release's JSON as handed over (so `GET /v1/releases/{id}` can
    /// serve it again). Appended after v3; frozen once shipped.
    static func registerService(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-service") { db in
            try db.execute(
                sql: """
                    CREATE TABLE members (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL UNIQUE,
                        role TEXT NOT NULL,
                        public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
                        added TEXT NOT NULL,
                        log_index INTEGER NOT NULL REFERENCES audit_log(idx),
                        revoked TEXT
                    );
                    CREATE TABLE revoked_schools (
                        school_id TEXT PRIMARY KEY NOT NULL REFERENCES schools(id),
                        revoked TEXT NOT NULL,
                        log_index INTEGER NOT NULL REFERENCES audit_log(idx)
                    );
                    CREATE TABLE release_files (
                        release_id TEXT PRIMARY KEY NOT NULL REFERENCES releases(id),
                        json BLOB NOT NULL
                    );
                    """)
        }
    }
}

/// Someone who signs requests: a school (through the signing key it registered with `school add`) or a member.
public struct Principal: Sendable, Equatable {
    /// The principal id, the `keyid` of its request signatures: a school's id, or `m:` and 32 hex digits of the
    /// SHA-256 of a member's public key.
    public var id: String
    /// `school`, or the member's role (`bureau`, `auditor`, `custodian`, `operator`).
    public var role: String
    /// A display name: the school id, or the member's name.
    public var name: String
    /// The Ed25519 public key (32 bytes).
    public var publicKey: [UInt8]
    /// When it was registered (ISO 8601).
    public var added: String
    /// When its key was revoked, if it was.
    public var revoked: String?

    /// The school id, for a school.
    public var schoolID: String? { role == Principal.schoolRole ? id : nil }

    /// The role of every school.
    public static let schoolRole = "school"
    /// The roles a member may have.
    public static let memberRoles = ["bureau", "auditor", "custodian", "operator"]

    /// The principal id of a member key: `m:` and the first 16 bytes of SHA-256(public key), in hex.
    public static func memberID(publicKey: [UInt8]) -> String {
        "m:" + Hex.encode(Array(SHA256.hash(publicKey).prefix(16)))
    }

    public init(id: String, role: String, name: String, publicKey: [UInt8], added: String, revoked: String?) {
        self.id = id
        self.role = role
        self.name = name
        self.publicKey = publicKey
        self.added = added
        self.revoked = revoked
    }
}

extension Vault {
    /// Registers a member: its Ed25519 request key under a role, with a `member.added` entry, in one transaction.
    ///
    /// - Parameter name: a display name, `[A-Za-z0-9_.@-]{1,64}`, unique in the vault.
    /// - Throws: `.invalidSchool` for a malformed name or role (the code covers every registration), `.schoolExists`
    ///   when the name or the key is already registered, `.database`/`.audit` when the entry cannot be written
    ///   (then nothing is stored).
    @discardableResult
    public func addMember(name: String, role: String, publicKey: Ed25519.PublicKey) throws(StoreError) -> Principal {
        let nameOK = (1...64).contains(name.utf8.count) && name.utf8.allSatisfy {
            ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || [95, 46, 64, 45].contains($0)
        }
        guard nameOK else { throw StoreError(.invalidSchool, "member names must match [A-Za-z0-9_.@-]{1,64}") }
        guard Principal.memberRoles.contains(role) else {
            throw StoreError(.invalidSchool, "the role must be one of \(Principal.memberRoles.joined(separator: ", "))")
        }
        let key = publicKey.rawRepresentation
        let id = Principal.memberID(publicKey: key)
        let added = Timestamp.now()
        do {
            return try writeLogged { db in
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM members WHERE name = ? OR public_key = ?",
                                     arguments: [name, Data(key)]) != nil {
                    throw StoreError(.schoolExists, "a member with this name or this key is already registered")
                }
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM schools WHERE signing_public_key = ?", arguments: [Data(key)]) != nil {
                    throw StoreError(.schoolExists, "this key is a school's signing key; make a new key with `member keygen`")
                }
                let entry = try AuditLog.append(
                    db, kind: .memberAdded,
                    details: ["principal": id, "name": name, "role": role, "public_key": Hex.encode(key)])
                try db.execute(
                    sql: "INSERT INTO members (id, name, role, public_key, added, log_index) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [id, name, role, Data(key), added, entry.index])
                return Principal(id: id, role: role, name: name, publicKey: key, added: added, revoked: nil)
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// Every member and every school as principals, members first (by name), then schools (by id).
    public func principals() throws(StoreError) -> [Principal] {
        do {
            return try pool.read { db in
                let members = try Row.fetchAll(db, sql: "SELECT * FROM members ORDER BY name").map(Vault.member(from:))
                let schools = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT s.id, s.signing_public_key, s.registered, r.revoked FROM schools s
                        LEFT JOIN revoked_schools r ON r.school_id = s.id ORDER BY s.id
                        """
                ).map(Vault.schoolPrincipal(from:))
                return members + schools
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// The principal whose request key id is `id` (a member id `m:…`, else a school id), or nil.
    public func principal(id: String) throws(StoreError) -> Principal? {
        guard (1...80).contains(id.utf8.count) else { return nil }
        do {
            return try pool.read { db in
                if id.hasPrefix("m:") {
                    return try Row.fetchOne(db, sql: "SELECT * FROM members WHERE id = ?", arguments: [id]).map(Vault.member(from:))
                }
                return try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.id, s.signing_public_key, s.registered, r.revoked FROM schools s
                        LEFT JOIN revoked_schools r ON r.school_id = s.id WHERE s.id = ?
                        """, arguments: [id]
                ).map(Vault.schoolPrincipal(from:))
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// Revokes a principal's key (a member by id or name, or a school by id), with a `member.revoked` entry, in one
    /// transaction. A revoked school's batches are refused from then on; its stored batches stay.
    ///
    /// - Throws: `.notAVault`-free codes: `.invalidSchool` when no such principal exists, `.schoolExists` when it is
    ///   already revoked, `.database`/`.audit` when the entry cannot be written (then nothing changes).
    @discardableResult
    public func revokePrincipal(_ idOrName: String) throws(StoreError) -> Principal {
        let now = Timestamp.now()
        do {
            return try writeLogged { db in
                if let row = try Row.fetchOne(db, sql: "SELECT * FROM members WHERE id = ? OR name = ?",
                                              arguments: [idOrName, idOrName]) {
                    var member = try Vault.member(from: row)
                    guard member.revoked == nil else { throw StoreError(.schoolExists, "\(member.name) is already revoked") }
                    let entry = try AuditLog.append(
                        db, kind: .memberRevoked,
                        details: ["principal": member.id, "name": member.name, "role": member.role])
                    try db.execute(sql: "UPDATE members SET revoked = ? WHERE id = ?", arguments: [now, member.id])
                    _ = entry
                    member.revoked = now
                    return member
                }
                guard let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.id, s.signing_public_key, s.registered, r.revoked FROM schools s
                        LEFT JOIN revoked_schools r ON r.school_id = s.id WHERE s.id = ?
                        """, arguments: [idOrName])
                else { throw StoreError(.invalidSchool, "no member or school is registered under that id or name") }
                var school = try Vault.schoolPrincipal(from: row)
                guard school.revoked == nil else { throw StoreError(.schoolExists, "school \(school.id) is already revoked") }
                let entry = try AuditLog.append(
                    db, kind: .memberRevoked, details: ["principal": school.id, "name": school.id, "role": "school"])
                try db.execute(sql: "INSERT INTO revoked_schools (school_id, revoked, log_index) VALUES (?, ?, ?)",
                               arguments: [school.id, now, entry.index])
                school.revoked = now
                return school
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// Appends a `request.denied` entry (the ROLES rule refused a signed request) in its own transaction.
    ///
    /// - Parameter details: principal id, role, action, route pattern and rule; never a request body.
    public func logRequestDenial(details: [String: String]) throws(StoreError) {
        do { _ = try writeLogged { db in try AuditLog.append(db, kind: .requestDenied, details: details) } } catch {
            throw StoreError.wrap(error)
        }
    }

    /// The number of entries in the audit log (its last index), without reading anything else.
    public func auditLogSize() throws(StoreError) -> Int64 {
        do { return try pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(idx), 0) FROM audit_log") ?? 0 } }
        catch { throw StoreError.wrap(error) }
    }

    /// Whether a school's key has been revoked.
    static func isRevoked(_ db: Database, school: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM revoked_schools WHERE school_id = ?", arguments: [school]) != nil
    }

    /// The JSON of a release exactly as it was handed over (the bytes whose SHA-256 its log entry carries), or nil
    /// for an unknown id or a release made before the vault stored release files.
    public func releaseFile(id: String) throws(StoreError) -> [UInt8]? {
        guard id.utf8.count <= 128 else { return nil }
        do {
            return try pool.read { db in
                try Data.fetchOne(db, sql: "SELECT json FROM release_files WHERE release_id = ?", arguments: [id]).map { Array($0) }
            }
        } catch { throw StoreError.wrap(error) }
    }

    static func member(from row: Row) throws -> Principal {
        Principal(id: row["id"], role: row["role"], name: row["name"], publicKey: Array(row["public_key"] as Data),
                  added: row["added"], revoked: row["revoked"])
    }

    static func schoolPrincipal(from row: Row) throws -> Principal {
        let id: String = row[0]
        return Principal(id: id, role: Principal.schoolRole, name: id, publicKey: Array(row[1] as Data), added: row[2],
                         revoked: row[3])
    }
}
