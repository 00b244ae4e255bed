import Foundation
import GRDB
public import Primitives
import VaultAudit
public import VaultModel

/// A registered school.
public struct SchoolInfo: Sendable, Equatable {
    /// The school id.
    public var id: SchoolID
    /// Public grouping facts (region, province, county, …).
    public var attributes: [String: String]
    /// The school's Ed25519 public key (32 bytes); its batches must verify under it.
    public var signingPublicKey: [UInt8]
    /// Registration time (ISO 8601).
    public var registered: String
}

extension Vault {
    /// Registers a school and logs `school.registered`, in one transaction.
    ///
    /// - Parameter attributes: public grouping facts; names `[a-z0-9_-]{1,32}`, values 1–128 printable characters.
    /// - Throws: `.schoolExists` for a duplicate id, `.invalidSchool` for malformed attributes, `.database`.
    @discardableResult
    public func registerSchool(
        id: SchoolID, attributes: [String: String], signingPublicKey: Ed25519.PublicKey
    ) throws(StoreError) -> SchoolInfo {
        for (name, value) in attributes {
            let nameOK =
                !name.isEmpty && name.utf8.count <= 32
                && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }
            guard nameOK else { throw StoreError(.invalidSchool, "school attribute names must match [a-z0-9_-]{1,32}") }
            // Queries select by one namespace (school, subject, school attributes, record attributes, covariates): a
            // school attribute named like one of the others would be shadowed, and --by NAME would silently group by
            // the other one.
            let schema = descriptor.schema
            let taken = ["school", "subject", "score", "student_id"] + schema.attributes.map(\.name)
                + schema.covariates.map(\.name)
            guard !taken.contains(name) else {
                throw StoreError(
                    .invalidSchool,
                    "school attribute '\(name)' is already a name queries use (school, subject, or a record attribute or "
                        + "covariate of this vault's schema); choose another name")
            }
            guard !value.isEmpty, value.count <= 128,
                value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0 != "\u{7F}" })
            else { throw StoreError(.invalidSchool, "school attribute '\(name)' must be 1–128 printable characters") }
        }
        let info = SchoolInfo(
            id: id, attributes: attributes, signingPublicKey: signingPublicKey.rawRepresentation,
            registered: Timestamp.now())
        do {
            let attributesJSON = try CanonicalJSON.string(attributes)
            try writeLogged { db in
                let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM schools WHERE id = ?", arguments: [id.rawValue])
                guard exists == nil else {
                    throw StoreError(.schoolExists, "school \(id) is already registered")
                }
                try db.execute(
                    sql: "INSERT INTO schools (id, attributes, signing_public_key, registered) VALUES (?, ?, ?, ?)",
                    arguments: [id.rawValue, attributesJSON, Data(info.signingPublicKey), info.registered])
                try AuditLog.append(
                    db, kind: .schoolRegistered,
                    details: [
                        "school": id.rawValue,
                        "key_sha256": Hex.encode(SHA256.hash(info.signingPublicKey)),
                        "attributes_sha256": Hex.encode(SHA256.hash(Array(attributesJSON.utf8))),
                        "signing_public_key": Hex.encode(info.signingPublicKey), "attributes": attributesJSON,
                    ])
            }
        } catch { throw StoreError.wrap(error) }
        return info
    }

    /// Every registered school, ordered by id.
    public func schools() throws(StoreError) -> [SchoolInfo] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM schools ORDER BY id").map(Vault.school(from:))
            }
        } catch { throw StoreError.wrap(error) }
    }

    /// One school, or nil.
    public func school(_ id: SchoolID) throws(StoreError) -> SchoolInfo? {
        do {
            return try pool.read { db in try Vault.school(db, id: id.rawValue) }
        } catch { throw StoreError.wrap(error) }
    }

    static func school(_ db: Database, id: String) throws -> SchoolInfo? {
        try Row.fetchOne(db, sql: "SELECT * FROM schools WHERE id = ?", arguments: [id]).map(school(from:))
    }

    static func school(from row: Row) throws -> SchoolInfo {
        let attributesText: String = row["attributes"]
        let key: Data = row["signing_public_key"]
        return SchoolInfo(
            id: try SchoolID(row["id"]),
            attributes: try CanonicalJSON.decode(
                [String: String].self, from: Array(attributesText.utf8), what: "attributes"),
            signingPublicKey: Array(key), registered: row["registered"])
    }
}
