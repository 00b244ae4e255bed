import Foundation
import Testing

/// `release decrypt --format csv` must quote fields byte by byte: a comma or quote followed by a combining mark is
/// one grapheme cluster, which String.contains(",") and replacingOccurrences(of: "\"") do not see (found through
/// the score-csv fuzz target's property, which made the same mistake).
@Suite("Release CSV output")
struct ReleaseCSVTests {
    /// RFC 4180 records of `text`, split at the byte level.
    static func records(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if bytes.first == UInt8(ascii: "\"") { field.append(byte); bytes.removeFirst() } else { quoted = false }
                } else { field.append(byte) }
            } else if byte == UInt8(ascii: "\"") {
                quoted = true
            } else if byte == UInt8(ascii: ",") {
                fields.append(String(decoding: field, as: UTF8.self)); field = []
            } else if byte == UInt8(ascii: "\n") {
                fields.append(String(decoding: field, as: UTF8.self)); field = []
                records.append(fields); fields = []
            } else { field.append(byte) }
        }
        return records
    }

    @Test("Attribute values with a comma or quote followed by a combining mark stay in their column")
    func combiningMarks() throws {
        let fixture = try VaultFixture()
        defer { fixture.remove() }
        let counties = ["Ding,\u{301}xi", "Q\"\u{596}in"]
        var batches: [String] = []
        for (index, county) in counties.enumerated() {
            let id = "S\(index)"
            let keys = try fixture.addSchool(id, ["region=rural", "county=\(county)"])
            var csv = "student_id,subject,score\n"
            for s in 0..<12 { csv += "\(id)-\(s),math,\(50 + s)\n" }
            let input = try fixture.write("\(id).csv", csv)
            let batch = fixture.path("\(id).batch")
            let encrypted = try fixture.encrypt(school: id, keys: keys, csv: input, output: batch)
            #expect(encrypted.status == 0, "\(encrypted.stderr)")
            batches.append(batch)
        }
        #expect(try fixture.ingest(batches).status == 0)
        let release = fixture.path("release.json")
        let query = try CLI.eduvault(["query", "--vault", fixture.vault, "--by", "county", "--out", release])
        #expect(query.status == 0, "\(query.stderr)")
        let csv = try CLI.eduvault(["release", "decrypt", "--private-key", CLI.key("eduvault-1024", "private"),
                                    "--insecure-test-key", "--format", "csv", release])
        #expect(csv.status == 0, "\(csv.stderr)")
        let rows = Self.records(csv.stdout)
        #expect(rows.count == 3, "\(csv.stdout)")
        #expect(rows.allSatisfy { $0.count == rows.first?.count }, "a field spilled into another column:\n\(csv.stdout)")
        #expect(Set(rows.dropFirst().map { $0.first ?? "" }) == Set(counties), "\(rows)")
    }
}
