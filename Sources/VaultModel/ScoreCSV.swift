public import Foundation
import Primitives

/// One row of a school's score CSV, validated against the schema.
///
/// Security: `studentID` is the clear id; it must be pseudonymised before anything leaves the school.
public struct ScoreRow: Sendable, Equatable {
    /// The school's own student id (never leaves the school in the clear).
    public var studentID: String
    /// The subject, lower-cased and checked.
    public var subject: String
    /// The score as a fixed-point integer.
    public var score: Int
    /// Declared attributes present in the row (empty cells are omitted), canonically spelled.
    public var attributes: [String: String]
    /// The 1-based line the row starts on.
    public var line: Int
    /// The schema's covariates as fixed-point integers, in declaration order (empty without covariates).
    public var covariates: [Int]

    /// Makes a row.
    public init(
        studentID: String, subject: String, score: Int, attributes: [String: String], line: Int, covariates: [Int] = []
    ) {
        self.studentID = studentID
        self.subject = subject
        self.score = score
        self.attributes = attributes
        self.line = line
        self.covariates = covariates
    }
}

/// Reads a school's score CSV row by row (memory flat in the number of rows, apart from one 16-byte digest per
/// row kept for duplicate detection).
///
/// The file needs a header row with the columns `student_id`, `subject` and `score`, and one column named after each
/// covariate the schema declares; every other column must be an attribute the schema declares. Every row must give
/// every covariate a value within its bounds. Quoting follows RFC 4180; lines may end in CRLF or LF; a UTF-8 byte order mark is
/// skipped. Every error is a `ModelError` naming the file, line and column; no message contains a student id or a
/// score. Not `Sendable`: one reader per task.
public final class ScoreCSV {
    /// The column names, in file order.
    public let columns: [String]

    private let schema: Schema
    private let source: ByteSource
    private let fileName: String
    private var line = 1
    private let idIndex: Int
    private let subjectIndex: Int
    private let scoreIndex: Int
    private let covariateIndices: [Int]
    private var seen: [SIMD2<UInt64>: Int] = [:]

    /// Longest field accepted, in bytes.
    public static let maxFieldBytes = 4096
    /// Most fields a row may have (student_id, subject, score and the schema's attributes fit many times over).
    public static let maxColumns = 1024

    /// Opens `url` and reads the header row.
    ///
    /// - Throws: `.io`, `.malformedCSV`, `.missingColumn`, `.unknownAttribute` (naming line 1 and the column).
    public init(url: URL, schema: Schema) throws(ModelError) {
        self.schema = schema
        fileName = url.lastPathComponent
        source = try ByteSource(url: url)
        if try source.peek() == 0xEF {
            var bom: [UInt8] = []
            for _ in 0..<3 { if let byte = try source.next() { bom.append(byte) } }
            guard bom == [0xEF, 0xBB, 0xBF] else {
                throw ModelError(.malformedCSV, "the file is not UTF-8 text", file: url.lastPathComponent, line: 1)
            }
        }
        var header: [String]?
        var scratch = ScoreCSV.placeholderState()
        header = try ScoreCSV.readRecord(source: source, fileName: fileName, line: &scratch)
        guard let header, header != [""] else {
            throw ModelError(.missingColumn, "the file has no header row", file: fileName, line: 1)
        }
        let names = header.map { Tokens.lowercased($0.trimmingASCIISpaces()) }
        func index(of name: String) throws(ModelError) -> Int {
            guard let index = names.firstIndex(of: name) else {
                throw ModelError(
                    .missingColumn, "the required column '\(name)' is missing", file: url.lastPathComponent, line: 1)
            }
            return index
        }
        idIndex = try index(of: "student_id")
        subjectIndex = try index(of: "subject")
        scoreIndex = try index(of: "score")
        var covariateIndices: [Int] = []
        for covariate in schema.covariates {
            guard let index = names.firstIndex(of: covariate.name) else {
                throw ModelError(
                    .missingColumn, "the covariate column '\(covariate.name)' is missing (the schema declares it)",
                    file: url.lastPathComponent, line: 1)
            }
            covariateIndices.append(index)
        }
        self.covariateIndices = covariateIndices
        var unique = Set<String>()
        for (offset, name) in names.enumerated() {
            guard unique.insert(name).inserted else {
                throw ModelError(
                    .malformedCSV, "the column '\(name)' appears twice", file: fileName, line: 1, column: offset + 1)
            }
            if ["student_id", "subject", "score"].contains(name) || schema.covariateIndex(named: name) != nil { continue }
            guard schema.attribute(named: name) != nil else {
                throw ModelError(
                    .unknownAttribute, "the column '\(name)' is not an attribute the schema declares",
                    file: fileName, line: 1, column: offset + 1)
            }
        }
        columns = names
        line = scratch
    }

    private static func placeholderState() -> Int { 1 }

