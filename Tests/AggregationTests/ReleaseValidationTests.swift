import Foundation
import Testing
import VaultAggregation

/// Issue 14: a release that decodes is consistent — the fuzz target's property, pinned by examples.
@Suite("Release files are checked for consistency when read")
struct ReleaseValidationTests {
    /// A release in the file format, with `cells` and `suppressed` given as JSON.
    func release(by: [String] = ["subject"], contrast: String? = "region", cells: String, suppressed: String = "[]") -> Data {
        let byList = "[" + by.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        let query = "{\"by\": \(byList), \"filters\": {}"
            + (contrast.map { ", \"contrast\": \"\($0)\"" } ?? "") + "}"
        let text = """
            {"format": "eduvault-release/1", "id": "r", "vault": "v", "key_id": "pk-1", "query": \(query),
             "policy": {"id": "p", "version": 1, "sha256": "00"}, "created": "2026-01-01T00:00:00Z", "log_index": 5,
             "scale": 1, "slot_bits": 96, "slot_count": 2, "cells": \(cells), "suppressed": \(suppressed)}
            """
        return Data(text.utf8)
    }

    @Test("A consistent release decodes")
    func consistent() throws {
        let data = release(cells: "[\(Self.cellText("math", "rural")), \(Self.cellText("math", "urban"))]",
                           suppressed: "[{\"by\": {\"subject\": \"chinese\", \"region\": \"rural\"}, \"rule\": \"K-MIN\"}]")
        let decoded = try Release.decode(data)
        #expect(decoded.cells.count == 2 && decoded.suppressed.count == 1)
        #expect(try Release.decode(decoded.jsonData()) == decoded)
    }

    @Test("Inconsistent releases are refused", arguments: [
        ("a cell without the contrast attribute", "[{\"by\": {\"subject\": \"math\"}, \"count\": 12, \"sum\": \"5\"}]", "[]"),
        ("a cell with an extra attribute",
         "[{\"by\": {\"subject\": \"math\", \"region\": \"rural\", \"sex\": \"F\"}, \"count\": 12, \"sum\": \"5\"}]", "[]"),
        ("two cells with the same key", "[\(Self.cellText("math", "rural")), \(Self.cellText("math", "rural"))]", "[]"),
        ("a released cell also withheld", "[\(Self.cellText("math", "rural"))]",
         "[{\"by\": {\"subject\": \"math\", \"region\": \"rural\"}, \"rule\": \"K-MIN\"}]"),
        ("a cell of no records", "[\(Self.cellText("math", "rural", count: 0))]", "[]"),
        ("a negative count", "[\(Self.cellText("math", "rural", count: -3))]", "[]"),
        ("counts that overflow", "[\(Self.cellText("math", "rural", count: Int.max)), \(Self.cellText("math", "urban", count: 1))]", "[]"),
        ("a sum that is not decimal", "[\(Self.cellText("math", "rural", sum: "12a"))]", "[]"),
        ("a sum with a leading zero", "[\(Self.cellText("math", "rural", sum: "012"))]", "[]"),
        ("a negative sum", "[\(Self.cellText("math", "rural", sum: "-12"))]", "[]"),
        ("an empty sum", "[\(Self.cellText("math", "rural", sum: ""))]", "[]"),
        ("a sum longer than any ciphertext", "[\(Self.cellText("math", "rural", sum: String(repeating: "7", count: 5001)))]", "[]"),
        ("a withheld cell without a rule", "[]", "[{\"by\": {\"subject\": \"math\", \"region\": \"rural\"}, \"rule\": \"\"}]"),
        ("a withheld cell keyed differently", "[]", "[{\"by\": {\"subject\": \"math\"}, \"rule\": \"K-MIN\"}]"),
    ])
    func inconsistent(what: String, cells: String, suppressed: String) throws {
        let error = #expect(throws: AggregationError.self, "\(what)") {
            try Release.decode(release(cells: cells, suppressed: suppressed))
        }
        #expect(error?.code == .invalidRelease, "\(what)")
        // Refused for its inconsistency, not because the file failed to parse at all.
        #expect(error?.message.contains("not an EduVault release file") == false, "\(what): \(String(describing: error))")
    }

    @Test("A query that groups by its contrast attribute is refused")
    func contrastInBy() throws {
        let error = #expect(throws: AggregationError.self) {
            try Release.decode(release(by: ["region"], contrast: "region", cells: "[]"))
        }
        #expect(error?.message.contains("names an attribute twice") == true)
    }

    static func cellText(_ subject: String, _ region: String, count: Int = 12, sum: String = "12345") -> String {
        "{\"by\": {\"subject\": \"\(subject)\", \"region\": \"\(region)\"}, \"count\": \(count), \"sum\": \"\(sum)\"}"
    }
}
