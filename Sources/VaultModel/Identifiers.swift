import Primitives

/// A school's identifier, `[A-Za-z0-9_-]{1,64}`, as registered in the vault.
public struct SchoolID: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// The identifier text.
    public let rawValue: String

    /// Validates an identifier.
    ///
    /// - Throws: `ModelError.invalidIdentifier`.
    public init(_ rawValue: String) throws(ModelError) {
        guard Tokens.isIdentifier(rawValue, maxLength: 64) else {
            throw ModelError(.invalidIdentifier, "a school id must match [A-Za-z0-9_-]{1,64}")
        }
        self.rawValue = rawValue
    }

    /// Decodes and validates an identifier from a JSON string.
    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes as a JSON string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The identifier text.
    public var description: String { rawValue }

    /// Orders by identifier text.
    public static func < (lhs: SchoolID, rhs: SchoolID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Checks a vault identifier, `[A-Za-z0-9_-]{1,64}`.
public func isValidVaultID(_ text: String) -> Bool { Tokens.isIdentifier(text, maxLength: 64) }

/// A student's pseudonym: HMAC-SHA-256 of the student id under a school-held key. 32 bytes; hex in files.
///
/// The vault can tell two records of one student from two students, and never learns who either is.
public struct Pseudonym: Sendable, Hashable, Codable {
    /// The 32 raw bytes.
    public let bytes: [UInt8]

    /// Wraps 32 bytes.
    ///
    /// - Throws: `ModelError.invalidPseudonym` unless exactly 32 bytes are given.
    public init(bytes: [UInt8]) throws(ModelError) {
        guard bytes.count == 32 else { throw ModelError(.invalidPseudonym, "a pseudonym is 32 bytes") }
        self.bytes = bytes
    }

    /// Parses 64 hex digits.
    ///
    /// - Throws: `ModelError.invalidPseudonym`.
    public init(hex: some StringProtocol) throws(ModelError) {
        guard hex.utf8.count == 64, let bytes = Hex.decode(hex) else {
            throw ModelError(.invalidPseudonym, "a pseudonym is 64 hex digits")
        }
        self.bytes = bytes
    }

    /// Derives the pseudonym of `studentID` under a school's 32-byte pseudonym key.
    ///
    /// - Throws: `ModelError.crypto` when HMAC-SHA-256 fails (the message never names the student).
    public init(studentID: String, key: [UInt8]) throws(ModelError) {
        do { self.bytes = try HMACSHA256.authenticate(key: key, message: Array(studentID.utf8)) } catch {
            throw ModelError(.crypto, "could not compute a pseudonym: \(error.message)")
        }
    }

    /// Lower-case hex.
    public var hex: String { Hex.encode(bytes) }

    /// Decodes from 64 hex digits.
    public init(from decoder: any Decoder) throws {
        try self.init(hex: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes as 64 hex digits.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// What the vault answers when it has stored (or already had) a batch.
public struct Receipt: Sendable, Codable, Equatable {
    /// The batch id: the lower-case hex content hash.
    public var batchID: String
    /// The uploading school.
    public var schoolID: SchoolID
    /// Records stored.
    public var recordCount: Int
    /// Lower-case hex SHA-256 of every byte of the batch file before its trailer line.
    public var contentHash: String
    /// Index of the `batch.ingested` entry in the audit log.
    public var logIndex: Int64
    /// When the vault stored the batch (ISO 8601).
    public var receivedAt: String
    /// `true` when this upload was a re-send of a batch already stored; nothing was written.
    public var alreadyStored: Bool

    /// Makes a receipt.
    public init(
        batchID: String, schoolID: SchoolID, recordCount: Int, contentHash: String, logIndex: Int64,
        receivedAt: String, alreadyStored: Bool
    ) {
        self.batchID = batchID
        self.schoolID = schoolID
        self.recordCount = recordCount
        self.contentHash = contentHash
        self.logIndex = logIndex
        self.receivedAt = receivedAt
        self.alreadyStored = alreadyStored
    }

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id"
        case schoolID = "school_id"
        case recordCount = "record_count"
        case contentHash = "content_hash"
        case logIndex = "log_index"
        case receivedAt = "received_at"
        case alreadyStored = "already_stored"
    }
}
