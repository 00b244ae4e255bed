import Foundation
import Testing
import VaultModel

@Suite struct ScoreCSVTests {
    func read(_ text: String) throws -> [ScoreRow] {
        let dir = try TempDir()
        let url = try dir.file("scores.csv", text)
        let csv = try ScoreCSV(url: url, schema: try Schema())
        var rows: [ScoreRow] = []
        while let row = try csv.next() { rows.append(row) }
        return rows
    }

    /// Reads `text`, expects an error, and checks that it names the file, line and column without leaking values.
    func expectError(
        _ text: String, _ code: ModelError.Code, line: Int, column: Int?, secrets: [String] = ["S-9731", "77.7"]
    ) throws {
        do {
            _ = try read(text)
            Issue.record("expected \(code)")
        } catch let error as ModelError {
            #expect(error.code == code)
            #expect(error.file == "scores.csv")
            #expect(error.line == line)
            #expect(error.column == column)
            let text = error.description
            #expect(text.contains("scores.csv") && text.contains("line \(line)"))
            for secret in secrets { #expect(!text.contains(secret), "message leaks a value: \(text)") }
        }
    }

    @Test func readsQuotedCRLFRows() throws {
        let rows = try read(
            "\u{FEFF}student_id,subject,score,term,sex\r\nS-1,Math,87.5,2024-1,f\r\n"
                + "\"S,2\",math,\"90\",2024-1,M\r\n\r\n"
        )
        #expect(rows.count == 2)
        #expect(
            rows[0].score == 875 && rows[0].subject == "math" && rows[0].attributes == ["term": "2024-1", "sex": "F"])
        #expect(rows[1].studentID == "S,2" && rows[1].score == 900 && rows[1].line == 3)
    }

    @Test func missingColumn() throws {
        try expectError("student_id,subject\nS-9731,math\n", .missingColumn, line: 1, column: nil)
    }

    @Test func unknownAttribute() throws {
        try expectError("student_id,subject,score,shoe\nS-9731,math,77.7,42\n", .unknownAttribute, line: 1, column: 4)
    }

    @Test func attributeValueNotAllowed() throws {
        try expectError(
            "student_id,subject,score,sex\nS-1,math,1,F\nS-9731,math,77.7,X\n", .attributeValueNotAllowed, line: 3,
            column: 4)
    }

    @Test func scoreOutOfBounds() throws {
        try expectError(
            "student_id,subject,score\nS-9731,math,177.7\n", .scoreOutOfRange, line: 2, column: 3,
            secrets: ["S-9731", "177.7"])
    }

    @Test func nonNumericScore() throws {
        try expectError(
            "student_id,subject,score\nS-9731,math,seventy\n", .nonNumericScore, line: 2, column: 3,
            secrets: ["S-9731", "seventy"])
    }

    @Test func tooManyDecimals() throws {
        try expectError(
            "student_id,subject,score\nS-9731,math,77.77\n", .tooManyDecimals, line: 2, column: 3,
            secrets: ["S-9731", "77.77"])
    }

    @Test func emptyID() throws {
        try expectError("student_id,subject,score\n,math,77.7\n", .emptyStudentID, line: 2, column: 1)
        // Control characters (NUL, ESC): a damaged export, refused by line. (Line breaks inside quotes are legal CSV.)
        try expectError("student_id,subject,score\na\u{0}b,math,77.7\n", .emptyStudentID, line: 2, column: 1)
        try expectError("student_id,subject,score\na\u{1B}[31mb,math,77.7\n", .emptyStudentID, line: 2, column: 1)
    }

    @Test func duplicateStudentSubjectTerm() throws {
        try expectError(
            "student_id,subject,score,term\nS-9731,math,77.7,2024-1\nS-9731,english,60,2024-1\nS-9731,Math,50,2024-1\n",
            .duplicateRow, line: 4, column: 1)
        // Another term is not a duplicate.
        #expect(try read("student_id,subject,score,term\nA,math,1,t1\nA,math,1,t2\n").count == 2)
    }

    @Test func malformedQuoting() throws {
        try expectError("student_id,subject,score\n\"S-9731,math,77.7\n", .malformedCSV, line: 2, column: 1)
        try expectError("student_id,subject,score\nS-9731,math\n", .malformedCSV, line: 2, column: nil)
    }

    @Test func readsTheUCIFixtureAfterConversion() throws {
        // The UCI file is semicolon-separated with G3 on a 0–20 scale; convert a slice to our CSV and read it.
        let source = fixturesDirectory().appendingPathComponent("uci-student-performance/student-mat.csv")
        let lines = try String(contentsOf: source, encoding: .utf8).split(separator: "\n")
        var out = "student_id,subject,score,sex,residence\n"
        for (offset, line) in lines.dropFirst().prefix(50).enumerated() {
            let f = line.split(separator: ";").map { $0.replacingOccurrences(of: "\"", with: "") }
            let score = (Double(f[32]) ?? 0) * 5
            out += "uci-\(offset),math,\(score),\(f[1]),\(f[3] == "U" ? "urban" : "rural")\n"
        }
        let rows = try read(out)
        #expect(rows.count == 50)
        #expect(rows.allSatisfy { (0...1000).contains($0.score) })
    }
}
