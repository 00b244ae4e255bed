/// An error from the domain model: schema, identifiers, batch files and score CSVs.
///
/// Messages are one line, say what to fix, and never contain a score, a student id, a pseudonym or key material.
/// When the error comes from a file, `file`, `line` and `column` say where (1-based).
public struct ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, stable enough to test against and to write into the audit log.
    public enum Code: String, Sendable {
        /// The schema itself is inconsistent (bounds, scale, slots, attributes).
        case invalidSchema
        /// A score is not a decimal number.
        case nonNumericScore
        /// A score has more decimal places than the schema's scale.
        case tooManyDecimals
        /// A score lies outside the schema's bounds.
        case scoreOutOfRange
        /// A subject is not a token `[a-z0-9_-]{1,32}` or not in the schema's allow-list.
        case invalidSubject
        /// An attribute is not declared by the schema.
        case unknownAttribute
        /// An attribute value is not allowed by the schema.
        case attributeValueNotAllowed
        /// An identifier (school, vault, key) has the wrong shape.
        case invalidIdentifier
        /// A pseudonym is not 32 bytes (64 hex digits).
        case invalidPseudonym
        /// A descriptor or key file is malformed.
        case invalidFile
        /// A batch file is malformed; the message names the line.
        case malformedBatch
        /// The batch's content hash does not match its trailer.
        case batchHashMismatch
        /// The batch signature does not verify under the school's key.
        case badSignature
        /// A CSV lacks a required column.
        case missingColumn
        /// A CSV has an empty student id.
        case emptyStudentID
        /// A CSV has the same student, subject and term twice.
        case duplicateRow
        /// A CSV is malformed (quoting, column count).
        case malformedCSV
        /// Reading or writing a file failed.
        case io
        /// A cryptographic primitive failed.
        case crypto
    }

    /// The machine-readable reason.
    public var code: Code
    /// A one-line message a user can act on.
    public var message: String
    /// The file the error was found in, if any (last path component only).
    public var file: String?
    /// The 1-based line the error was found on, if any.
    public var line: Int?
    /// The 1-based column the error was found in, if any.
    public var column: Int?

    /// Makes an error; `message` must not contain data values.
    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    /// The location prefix (if any) followed by the message.
    public var description: String {
        var location: [String] = []
        if let file { location.append(file) }
        if let line { location.append("line \(line)") }
        if let column { location.append("column \(column)") }
        return location.isEmpty ? message : location.joined(separator: ", ") + ": " + message
    }
}
