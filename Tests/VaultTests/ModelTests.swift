import Foundation
import Primitives
import Testing
import VaultModel

@Suite struct SchemaTests {
    @Test func parsesFixedPointScores() throws {
        let schema = try Schema()
        #expect(try schema.parseScore("87.5") == 875)
        #expect(try schema.parseScore("87") == 870)
        #expect(try schema.parseScore(" 0 ") == 0)
        #expect(try schema.parseScore("100.0") == 1000)
        #expect(try schema.parseScore(".5") == 5)
        #expect(schema.formatScore(875) == "87.5")
        #expect(schema.maxSlotValue(slot: 0) == 1000)
        #expect(schema.maxSlotValue(slot: 1) == 1_000_000)
        #expect(schema.maxSlotValue(slot: 2) == nil)
    }

    @Test(arguments: [
        ("87.55", ModelError.Code.tooManyDecimals), ("abc", .nonNumericScore), ("", .nonNumericScore),
        ("1e3", .nonNumericScore), ("100.1", .scoreOutOfRange), ("-1", .scoreOutOfRange),
        ("99999999999999999999", .scoreOutOfRange), ("8.", .nonNumericScore), ("1.2.3", .nonNumericScore),
    ])
    func refusesBadScores(text: String, code: ModelError.Code) throws {
        let schema = try Schema()
        let error = #expect(throws: ModelError.self) { try schema.parseScore(text) }
        #expect(error?.code == code)
    }

    @Test func refusesInconsistentSchemas() {
        #expect(throws: ModelError.self) { try Schema(minScore: -1) }
        #expect(throws: ModelError.self) { try Schema(minScore: 10, maxScore: 5) }
        #expect(throws: ModelError.self) { try Schema(maxScore: 1_000_000, slotBits: 32) }
        #expect(throws: ModelError.self) { try Schema(attributes: [.init(name: "score")]) }
    }

    @Test func schemaHashIsStableAndCanonical() throws {
        let a = try Schema()
        let json = try a.canonicalJSON()
        let b = try JSONDecoder().decode(Schema.self, from: Data(json))
        #expect(a == b)
        #expect(try a.schemaHash == b.schemaHash)
        #expect(try a.schemaHash != Schema(scale: 2, maxScore: 10000).schemaHash)
        #expect(String(decoding: json, as: UTF8.self).hasPrefix("{\"attributes\":"))
    }

    @Test func attributesAreCheckedAndNormalised() throws {
        let schema = try Schema()
        #expect(try schema.normalizeAttribute(name: "sex", value: "f") == "F")
        #expect(throws: ModelError.self) { try schema.normalizeAttribute(name: "sex", value: "X") }
        #expect(throws: ModelError.self) { try schema.normalizeAttribute(name: "shoe", value: "42") }
        #expect(try schema.normalizeSubject("Math") == "math")
        #expect(throws: ModelError.self) { try schema.normalizeSubject("math class") }
    }

    @Test func identifiersAreValidated() throws {
        #expect(throws: ModelError.self) { try SchoolID("bad id") }
        #expect(throws: ModelError.self) { try SchoolID(String(repeating: "a", count: 65)) }
        #expect(throws: ModelError.self) { try Pseudonym(hex: "abcd") }
        let keys = try SchoolKeys.generate(schoolID: try SchoolID("s1"), vaultID: "v1")
        let decoded = try JSONDecoder().decode(SchoolKeys.self, from: try JSONEncoder().encode(keys))
        #expect(decoded.signingSeed == keys.signingSeed && decoded.pseudonymKey == keys.pseudonymKey)
        #expect(try keys.pseudonym(forStudent: "a") != keys.pseudonym(forStudent: "b"))
    }
}

@Suite struct BatchFileTests {
    @Test func roundTripsAndVerifies() throws {
        let h = try Harness()
        let url = try h.batch(count: 3)
        let reader = try BatchReader(url: url)
        #expect(reader.header.records == 3)
        var records: [BatchRecord] = []
        while let record = try reader.nextRecord() { records.append(record) }
        #expect(records.count == 3)
        #expect(try records[0].pseudonym == h.keys.pseudonym(forStudent: "student-0"))
        #expect(records[0].attributes == ["term": "2024-1", "sex": "F"])
        try reader.verify(publicKey: try h.keys.signingKey().publicKey)
        #expect(reader.contentHash == (try BatchReader.contentHash(of: url)))
        let other = try Ed25519.PrivateKey()
        #expect(throws: ModelError.self) { try reader.verify(publicKey: other.publicKey) }
    }

    @Test func malformedLinesNameTheirLine() throws {
        let h = try Harness()
        let url = try h.batch(count: 3)
        try editLine(url, 3) { _ in "{not json" }
        let reader = try BatchReader(url: url)
        let caught = #expect(throws: ModelError.self) { while try reader.nextRecord() != nil {} }
        #expect(caught?.code == .malformedBatch)
        #expect(caught?.line == 3)
    }

    @Test func writerRefusesWrongCountsAndLeavesNoFile() throws {
        let dir = try TempDir()
        let url = dir.url.appendingPathComponent("b.jsonl")
        let header = BatchHeader(school: try SchoolID("s"), vault: "v", keyID: "k", schemaHash: "00", records: 2)
        do {
            let writer = try BatchWriter(url: url, header: header)
            #expect(throws: ModelError.self) { try writer.finish(signingKey: try Ed25519.PrivateKey()) }
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).isEmpty)
    }
}
