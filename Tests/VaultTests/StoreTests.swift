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
        for table in ["audit_log", "batches", "meta", "records", "release_cells", "releases", "schools"] {
            #expect(tables.contains(table))
        }
        let migrations = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(migrations == ["v1"])
    }

    @Test func releasesStoreCellsAndMembers() throws {
        let h = try Harness()
        _ = try h.vault.ingest(batchAt: try h.batch(count: 5)) { _ in }
        var ids: [Int64] = []
        try h.vault.forEachRecord { ids.append($0.rowID) }
        let entry = try h.vault.recordRelease(
            id: "r1", queryJSON: "{}", cells: [ReleaseCell(key: "all", recordCount: 5, members: ids)],
            details: ["query_sha256": "00"])
        #expect(entry.kind == .queryReleased)
        var cells: [ReleasedCell] = []
        try h.vault.forEachReleasedCell { cells.append($0) }
        #expect(cells == [ReleasedCell(releaseID: "r1", cell: ReleaseCell(key: "all", recordCount: 5, members: ids))])
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try h.vault.recordRelease(id: "r2", queryJSON: "{}", cells: [], details: [:]) { prior in
                try prior.forEachCell { _ in throw Refused() }
            }
        }
        #expect(try h.kinds().filter { $0 == "query.released" }.count == 1)
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
        #expect(policy.id == "eduvault-default" && policy.version == 1)
        #expect(policy.minCellSize == 10 && policy.differencingThreshold == 10)
        #expect(policy.complementarySuppression && policy.differencingGuard)
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
            code(text.replacingOccurrences(of: "enabled: true\n  - id: DIFF", with: "enabled: 3\n  - id: DIFF"))
                == .invalidValue)
        #expect(code("id: x\nversion: 1\nrules: []\n") == .missingField)
        #expect(code("- a\n") == .malformedYAML)
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