    /// The next row, or `nil` at end of file. Blank lines are skipped.
    ///
    /// - Throws: `.malformedCSV` (quoting, wrong number of fields), `.emptyStudentID`, `.invalidSubject`,
    ///   `.nonNumericScore`, `.tooManyDecimals`, `.scoreOutOfRange`, `.attributeValueNotAllowed`, `.duplicateRow` —
    ///   each naming file, line and column (a covariate error names the covariate: "covariate 'absences' is empty",
    ///   "… is outside 0.0–93.0", never the value).
    public func next() throws(ModelError) -> ScoreRow? {
        var start = line
        var fields: [String]
        repeat {
            start = line
            guard let record = try ScoreCSV.readRecord(source: source, fileName: fileName, line: &line) else {
                return nil
            }
            fields = record
        } while fields == [""]
        func fail(_ code: ModelError.Code, _ message: String, column: Int) -> ModelError {
            ModelError(code, message, file: fileName, line: start, column: column + 1)
        }
        guard fields.count == columns.count else {
            throw ModelError(
                .malformedCSV, "the row has \(fields.count) fields, the header has \(columns.count)",
                file: fileName, line: start)
        }
        let studentID = fields[idIndex].trimmingASCIISpaces()
        guard !studentID.isEmpty else {
            throw fail(.emptyStudentID, "column 'student_id' is empty", column: idIndex)
        }
        // An id with a control character (NUL, an escape, DEL) is almost surely a damaged export, and would make two
        // spellings of one student two pseudonyms. Tab and line breaks inside quotes are legal CSV and stay. The id
        // itself is never printed.
        guard studentID.unicodeScalars.allSatisfy({
            ($0.value >= 0x20 || [0x09, 0x0A, 0x0D].contains($0.value)) && $0.value != 0x7F && !(0x80...0x9F).contains($0.value)
        })
        else {
            throw fail(.emptyStudentID, "column 'student_id' holds a control character (a damaged export?)", column: idIndex)
        }
        let subject: String
        do { subject = try schema.normalizeSubject(fields[subjectIndex]) } catch {
            throw fail(error.code, "column 'subject': " + error.message, column: subjectIndex)
        }
        let score: Int
        do { score = try schema.parseScore(fields[scoreIndex]) } catch {
            throw fail(error.code, "column 'score': " + error.message, column: scoreIndex)
        }
        var covariates: [Int] = []
        covariates.reserveCapacity(covariateIndices.count)
        for (covariate, offset) in covariateIndices.enumerated() {
            do { covariates.append(try schema.parseCovariate(covariate, fields[offset])) } catch {
                throw fail(error.code, error.message, column: offset)
            }
        }
        var attributes: [String: String] = [:]
        for (offset, name) in columns.enumerated()
        where offset != idIndex && offset != subjectIndex && offset != scoreIndex && !covariateIndices.contains(offset) {
            let value = fields[offset]
            guard !value.trimmingASCIISpaces().isEmpty else { continue }
            do { attributes[name] = try schema.normalizeAttribute(name: name, value: value) } catch {
                throw fail(error.code, "column '\(name)': " + error.message, column: offset)
            }
        }
        let key = ScoreCSV.duplicateKey(studentID: studentID, subject: subject, term: attributes["term"] ?? "")
        if let earlier = seen[key] {
            throw fail(
                .duplicateRow, "this student already has a '\(subject)' score for the same term on line \(earlier)",
                column: idIndex)
        }
        seen[key] = start
        return ScoreRow(
            studentID: studentID, subject: subject, score: score, attributes: attributes, line: start,
            covariates: covariates)
    }

    private static func duplicateKey(studentID: String, subject: String, term: String) -> SIMD2<UInt64> {
        var input = Array(studentID.utf8)
        input.append(0)
        input.append(contentsOf: subject.utf8)
        input.append(0)
        input.append(contentsOf: term.utf8)
        let digest = SHA256.hash(input)
        var a: UInt64 = 0
        var b: UInt64 = 0
        for index in 0..<8 {
            a = a << 8 | UInt64(digest[index])
            b = b << 8 | UInt64(digest[index + 8])
        }
        return SIMD2(a, b)
    }

    /// Reads one RFC 4180 record; nil at end of file. `line` advances past every newline consumed.
    private static func readRecord(source: ByteSource, fileName: String, line: inout Int) throws(ModelError)
        -> [String]?
    {
        let start = line
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var quoted = false
        var sawAny = false
        func fail(_ message: String) -> ModelError {
            ModelError(.malformedCSV, message, file: fileName, line: line, column: fields.count + 1)
        }
        func finishField() throws(ModelError) {
            guard let text = String(validating: field, as: UTF8.self) else { throw fail("the field is not UTF-8 text") }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
            quoted = false
        }
        while let byte = try source.next() {
            sawAny = true
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if try source.peek() == UInt8(ascii: "\"") {
                        _ = try source.next()
                        field.append(byte)
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""):
                    guard field.isEmpty, !quoted else { throw fail("a quote appears inside an unquoted field") }
                    inQuotes = true
                    quoted = true
                case UInt8(ascii: ","):
                    try finishField()
                    guard fields.count < maxColumns else { throw fail("the row has more than \(maxColumns) fields") }
                case UInt8(ascii: "\r"):
                    guard try source.peek() == UInt8(ascii: "\n") else {
                        throw fail("a carriage return without a line feed")
                    }
                case UInt8(ascii: "\n"):
                    line += 1
                    try finishField()
                    return fields
                default:
                    guard !quoted else { throw fail("characters follow a closing quote") }
                    field.append(byte)
                }
            }
            guard field.count <= maxFieldBytes else { throw fail("the field is longer than \(maxFieldBytes) bytes") }
        }
        guard sawAny else { return nil }
        guard !inQuotes else {
            throw ModelError(
                .malformedCSV, "a quoted field is not closed", file: fileName, line: start, column: fields.count + 1)
        }
        try finishField()
        return fields
    }
}
