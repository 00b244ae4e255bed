public import Foundation
import GRDB
import Primitives
import VaultAudit
public import VaultModel
public import VaultPolicy

/// One vault: `DIR/vault.sqlite` (SQLite through a GRDB `DatabasePool`: WAL, `synchronous=FULL`, foreign keys on)
/// and `DIR/descriptor.json`.
///
/// Every data write and its audit entry commit in one transaction. `Sendable`: all state is immutable or
/// behind the pool, which serialises writes and allows concurrent reads.
public final class Vault: Sendable {
    /// The vault's directory.
    public let directory: URL
    /// The descriptor stored in the vault.
    public let descriptor: Descriptor
    let pool: DatabasePool
    /// The log's signing key (from `log-key.private`); nil when the file is absent (the vault can then only be read).
    let logSigner: NoteSigner?

    /// The database file name inside the directory.
    public static let databaseFileName = "vault.sqlite"
    /// The descriptor file name inside the directory.
    public static let descriptorFileName = "descriptor.json"

    private init(directory: URL, descriptor: Descriptor, pool: DatabasePool, logSigner: NoteSigner?) {
        self.directory = directory
        self.descriptor = descriptor
        self.pool = pool
        self.logSigner = logSigner
    }

    static func openPool(at path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try VaultMigrations.migrator.migrate(pool)
        return pool
    }

