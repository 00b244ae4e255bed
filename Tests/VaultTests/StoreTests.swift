import Foundation
import GRDB
import Primitives
import Testing
import VaultAudit
import VaultModel
import VaultPolicy
import VaultStore

@Suite struct VaultStoreTests {
    @Test func createLogsAndRefusesSecondCreate() throws {
        let h = try Harness()
        #expect(try h.kinds() == ["vault.created", "key.registered", "policy.loaded", "school.registered"])
        #expect(throws: StoreError.self) {
            try Vault.create(
                directory: h.vault.directory, descriptor: h.vault.descriptor, policyBytes: defaultPolicyBytes())
        }
        let reopened = try Vault.open(directory: h.vault.directory)
        #expect(reopened.descriptor == h.vault.descriptor)
        let fromFile = try Descriptor.read(from: h.vault.directory.appendingPathComponent("descriptor.json"))
        #expect(fromFile == h.vault.descriptor)
        let dir = try TempDir()
        let notAVault = #expect(throws: StoreError.self) { try Vault.open(directory: dir.url) }
        #expect(notAVault?.code == .notAVault)
    }

    @Test func duplicateSchoolIsRefused() throws {
        let h = try Harness()
        let key = try h.keys.signingKey().publicKey
        do {
            try h.vault.registerSchool(id: h.keys.schoolID, attributes: [:], signingPublicKey: key)
            Issue.record("expected schoolExists")
        } catch { #expect(error.code == .schoolExists) }
        #expect(try h.vault.schools().count == 1)
    }

    @Test func ingestStoresRecordsAndReceipt() throws {
        let h = try Harness()
        let receipt = try h.vault.ingest(batchAt: try h.batch(count: 5)) { #expect($0.count == 64) }
        #expect(!receipt.alreadyStored && receipt.recordCount == 5)
        #expect(try h.recordCount() == 5)
        #expect(try h.kinds().last == "batch.ingested")
        let status = try h.vault.status()
        #expect(status.recordCounts == [RecordCount(schoolID: "school-1", subject: "math", count: 5)])
        #expect(status.batchCount == 1 && status.fileBytes > 0)
        var filtered = 0
        try h.vault.forEachRecord(matching: RecordFilter(subjects: ["english"])) { _ in filtered += 1 }
        #expect(filtered == 0)
        try h.vault.forEachRecord(matching: RecordFilter(schools: [h.keys.schoolID], terms: ["2024-1"])) {
            #expect($0.attributes["sex"] == "F")
            filtered += 1
        }
        #expect(filtered == 5)
    }

    @Test func resendReturnsOriginalReceiptAndWritesNothing() throws {
        let h = try Harness()
        let url = try h.batch()
        let first = try h.vault.ingest(batchAt: url) { _ in }
        let entries = try h.vault.auditEntries().count
        let second = try h.vault.ingest(batchAt: url) { _ in }
        #expect(second.alreadyStored)
        #expect(second.batchID == first.batchID && second.logIndex == first.logIndex)
        #expect(second.receivedAt == first.receivedAt)
        #expect(try h.vault.auditEntries().count == entries)
        #expect(try h.recordCount() == 5)
    }

    /// Ingests `url`, expects the refusal `code`, nothing stored, and a `batch.refused` entry with that reason.
    func expectRefusal(_ h: Harness, _ url: URL, _ code: StoreError.Code, validate: ([UInt8]) throws -> Void = { _ in })
        throws
    {
        let before = try h.recordCount()
        do {
            _ = try h.vault.ingest(batchAt: url, validateCiphertext: validate)
            Issue.record("expected refusal \(code)")
        } catch {
            #expect(error.code == code)
            #expect(error.isBatchRefusal)
        }
        #expect(try h.recordCount() == before)
        let last = try #require(try h.vault.auditEntries().last)
        #expect(last.kind == .batchRefused)
        #expect(last.details["reason"] == code.rawValue)
        #expect(try h.vault.integrityCheck().isHealthy)
    }

    @Test func tamperedRecordIsRefusedWhole() throws {
        let h = try Harness()
        let url = try h.batch()
        try editLine(url, 3) { $0.replacingOccurrences(of: "\"math\"", with: "\"mathx\"") }
        try expectRefusal(h, url, .hashMismatch)
    }

    @Test func badSignatureIsRefused() throws {
        let h = try Harness()
        try expectRefusal(h, try h.batch(signer: try Ed25519.PrivateKey()), .badSignature)
    }

    @Test func wrongKeyVaultSchoolAreRefused() throws {
        let h = try Harness()
        try expectRefusal(h, try h.batch(name: "a", keyID: "key-2"), .wrongKey)
        try expectRefusal(h, try h.batch(name: "b", vaultID: "other"), .wrongVault)
        try expectRefusal(h, try h.batch(name: "c", school: try SchoolID("nobody")), .unknownSchool)
        #expect(try h.vault.auditEntries().last?.details["school"] == "nobody")
    }

    @Test func invalidCiphertextAndSubjectAreRefused() throws {
        let h = try Harness()
        struct Bad: Error {}
        try expectRefusal(h, try h.batch(name: "a"), .invalidCiphertext) { _ in throw Bad() }
        try expectRefusal(h, try h.batch(name: "b", subject: "Math"), .invalidRecord)
    }

    @Test func duplicatesWithinBatchAndAgainstStoredAreRefused() throws {
        let h = try Harness()
        try expectRefusal(h, try h.batch(name: "a", count: 3, students: ["x", "y", "x"]), .duplicateRecord)
        _ = try h.vault.ingest(batchAt: try h.batch(name: "b", count: 2, students: ["x", "y"])) { _ in }
        try expectRefusal(h, try h.batch(name: "c", count: 2, students: ["z", "y"]), .duplicateRecord)
        #expect(try h.recordCount() == 2)
    }

    @Test func dataAndAuditEntryShareOneTransaction() throws {
        let h = try Harness()
        struct LastRecord: Error {}
        var seen = 0
        try expectRefusal(h, try h.batch(count: 5), .invalidCiphertext) { _ in
            seen += 1
            if seen == 5 { throw LastRecord() }
        }
        #expect(seen == 5)
        #expect(try h.recordCount() == 0)
        #expect(!(try h.kinds().contains("batch.ingested")))
        #expect(try h.vault.status().batchCount == 0)
    }

    @Test func auditChainVerifiesAndDetectsAnEditedRow() throws {
        let h = try Harness()
        _ = try h.vault.ingest(batchAt: try h.batch()) { _ in }
        let entries = try h.vault.auditEntries()
        #expect(try AuditChain.verify(entries) == Int64(entries.count))
        #expect(try h.vault.integrityCheck().isHealthy)
        // An operator with file access drops the append-only trigger and edits entry 5.
        let queue = try DatabaseQueue(path: h.vault.directory.appendingPathComponent("vault.sqlite").path)
        try queue.write { db in
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE audit_log SET time = 'x' WHERE idx = 5") }
            try db.execute(sql: "DROP TRIGGER audit_log_no_update")
            try db.execute(sql: "UPDATE audit_log SET details = ? WHERE idx = 5", arguments: ["{\"records\":\"1\"}"])
        }
        let report = try h.vault.integrityCheck()
        #expect(!report.isHealthy)
        #expect(report.auditFailure?.index == 5)
        #expect(report.auditFailure?.code == .hashMismatch)
        #expect(report.auditEntriesVerified == 4)
    }

    @Test func migratesAnEmptyDatabase() throws {
        let dir = try TempDir()
        let path = dir.url.appendingPathComponent("vault.sqlite").path
        _ = try DatabaseQueue(path: path)  // an empty SQLite file
        let notAVault = #expect(throws: StoreError.self) { try Vault.open(directory: dir.url) }
        #expect(notAVault?.code == .notAVault)
        let tables = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
        for table in ["atoms", "audit_log", "batches", "checkpoints", "cosignatures", "lin_audit", "log_nodes", "log_state",
                      "meta", "purged_batches", "batch_leaves", "records", "record_moments", "release_cells", "releases", "schools",
                      "release_shares", "threshold_key"] {
            #expect(tables.contains(table))
        }
        let migrations = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(migrations == ["v1", "v2", "v3", "v4-service", "v5-covariates", "v6-release-shares"])
    }

    @Test("A stored partial and its release.share entry commit together; a failed entry stores nothing; one per party")
    func releaseShareAndItsEntry() throws {
        let h = try Harness()
        try h.vault.recordRelease(id: "r1", queryJSON: "{}", cells: [], details: [:])
        let first = try h.vault.storeReleaseShare(releaseID: "r1", party: "bureau", principal: "m:1", json: Array("{}".utf8))
        #expect(!first.alreadyStored && first.share.sha256.count == 64)
        let entry = try #require(try h.vault.auditEntries().last)
        #expect(entry.kind == .releaseShare && entry.index == first.share.logIndex)
        #expect(entry.details == ["release": "r1", "party": "bureau", "principal": "m:1", "sha256": first.share.sha256])
        #expect(try h.vault.storeReleaseShare(releaseID: "r1", party: "bureau", principal: "m:1", json: Array("{}".utf8)).alreadyStored)
        let conflict = #expect(throws: StoreError.self) {
            try h.vault.storeReleaseShare(releaseID: "r1", party: "bureau", principal: "m:1", json: Array("[]".utf8))
        }
        #expect(conflict?.code == .shareConflict)
        #expect(throws: StoreError.self) {
            try h.vault.storeReleaseShare(releaseID: "unknown", party: "bureau", principal: "m:1", json: Array("{}".utf8))
        }
        // Every new audit entry now fails, as on a full disk: the partial is not stored either.
        let queue = try DatabaseQueue(path: h.vault.directory.appendingPathComponent(Vault.databaseFileName).path)
        try queue.write { db in
            try db.execute(sql: "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        try queue.close()
        #expect(throws: StoreError.self) {
            try h.vault.storeReleaseShare(releaseID: "r1", party: "auditor", principal: "m:2", json: Array("{}".utf8))
        }
        #expect(try h.vault.releaseShares(releaseID: "r1").map(\.party) == ["bureau"])
    }

    @Test func releasesStoreCellsAndAtoms() throws {
        let h = try Harness()
        _ = try h.vault.ingest(batchAt: try h.batch(count: 5)) { _ in }
        let atoms = try h.vault.atoms()
        #expect(atoms.count == 1 && atoms[0].recordCount == 5 && atoms[0].attributes == ["term": "2024-1", "sex": "F"])
        var ids: [Int64] = []
        try h.vault.forEachRecord { ids.append($0.rowID) }
        let atomIDs = atoms.map(\.id)
        let entry = try h.vault.recordRelease(
            id: "r1", queryJSON: "{}", cells: [ReleaseCell(key: "all", recordCount: 5, atoms: atomIDs)],
            details: ["query_sha256": "00"])
        #expect(entry.kind == .queryReleased)
        var cells: [ReleasedCell] = []
        try h.vault.forEachReleasedCell { cells.append($0) }
        #expect(cells == [ReleasedCell(releaseID: "r1", logIndex: entry.index,
                                       cell: ReleaseCell(key: "all", recordCount: 5, atoms: atomIDs))])
        #expect(try h.vault.memberRowIDs(ofAtoms: atomIDs) == ids)
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try h.vault.recordRelease(id: "r2", queryJSON: "{}", details: [:]) { prior in
                try prior.forEachCell { _ in throw Refused() }
                return ReleaseDecision(cells: [])
            }
        }
        // A release whose file cannot be handed over is not recorded.
        #expect(throws: Refused.self) {
            try h.vault.recordRelease(id: "r3", queryJSON: "{}", details: [:], decide: { _ in ReleaseDecision(cells: []) },
                                      seal: { _, _, _ in throw Refused() })
        }
        #expect(try h.kinds().filter { $0 == "query.released" }.count == 1)
    }

    @Test("A vault made before atoms (schema v1) migrates: atoms from records, released cells' atoms from members")
    func migratesVersionOneVaults() throws {
        let h = try Harness()
        _ = try h.vault.ingest(batchAt: try h.batch(count: 6)) { _ in }
        _ = try h.vault.ingest(batchAt: try h.batch(name: "b2.jsonl", count: 3, students: ["x", "y", "z"],
                                                    subject: "chinese")) { _ in }
        let atoms = try h.vault.atoms()
        #expect(atoms.map(\.recordCount) == [6, 3])
        var rowIDs: [Int64] = []
        try h.vault.forEachRecord { rowIDs.append($0.rowID) }
        // A v1 database: the v1 tables copied from this vault, member rowids in release_cells, no v2 columns.
        let old = try TempDir()
        let path = old.url.appendingPathComponent("vault.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS src",
                           arguments: [h.vault.directory.appendingPathComponent("vault.sqlite").path])
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1');
                CREATE TABLE meta AS SELECT * FROM src.meta;
                CREATE TABLE audit_log (idx INTEGER PRIMARY KEY, time TEXT NOT NULL, kind TEXT NOT NULL,
                    details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
                INSERT INTO audit_log SELECT * FROM src.audit_log;
                CREATE TABLE schools (id TEXT PRIMARY KEY NOT NULL, attributes TEXT NOT NULL,
                    signing_public_key BLOB NOT NULL, registered TEXT NOT NULL);
                INSERT INTO schools SELECT * FROM src.schools;
                CREATE TABLE batches (id TEXT PRIMARY KEY NOT NULL, school_id TEXT NOT NULL, record_count INTEGER NOT NULL,
                    log_index INTEGER NOT NULL, received TEXT NOT NULL, header TEXT NOT NULL);
                INSERT INTO batches SELECT * FROM src.batches;
                CREATE TABLE records (rowid INTEGER PRIMARY KEY, batch_id TEXT NOT NULL, school_id TEXT NOT NULL,
                    pseudonym BLOB NOT NULL, subject TEXT NOT NULL, attrs TEXT NOT NULL, term TEXT NOT NULL,
                    ciphertext BLOB NOT NULL);
                INSERT INTO records SELECT rowid, batch_id, school_id, pseudonym, subject, attrs, term, ciphertext
                    FROM src.records;
                CREATE TABLE releases (id TEXT PRIMARY KEY NOT NULL, created TEXT NOT NULL, query TEXT NOT NULL,
                    log_index INTEGER NOT NULL);
                INSERT INTO releases VALUES ('old', '2025-01-01T00:00:00Z', '{}', 1);
                CREATE TABLE release_cells (release_id TEXT NOT NULL, cell_key TEXT NOT NULL,
                    record_count INTEGER NOT NULL, members BLOB NOT NULL, PRIMARY KEY (release_id, cell_key));
                """)
            // The release's one cell: all six math records and one Chinese record.
            let members = Array(rowIDs.prefix(7))
            try db.execute(sql: "INSERT INTO release_cells VALUES ('old', 'cell', 7, ?)",
                           arguments: [Data(try MemberSet.encode(members))])
            try db.execute(sql: "DETACH DATABASE src")
        }
        try queue.close()
        let migrated = try Vault.open(directory: old.url)
        #expect(try migrated.atoms() == atoms)
        var cells: [ReleasedCell] = []
        try migrated.forEachReleasedCell { cells.append($0) }
        #expect(cells.map(\.cell.atoms) == [atoms.map(\.id)])
        // Every record got its atom: a query plan over atoms sees all nine.
        #expect(try migrated.memberRowIDs(ofAtoms: atoms.map(\.id)) == rowIDs)
    }

    @Test("The ingest entry binds the batch: file SHA-256, the school's signature, the root over its record leaves")
    func ingestBindsTheData() throws {
        let h = try Harness()
        let url = try h.batch(count: 7)
        let receipt = try h.vault.ingest(batchAt: url) { _ in }
        let entry = try #require(try h.vault.auditEntries().first { $0.kind == .batchIngested })
        #expect(entry.details["file_sha256"] == Hex.encode(SHA256.hash(Array(try Data(contentsOf: url)))))
        #expect(entry.details["batch"] == receipt.batchID)
        let reader = try BatchReader(url: url)
        var leaves: [[UInt8]] = []
        while let record = try reader.nextRecord() {
            leaves.append(try RecordLeaf.data(pseudonym: record.pseudonym.bytes, subject: record.subject,
                                              canonicalAttributes: try CanonicalJSON.string(record.attributes),
                                              ciphertext: record.ciphertext))
        }
        #expect(entry.details["signature"] == reader.trailer?.sig && reader.trailer?.sig.isEmpty == false)
        #expect(entry.details["record_root"] == Hex.encode(MerkleTree.root(leaves)))
        let school = try #require(try h.vault.auditEntries().first { $0.kind == .schoolRegistered })
        #expect(school.details["signing_public_key"] == Hex.encode(try h.keys.signingKey().publicKey.rawRepresentation))
        let policy = try #require(try h.vault.auditEntries().first { $0.kind == .policyLoaded })
        #expect(policy.details["text"] == String(decoding: try defaultPolicyBytes(), as: UTF8.self))
    }

    @Test("Every write signs a checkpoint; inclusion and consistency proofs come from stored subtrees and verify")
    func checkpointsAndProofs() throws {
        let h = try Harness()
        for i in 0..<3 { _ = try h.vault.ingest(batchAt: try h.batch(name: "b\(i).jsonl", count: 2, students: ["x\(i)", "y\(i)"])) { _ in } }
        let key = try NoteVerifierKey(encoded: try #require(h.vault.descriptor.logKey))
        let entries = try h.vault.auditEntries()
        let notes = try h.vault.auditSource.checkpoints()
        // One checkpoint per write transaction, the last covering every entry.
        #expect(notes.last?.size == Int64(entries.count))
        #expect(notes.count == 5)  // create, register, three ingests
        var checkpoints: [Int64: Checkpoint] = [:]
        for row in notes {
            let note = try SignedNote(parsing: row.note)
            #expect(note.verify(key))
            checkpoints[row.size] = try Checkpoint(parsing: note.text)
        }
        let sizes = notes.map(\.size)
        for size in sizes {
            let root = try #require(checkpoints[size]).rootHash
            for entry in entries where entry.index <= size {
                let proof = try h.vault.inclusionProof(entry: entry.index, size: size)
                #expect(proof.count <= 2 * 64)
                #expect(MerkleProofs.verifyInclusion(leafHash: MerkleTree.leafHash(Hex.decode(entry.hash)!), index: entry.index - 1,
                                                     size: size, proof: proof, root: root))
            }
            for later in sizes where later > size {
                let proof = try h.vault.consistencyProof(from: size, to: later)
                #expect(MerkleProofs.verifyConsistency(size1: size, size2: later, root1: root,
                                                       root2: try #require(checkpoints[later]).rootHash, proof: proof))
            }
        }
        // The key file is 0600 and matches the descriptor.
        let keyFile = h.vault.directory.appendingPathComponent("log-key.private").path
        #expect((try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int) == 0o600)
    }

    @Test func memberSetRoundTrips() throws {
        let ids: [Int64] = [1, 2, 130, 1_000_000, Int64.max]
        #expect(try MemberSet.decode(MemberSet.encode(ids)) == ids)
        #expect(throws: StoreError.self) { try MemberSet.encode([3, 2]) }
        #expect(throws: StoreError.self) { try MemberSet.decode([0x80]) }
    }
}

@Suite struct PolicyAndAuditTests {
    @Test func loadsTheDefaultPolicy() throws {
        let bytes = try defaultPolicyBytes()
        let policy = try Policy.parse(bytes)
        #expect(policy.id == "eduvault-default" && policy.version == 4)
        #expect(policy.modelMinDF == 10 && policy.modelRefusesSaturated && policy.modelLevelK)
        #expect(policy.permits(role: "auditor", action: "status.read") && policy.permits(role: "operator", action: "status.read"))
        #expect(!policy.permits(role: "school", action: "query.request") && policy.permits(role: "bureau", action: "release.read"))
        #expect(policy.minCellSize == 10 && policy.differencingThreshold == 10)
        #expect(!policy.complementarySuppression && policy.differencingGuard && policy.linearAudit)
        #expect(policy.differentialPrivacy == nil)
        #expect(policy.allowedAttributes.contains("residence") && policy.minKeyBits == 2048)
        #expect(policy.retentionDays == 1825 && policy.permits(role: "bureau", action: "release.decrypt"))
        #expect(policy.sha256 == Hex.encode(SHA256.hash(bytes)))
    }

    @Test func refusesBadPolicies() throws {
        let text = String(decoding: try defaultPolicyBytes(), as: UTF8.self)
        func code(_ yaml: String) -> PolicyError.Code? {
            do { _ = try Policy.parse(Array(yaml.utf8)) } catch { return error.code }
            return nil
        }
        #expect(code(text.replacingOccurrences(of: "id: RETENTION", with: "id: NOPE")) == .unknownRule)
        #expect(code(text.replacingOccurrences(of: "min_cell_size: 10", with: "min_cell_size: ten")) == .invalidValue)
        #expect(
            code(text.replacingOccurrences(of: "enabled: false\n  - id: DIFF", with: "enabled: 3\n  - id: DIFF"))
                == .invalidValue)
        #expect(code("id: x\nversion: 1\nrules: []\n") == .missingField)
        #expect(code("- a\n") == .malformedYAML)
    }

    @Test("LIN-AUDIT is on unless a policy turns it off; DP budgets are exact decimals with clear refusals")
    func linearAuditAndPrivacyRules() throws {
        let text = String(decoding: try defaultPolicyBytes(), as: UTF8.self)
        let start = try #require(text.range(of: "  - id: LIN-AUDIT"))
        let end = try #require(text.range(of: "  - id: COMP-SUPP"))
        let without = text.replacingCharacters(in: start.lowerBound..<end.lowerBound, with: "")
        #expect(try Policy.parse(Array(without.utf8)).linearAudit)
        let off = text.replacingOccurrences(of: "(audited over atoms, exact arithmetic modulo a prime).\n    enabled: true",
                                            with: "(audited over atoms, exact arithmetic modulo a prime).\n    enabled: false")
        #expect(off != text)
        #expect(try !Policy.parse(Array(off.utf8)).linearAudit)

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let dpText = try String(contentsOf: root.appendingPathComponent("Policies/differential-privacy.yaml"), encoding: .utf8)
        let dp = try #require(try Policy.parse(Array(dpText.utf8)).differentialPrivacy)
        #expect(dp.rhoTotalNano == 2_000_000_000 && dp.rhoPerReleaseNano == 250_000_000)
        #expect(Policy.DifferentialPrivacy.decimal(nano: 250_000_000) == "0.25")
        #expect(Policy.DifferentialPrivacy.decimal(nano: 2_000_000_000) == "2")
        for bad in ["0", "-1", "1e3", "0.0000000001", "abc", "0.", ".5", "2000000.5", "true"] {
            let yaml = dpText.replacingOccurrences(of: "rho_per_release: 0.25", with: "rho_per_release: \(bad)")
            #expect(throws: PolicyError.self, "rho_per_release: \(bad)") { try Policy.parse(Array(yaml.utf8)) }
        }
        let over = dpText.replacingOccurrences(of: "rho_per_release: 0.25", with: "rho_per_release: 3")
        let error = #expect(throws: PolicyError.self) { try Policy.parse(Array(over.utf8)) }
        #expect(error?.message.contains("must not exceed") == true)
        let disabled = dpText.replacingOccurrences(of: "rho_total: 2\n", with: "rho_total: 2\n")
            .replacingOccurrences(of: "refused under DP-BUDGET.\n    enabled: true",
                                  with: "refused under DP-BUDGET.\n    enabled: false")
        #expect(disabled != dpText)
        #expect(try Policy.parse(Array(disabled.utf8)).differentialPrivacy == nil)
    }

    @Test func chainDetectsEditsAndReordering() throws {
        var entries: [AuditEntry] = []
        for i in 0..<5 {
            entries.append(try AuditChain.entry(after: entries.last, kind: .batchIngested, details: ["n": String(i)]))
        }
        #expect(try AuditChain.verify(entries) == 5)
        var edited = entries
        edited[2].details["n"] = "9"
        let editedError = #expect(throws: AuditError.self) { try AuditChain.verify(edited) }
        #expect(editedError?.index == 3 && editedError?.code == .hashMismatch)
        var dropped = entries
        dropped.remove(at: 1)
        let droppedError = #expect(throws: AuditError.self) { try AuditChain.verify(dropped) }
        #expect(droppedError?.index == 2)
    }

    @Test func merkleInclusionProofs() throws {
        let leaves = (0..<7).map { SHA256.hash([UInt8($0)]) }
        for size in 1...7 {
            let tree = Array(leaves.prefix(size))
            let root = MerkleTree.root(tree)
            for index in 0..<size {
                let proof = try MerkleTree.inclusionProof(index: index, entryHashes: tree)
                #expect(
                    MerkleTree.verifyInclusion(
                        entryHash: tree[index], index: index, size: size, proof: proof, root: root))
                #expect(
                    !MerkleTree.verifyInclusion(
                        entryHash: SHA256.hash([99]), index: index, size: size, proof: proof, root: root))
            }
        }
        #expect(MerkleTree.root([leaves[0]]) == MerkleTree.leafHash(leaves[0]))
        let two = MerkleTree.nodeHash(MerkleTree.leafHash(leaves[0]), MerkleTree.leafHash(leaves[1]))
        #expect(MerkleTree.root(Array(leaves.prefix(2))) == two)
    }
}
