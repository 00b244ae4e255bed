// School score sheets (`school encrypt --input`): RFC 4180 CSV with student_id, subject, score and attribute columns.
//
// Path: ScoreCSV(url:schema:) and next() over the whole file, as `school encrypt` does in its validation pass, with
// the standard schema.
// Properties: every row has a non-empty trimmed student id, a canonical subject, a score within the schema's bounds
// and canonical attribute values; no (student, subject, term) appears twice; the rows written back as CSV (every
// field quoted) read back to the same rows; a score printed with formatScore parses back to itself.
import Foundation
import FuzzDriver
import FuzzSupport
import VaultModel

let schema: Schema = {
    do { return try Schema() } catch { fatalError("the standard schema is invalid: \(error)") }  // safe: constant
}()

func read(_ url: URL) -> (columns: [String], rows: [ScoreRow])? {
    guard let csv = try? ScoreCSV(url: url, schema: schema) else { return nil }
    var rows: [ScoreRow] = []
    while true {
        do {
            guard let row = try csv.next() else { return (csv.columns, rows) }
            rows.append(row)
        } catch { return nil }
    }
}

/// Quotes a CSV field at the byte level: every `"` byte doubled. (Not String.replacingOccurrences, which compares
/// grapheme clusters and misses a quote followed by a combining mark — the first crash this target found.)
func quoted(_ field: String) -> String {
    var bytes: [UInt8] = [UInt8(ascii: "\"")]
    for byte in field.utf8 {
        bytes.append(byte)
        if byte == UInt8(ascii: "\"") { bytes.append(byte) }
    }
    bytes.append(UInt8(ascii: "\""))
    return String(decoding: bytes, as: UTF8.self)
}

Fuzz.run { data in
    guard let (columns, rows) = read(Fuzz.write(data, to: "scores.csv")) else { return }
    var seen = Set<[String]>()
    for row in rows {
        Fuzz.require(!row.studentID.isEmpty, "an empty student id was accepted")
        Fuzz.require((try? schema.normalizeSubject(row.subject)) == row.subject, "a non-canonical subject")
        Fuzz.require((schema.minScore...schema.maxScore).contains(row.score), "a score outside the schema's bounds")
        Fuzz.require((try? schema.parseScore(schema.formatScore(row.score))) == row.score, "formatScore does not round-trip")
        Fuzz.require((try? schema.normalizeAttributes(row.attributes)) == row.attributes, "non-canonical attributes")
        Fuzz.require(row.attributes.keys.allSatisfy { columns.contains($0) }, "an attribute without a column")
        Fuzz.require(seen.insert([row.studentID, row.subject, row.attributes["term"] ?? ""]).inserted,
                     "a duplicate (student, subject, term) was accepted")
    }
    // Write the rows back, every field quoted, and read them again.
    let attributes = columns.filter { !["student_id", "subject", "score"].contains($0) }
    var text = (["student_id", "subject", "score"] + attributes).map(quoted).joined(separator: ",") + "\r\n"
    for row in rows {
        let fields = [row.studentID, row.subject, schema.formatScore(row.score)] + attributes.map { row.attributes[$0] ?? "" }
        text += fields.map(quoted).joined(separator: ",") + "\n"
    }
    guard let (_, again) = read(Fuzz.write(Data(text.utf8), to: "again.csv")) else {
        return Fuzz.require(false, "the rows written back do not read back")
    }
    Fuzz.require(again.count == rows.count, "the rows written back read back as \(again.count), not \(rows.count)")
    for (a, b) in zip(rows, again) {
        Fuzz.require(a.studentID == b.studentID && a.subject == b.subject && a.score == b.score
                         && a.attributes == b.attributes, "a row changed when written back and read again")
    }
}