    /// Creates a vault in `directory` (made if missing): the database, `descriptor.json`, and the audit entries
    /// `vault.created`, `key.registered` and `policy.loaded`, all in one transaction.
    ///
    /// - Parameters:
    ///   - descriptor: the public description; its `policy` must name `policyBytes` (id, version, SHA-256).
    ///   - policyBytes: the policy file, stored in the vault so auditors can read the rules in force.
    ///   - thresholdKey: for a threshold custody, the threshold key's public file (`threshold.json`), which the
    ///     service checks posted partial decryptions against; the caller has checked it against `descriptor.custody`
    ///     (the `key.registered` entry binds its verification keys by SHA-256).
    /// - Throws: `.vaultExists` if the directory already holds a vault; `.invalidPolicy`, `.policyMismatch`,
    ///   `.keyTooSmall` (below the policy's `KEY-MIN`), `.quorumTooSmall` (custody weaker than the policy's
    ///   `DECRYPT-QUORUM`; one bureau key counts as 1 of 1), `.io`, `.database`.
    public static func create(directory: URL, descriptor: Descriptor, policyBytes: [UInt8], thresholdKey: [UInt8]? = nil)
        throws(StoreError) -> Vault
    {
        let policy: Policy
        do { policy = try Policy.parse(policyBytes) } catch { throw StoreError(.invalidPolicy, error.message) }
        guard descriptor.policy == policy.reference else {
            throw StoreError(
                .policyMismatch, "the descriptor names a different policy id, version or hash than the file given")
        }
        guard descriptor.keyBits >= policy.minKeyBits else {
            throw StoreError(
                .keyTooSmall,
                "the key has \(descriptor.keyBits) bits; rule KEY-MIN requires at least \(policy.minKeyBits)")
        }
        if let quorum = policy.decryptQuorum {
            let threshold = descriptor.custody?.threshold ?? 1, parties = descriptor.custody?.parties.count ?? 1
            guard quorum.admits(threshold: threshold, parties: parties) else {
                throw StoreError(
                    .quorumTooSmall,
                    "the key is held by \(descriptor.custody?.summary ?? "one party (a single bureau key)"); rule "
                        + "DECRYPT-QUORUM requires \(quorum.requirement)")
            }
        }
        let fileManager = FileManager.default
        let database = directory.appendingPathComponent(databaseFileName)
        let descriptorURL = directory.appendingPathComponent(descriptorFileName)
        guard !fileManager.fileExists(atPath: database.path), !fileManager.fileExists(atPath: descriptorURL.path) else {
            throw StoreError(.vaultExists, "\(directory.path) already holds a vault; open it instead")
        }
        do { try fileManager.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw StoreError(.io, "cannot create the directory \(directory.path)")
        }
        // The log's signing key is made here, with the vault; its verifier key goes into the descriptor.
        let logPrivateKey = try LogKey.generate(vaultID: descriptor.vaultID)
        let logName = LogKey.origin(vaultID: descriptor.vaultID)
        let signer = NoteSigner(name: logName, privateKey: logPrivateKey)
        var descriptor = descriptor
        descriptor.logKey = signer.verifierKey.encoded
        do {
            let descriptorJSON = String(decoding: try descriptor.canonicalJSON(), as: UTF8.self)
            let schemaHash = try descriptor.schema.schemaHash
            _ = try LogKey.write(name: logName, privateKey: logPrivateKey, in: directory)
            let pool = try openPool(at: database.path)
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO meta (id, vault_id, descriptor, key_id, key_bits, policy_id, policy_version,
                                          policy_sha256, policy_yaml, created)
                        VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        descriptor.vaultID, descriptorJSON, descriptor.keyID, descriptor.keyBits, policy.id,
                        policy.version, policy.sha256, Data(policyBytes), descriptor.created,
                    ])
                try AuditLog.append(
                    db, kind: .vaultCreated,
                    details: [
                        "vault": descriptor.vaultID, "schema_hash": schemaHash, "format": descriptor.format,
                        "log_key": signer.verifierKey.encoded,
                    ])
                // Key and policy events carry the public key and the policy's full text, so an auditor holding
                // only the log can check every later batch and release against them.
                var keyDetails = [
                    "key_id": descriptor.keyID, "key_bits": String(descriptor.keyBits),
                    "key_sha256": Hex.encode(SHA256.hash(Array(descriptor.publicKey.n.utf8))),
                    "n": descriptor.publicKey.n,
                ]
                if let custody = descriptor.custody {
                    // The log binds the custody too: who holds the key, how many must decrypt together, and the
                    // verification keys their proofs are checked against.
                    keyDetails["custody"] = custody.kind
                    keyDetails["threshold"] = String(custody.threshold)
                    keyDetails["parties"] = custody.parties.joined(separator: ",")
                    keyDetails["ceremony"] = custody.ceremony
                    keyDetails["verification_keys_sha256"] = custody.verificationKeysSHA256
                }
                try AuditLog.append(db, kind: .keyRegistered, details: keyDetails)
                if descriptor.custody != nil, let thresholdKey { try Vault.insertThresholdKey(db, thresholdKey) }
                try AuditLog.append(
                    db, kind: .policyLoaded,
                    details: [
                        "policy_id": policy.id, "version": String(policy.version), "sha256": policy.sha256,
                        "text": String(decoding: policyBytes, as: UTF8.self),
                    ])
                try Vault.sealLog(db, signer: signer)
            }
            try descriptor.write(to: descriptorURL)
            return Vault(directory: directory, descriptor: descriptor, pool: pool, logSigner: signer)
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? fileManager.removeItem(atPath: database.path + suffix) }
            try? fileManager.removeItem(at: descriptorURL)
            try? fileManager.removeItem(at: directory.appendingPathComponent(LogKey.fileName))
            throw StoreError.wrap(error)
        }
    }

    /// Opens an existing vault, applying any pending migrations.
    ///
    /// - Throws: `.notAVault` when `directory` holds no vault database or the database has no vault metadata;
    ///   `.database` when SQLite cannot open it.
    public static func open(directory: URL) throws(StoreError) -> Vault {
        let database = directory.appendingPathComponent(databaseFileName)
        guard FileManager.default.fileExists(atPath: database.path) else {
            throw StoreError(.notAVault, "\(directory.path) is not an EduVault vault (no \(databaseFileName))")
        }
        do {
            let pool = try openPool(at: database.path)
            let json = try pool.read { db in try String.fetchOne(db, sql: "SELECT descriptor FROM meta WHERE id = 1") }
            guard let json else {
                throw StoreError(.notAVault, "\(directory.path) has a database but no vault metadata")
            }
            var descriptor = try Descriptor.decode(Array(json.utf8))
            var signer = try LogKey.read(in: directory)
            if let signer, signer.verifierKey.encoded != descriptor.logKey, descriptor.logKey != nil {
                throw StoreError(.io, "\(LogKey.fileName) does not match the log key in the descriptor")
            }
            if descriptor.logKey == nil {
                // A vault made before signed checkpoints: make its log key now, log it, and sign the first checkpoint.
                let made = try LogKey.write(name: LogKey.origin(vaultID: descriptor.vaultID),
                                            privateKey: try LogKey.generate(vaultID: descriptor.vaultID), in: directory)
                descriptor.logKey = made.verifierKey.encoded
                let updated = String(decoding: try descriptor.canonicalJSON(), as: UTF8.self)
                try pool.write { db in
                    try db.execute(sql: "UPDATE meta SET descriptor = ? WHERE id = 1", arguments: [updated])
                    try AuditLog.append(db, kind: .logKeyRegistered, details: ["log_key": made.verifierKey.encoded])
                    try Vault.sealLog(db, signer: made)
                }
                try descriptor.write(to: directory.appendingPathComponent(descriptorFileName))
                signer = made
            }
            return Vault(directory: directory, descriptor: descriptor, pool: pool, logSigner: signer)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError(.notAVault, "\(directory.path)/\(databaseFileName) is not a SQLite database")
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// The policy file stored at creation, and its parsed form.
    public func policy() throws(StoreError) -> (bytes: [UInt8], policy: Policy) {
        do {
            let data = try pool.read { db in try Data.fetchOne(db, sql: "SELECT policy_yaml FROM meta WHERE id = 1") }
            guard let data else { throw StoreError(.notAVault, "the vault has no stored policy") }
            return (Array(data), try Policy.parse(Array(data)))
        } catch { throw StoreError.wrap(error) }
    }
}

/// The append-only list of schema migrations. A shipped migration is frozen; changes go in a new one.
enum VaultMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        vault_id TEXT NOT NULL,
                        descriptor TEXT NOT NULL,
                        key_id TEXT NOT NULL,
                        key_bits INTEGER NOT NULL,
                        policy_id TEXT NOT NULL,
                        policy_version INTEGER NOT NULL,
                        policy_sha256 TEXT NOT NULL,
                        policy_yaml BLOB NOT NULL,
                        created TEXT NOT NULL
                    );
                    CREATE TABLE audit_log (
                        idx INTEGER PRIMARY KEY,
                        time TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        details TEXT NOT NULL,
                        prev_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    );
                    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TABLE schools (
                        id TEXT PRIMARY KEY NOT NULL,
                        attributes TEXT NOT NULL,
                        signing_public_key BLOB NOT NULL CHECK (length(signing_public_key) = 32),
                        registered TEXT NOT NULL
                    );
                    CREATE TABLE batches (
                        id TEXT PRIMARY KEY NOT NULL,
                        school_id TEXT NOT NULL REFERENCES schools(id),
                        record_count INTEGER NOT NULL,
                        log_index INTEGER NOT NULL REFERENCES audit_log(idx),
                        received TEXT NOT NULL,
                        header TEXT NOT NULL
                    );
                    CREATE TABLE records (
                        rowid INTEGER PRIMARY KEY,
                        batch_id TEXT NOT NULL REFERENCES batches(id) DEFERRABLE INITIALLY DEFERRED,
                        school_id TEXT NOT NULL REFERENCES schools(id),
                        pseudonym BLOB NOT NULL CHECK (length(pseudonym) = 32),
                        subject TEXT NOT NULL,
                        attrs TEXT NOT NULL,
                        term TEXT NOT NULL,
                        ciphertext BLOB NOT NULL,
                        UNIQUE (school_id, pseudonym, subject, term)
                    );
                    CREATE INDEX records_by_subject ON records(subject, school_id);
                    CREATE INDEX records_by_batch ON records(batch_id);
                    CREATE TABLE releases (
                        id TEXT PRIMARY KEY NOT NULL,
                        created TEXT NOT NULL,
                        query TEXT NOT NULL,
                        log_index INTEGER NOT NULL REFERENCES audit_log(idx)
                    );
                    CREATE TABLE release_cells (
                        release_id TEXT NOT NULL REFERENCES releases(id),
                        cell_key TEXT NOT NULL,
                        record_count INTEGER NOT NULL,
                        members BLOB NOT NULL,
                        PRIMARY KEY (release_id, cell_key)
                    );
                    """)
        }
        migrator.registerMigration("v2") { db in
            // Atoms: the records of one batch that share subject and attributes. No query can split one, so
            // disclosure control (LIN-AUDIT, DIFF-GUARD) reasons over atoms, and a released cell is stored as the
            // sorted ids of its atoms (its member set is the records of those atoms: atoms never change).
            try db.execute(
                sql: """
                    CREATE TABLE atoms (
                        id INTEGER PRIMARY KEY,
                        batch_id TEXT NOT NULL REFERENCES batches(id) DEFERRABLE INITIALLY DEFERRED,
                        school_id TEXT NOT NULL REFERENCES schools(id),
                        subject TEXT NOT NULL,
                        attrs TEXT NOT NULL,
                        record_count INTEGER NOT NULL CHECK (record_count >= 0),
                        UNIQUE (batch_id, subject, attrs)
                    );
                    ALTER TABLE records ADD COLUMN atom_id INTEGER REFERENCES atoms(id);
                    INSERT INTO atoms (batch_id, school_id, subject, attrs, record_count)
                        SELECT batch_id, school_id, subject, attrs, COUNT(*) FROM records
                        GROUP BY batch_id, subject, attrs ORDER BY MIN(rowid);
                    UPDATE records SET atom_id = (
                        SELECT id FROM atoms WHERE atoms.batch_id = records.batch_id
                            AND atoms.subject = records.subject AND atoms.attrs = records.attrs);
                    ALTER TABLE release_cells ADD COLUMN atoms BLOB;
                    ALTER TABLE releases ADD COLUMN dp_rho_nano INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE lin_audit (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        k INTEGER NOT NULL,
                        prime INTEGER NOT NULL,
                        releases INTEGER NOT NULL,
                        last_log_index INTEGER NOT NULL,
                        state BLOB NOT NULL
                    );
                    """)
            // Cells released before v2 stored member rowids: derive their atoms.
            let cells = try Row.fetchAll(db, sql: "SELECT rowid, members FROM release_cells")
            let atomOf = try db.makeStatement(sql: "SELECT atom_id FROM records WHERE rowid = ?")
            for cell in cells {
                var atoms = Set<Int64>()
                for member in try MemberSet.decode(cell["members"] as Data) {
                    if let atom = try Int64.fetchOne(atomOf, arguments: [member]) { atoms.insert(atom) }
                }
                try db.execute(
                    sql: "UPDATE release_cells SET atoms = ? WHERE rowid = ?",
                    arguments: [Data(try MemberSet.encode(atoms.sorted())), cell["rowid"] as Int64])
            }
        }
        migrator.registerMigration("v3") { db in
            // The log binds the data: each batch's record leaves (kept after a purge deletes the records), each atom's
            // digest over its records' leaves, the Merkle tree over log entries (perfect subtree hashes and the
            // compact range of its right edge), signed checkpoints and witnesses' cosignatures.
            try db.execute(
                sql: """
                    CREATE TABLE batch_leaves (
                        batch_id TEXT PRIMARY KEY NOT NULL REFERENCES batches(id) DEFERRABLE INITIALLY DEFERRED,
                        leaves BLOB NOT NULL CHECK (length(leaves) % 32 = 0)
                    );
                    ALTER TABLE atoms ADD COLUMN digest BLOB;
                    CREATE TABLE log_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        size INTEGER NOT NULL,
                        range BLOB NOT NULL
                    );
                    CREATE TABLE log_nodes (
                        level INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        hash BLOB NOT NULL CHECK (length(hash) = 32),
                        PRIMARY KEY (level, idx)
                    ) WITHOUT ROWID;
                    CREATE TABLE checkpoints (
                        size INTEGER PRIMARY KEY,
                        note TEXT NOT NULL,
                        created TEXT NOT NULL
                    );
                    CREATE TABLE cosignatures (
                        size INTEGER NOT NULL REFERENCES checkpoints(size),
                        witness TEXT NOT NULL,
                        line TEXT NOT NULL,
                        PRIMARY KEY (size, witness)
                    );
                    CREATE TABLE purged_batches (
                        batch_id TEXT PRIMARY KEY NOT NULL REFERENCES batches(id),
                        records INTEGER NOT NULL,
                        log_index INTEGER NOT NULL REFERENCES audit_log(idx)
                    );
                    """)
            // Leaves and atom digests for records stored before v3.
            var batchLeaves: [String: [UInt8]] = [:]
            var atomLeaves: [Int64: [[UInt8]]] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT batch_id, pseudonym, subject, attrs, ciphertext, atom_id FROM records ORDER BY rowid")
            while let row = try rows.next() {
                let batch: String = row[0]
                let leaf = try RecordLeaf.data(
                    pseudonym: Array(row[1] as Data), subject: row[2], canonicalAttributes: row[3],
                    ciphertext: Array(row[4] as Data))
                batchLeaves[batch, default: []] += leaf
                if let atom = row[5] as Int64? { atomLeaves[atom, default: []].append(leaf) }
            }
            let insertLeaves = try db.makeStatement(sql: "INSERT INTO batch_leaves (batch_id, leaves) VALUES (?, ?)")
            for (batch, leaves) in batchLeaves { try insertLeaves.execute(arguments: [batch, Data(leaves)]) }
            let setDigest = try db.makeStatement(sql: "UPDATE atoms SET digest = ? WHERE id = ?")
            for (atom, leaves) in atomLeaves {
                try setDigest.execute(arguments: [Data(RecordLeaf.digest(leaves)), atom])
            }
        }
        VaultMigrations.registerService(&migrator)
        migrator.registerMigration("v5-covariates") { db in
            // A record's further ciphertexts (covariate products, ciphertexts 1, 2, … of the schema's MomentLayout)
            // concatenated at the key's width, in a side table so that the `records` rows an ordinary query scans
            // keep their size. Records of a vault without covariates have no row here.
            try db.execute(
                sql: """
                    CREATE TABLE record_moments (
                        record_id INTEGER PRIMARY KEY NOT NULL REFERENCES records(rowid),
                        ciphertexts BLOB NOT NULL CHECK (length(ciphertexts) > 0)
                    );
                    """)
        }
        VaultMigrations.registerShares(&migrator)
        return migrator
    }
}
