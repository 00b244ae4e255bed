public import Foundation
public import Primitives


/// Line 1 of a batch file.
public struct BatchHeader: Sendable, Codable, Equatable {
    /// The only batch format this version reads and writes.
    public static let currentFormat = "eduvault-batch/1"

    /// Always `eduvault-batch/1`.
    public var format: String
    /// The uploading school's id (validated by the vault against its registry).
    public var school: String
    /// The vault the batch is meant for.
    public var vault: String
    /// The Paillier key id the ciphertexts were made under.
    public var keyID: String
    /// The schema hash the records follow.
    public var schemaHash: String
    /// When the school made the batch (ISO 8601).
    public var created: String
    /// How many record lines follow.
    public var records: Int

    /// Makes a header.
    public init(
        school: SchoolID, vault: String, keyID: String, schemaHash: String, created: String = Timestamp.now(),
        records: Int
    ) {
        self.format = BatchHeader.currentFormat
        self.school = school.rawValue
        self.vault = vault
        self.keyID = keyID
        self.schemaHash = schemaHash
        self.created = created
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case format, school, vault, created, records
        case keyID = "key_id"
        case schemaHash = "schema_hash"
    }
}

/// One record of a batch: a pseudonymous student, a subject, per-record attributes, and opaque ciphertexts.
///
/// `ciphertext` is ciphertext 0 (y and y² packed, as in every vault); a vault whose schema declares covariates also
/// carries the further ciphertexts of its `MomentLayout` in `extraCiphertexts` (ciphertexts 1, 2, …). In the file
/// they are the record line's `m` array, absent when empty, so a record without covariates is written byte for byte
/// as before and the school's signature (over every byte before the trailer) covers all of them. No format version
/// change was needed: the schema hash in the header already says whether records carry `m`, and a vault refuses a
/// record whose ciphertext count differs from its schema's layout.
public struct BatchRecord: Sendable, Equatable {
    /// The student's pseudonym.
    public var pseudonym: Pseudonym
    /// The subject (lower-case token).
    public var subject: String
    /// Per-record attributes declared by the schema.
    public var attributes: [String: String]
    /// The fixed-width ciphertext bytes (base64 in the file) of ciphertext 0. Opaque to this module.
    public var ciphertext: [UInt8]
    /// Ciphertexts 1, 2, … (the covariate products), each as wide as `ciphertext`; empty without covariates.
    public var extraCiphertexts: [[UInt8]]

    /// Makes a record.
    public init(
        pseudonym: Pseudonym, subject: String, attributes: [String: String], ciphertext: [UInt8],
        extraCiphertexts: [[UInt8]] = []
    ) {
        self.pseudonym = pseudonym
        self.subject = subject
        self.attributes = attributes
        self.ciphertext = ciphertext
        self.extraCiphertexts = extraCiphertexts
    }

    /// Every ciphertext of the record, ciphertext 0 first, concatenated (what a record leaf binds and the store
    /// keeps).
    public var allCiphertextBytes: [UInt8] { extraCiphertexts.reduce(ciphertext, +) }

    /// The most ciphertexts beyond ciphertext 0 a record line may carry (8 covariates need 2 at 3072 bits, 6 at
    /// 1024 bits with 96-bit slots).
    public static let maxExtraCiphertexts = 64
}

/// The last line of a batch: the content hash and the school's signature over it.
public struct BatchTrailer: Sendable, Codable, Equatable {
    /// Lower-case hex SHA-256 of every byte before the trailer line.
    public var sha256: String
    /// Base64 Ed25519 signature over `BatchTrailer.signedMessage(digest:)`.
    public var sig: String

    /// Makes a trailer.
    public init(sha256: String, sig: String) {
        self.sha256 = sha256
        self.sig = sig
    }

    /// The exact bytes a school signs: ASCII `eduvault-batch/1\n` followed by the 32 raw digest bytes.
    public static func signedMessage(digest: [UInt8]) -> [UInt8] {
        Array("\(BatchHeader.currentFormat)\n".utf8) + digest
    }
}

/// The JSON shape of a record line.
struct RecordLine: Codable {
    var p: String
    var subject: String
    var attrs: [String: String]
    var c: String
    /// Ciphertexts 1, 2, … in base64; absent (not empty) when the record has none.
    var m: [String]?
}

/// Writes a batch file: header, records, then the signed trailer.
///
/// Lines stream into an ``AtomicFile`` temporary file beside the destination, hashed as they go; `finish` signs,
/// syncs and moves the file into place with the same atomic commit as every other file EduVault writes. An
/// abandoned writer leaves nothing behind. Memory is flat in the number of records. Not `Sendable`: one writer
/// belongs to one task.
public final class BatchWriter {
    private let destination: URL
    private var file: AtomicFile.Writer?
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private var pending: [UInt8] = []
    private let header: BatchHeader
    private var written = 0
    private var ciphertextWidth: Int?
    private var finished = false

    /// Starts a batch file at `url` with `header`.
    ///
    /// - Throws: `ModelError.io` when the temporary file cannot be created.
    public init(url: URL, header: BatchHeader) throws(ModelError) {
        destination = url
        do { file = try AtomicFile.begin(for: url) } catch {
            throw ModelError(.io, "cannot create a temporary batch file (\(error.reason))", file: url.lastPathComponent)
        }
        self.header = header
        try writeLine(try CanonicalJSON.encode(header))
    }

    /// Appends one record.
    ///
    /// - Throws: `ModelError.malformedBatch` if more records than the header announced are appended or the
    ///   ciphertext width changes; `.io` on a write failure.
    public func append(_ record: BatchRecord) throws(ModelError) {
        guard !finished, written < header.records else {
            throw ModelError(.malformedBatch, "more records appended than the header's count of \(header.records)")
        }
        guard !record.ciphertext.isEmpty, ciphertextWidth == nil || ciphertextWidth == record.ciphertext.count,
            record.extraCiphertexts.allSatisfy({ $0.count == record.ciphertext.count })
        else {
            throw ModelError(.malformedBatch, "every ciphertext in a batch must have the same, non-zero width")
        }
        guard record.extraCiphertexts.count <= BatchRecord.maxExtraCiphertexts else {
            throw ModelError(.malformedBatch, "a record carries at most \(BatchRecord.maxExtraCiphertexts + 1) ciphertexts")
        }
        ciphertextWidth = record.ciphertext.count
        let line = RecordLine(
            p: record.pseudonym.hex, subject: record.subject, attrs: record.attributes,
            c: Data(record.ciphertext).base64EncodedString(),
            m: record.extraCiphertexts.isEmpty ? nil : record.extraCiphertexts.map { Data($0).base64EncodedString() })
        try writeLine(try CanonicalJSON.encode(line))
        written += 1
    }

    /// Signs the trailer, flushes, syncs and moves the file into place (``AtomicFile``); returns the 32-byte
    /// content hash.
    ///
    /// - Parameter overwrite: replace an existing file at the destination (default); when `false`, an existing file
    ///   makes this throw `.io` and stays untouched.
    /// - Throws: `ModelError.malformedBatch` if fewer records than announced were appended; `.crypto`, `.io`. On any
    ///   failure the destination is exactly as it was.
    @discardableResult
    public func finish(signingKey: Ed25519.PrivateKey, overwrite: Bool = true) throws(ModelError) -> [UInt8] {
        guard !finished, written == header.records, let digestSource = hasher.take() else {
            throw ModelError(
                .malformedBatch, "the header announced \(header.records) records, \(written) were appended")
        }
        let digest = digestSource.finalize()
        let signature: [UInt8]
        do { signature = try signingKey.signature(for: BatchTrailer.signedMessage(digest: digest)) } catch {
            throw ModelError(.crypto, "could not sign the batch")
        }
        let trailer = BatchTrailer(sha256: Hex.encode(digest), sig: Data(signature).base64EncodedString())
        try writeLine(try CanonicalJSON.encode(trailer), hashed: false)
        try flush()
        guard let file = file.take() else { throw ModelError(.io, "the batch file was already finished") }
        finished = true
        do { try file.stage().commit(overwrite: overwrite) } catch {
            throw ModelError(.io, "cannot write the batch file: \(error.reason)", file: destination.lastPathComponent)
        }
        return digest
    }

    private func writeLine(_ bytes: [UInt8], hashed: Bool = true) throws(ModelError) {
        var line = bytes
        line.append(UInt8(ascii: "\n"))
        if hashed { hasher?.update(line) }
        pending.append(contentsOf: line)
        if pending.count >= 64 * 1024 { try flush() }
    }

    private func flush() throws(ModelError) {
        guard !pending.isEmpty else { return }
        guard !finished else { throw ModelError(.io, "the batch file was already finished") }
        do throws(AtomicFileError) { try file?.write(pending) } catch {
            throw ModelError(.io, "cannot write the batch file: \(error.reason)", file: destination.lastPathComponent)
        }
        pending.removeAll(keepingCapacity: true)
    }
}

/// Reads a batch file in one streaming pass: the header on `init`, then records one by one with `nextRecord()`,
/// then the trailer, hashing every byte as it goes.
///
/// After `nextRecord()` has returned `nil`, `verify(publicKey:)` checks the trailer's hash and signature. Every
/// malformed line is a `ModelError` naming its line number; no error message contains a record's values.
/// Memory is flat in the number of records (bounded by `maxLineBytes`). Not `Sendable`: one reader per task.
public final class BatchReader {
    /// The parsed header (line 1).
    public let header: BatchHeader
    /// The trailer, once every record has been read.
    public private(set) var trailer: BatchTrailer?
    /// The SHA-256 of every byte before the trailer line, once every record has been read.
    public private(set) var contentHash: [UInt8]?
    /// Records returned so far.
    public private(set) var recordsRead = 0
    /// The number of the last line read (1-based).
    public private(set) var lineNumber = 0

    private let source: ByteSource
    private let fileName: String
    private let maxLineBytes: Int
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private var ciphertextWidth: Int?
    private let decoder = JSONDecoder()

    /// The largest number of records a header may announce.
    public static let maxRecords = 50_000_000

    /// Opens `url` and reads the header line.
    ///
    /// - Parameter maxLineBytes: longest line accepted (a guard against unbounded input).
    /// - Throws: `ModelError.io`, or `.malformedBatch` naming line 1.
    public init(url: URL, maxLineBytes: Int = 1 << 20) throws(ModelError) {
        fileName = url.lastPathComponent
        self.maxLineBytes = maxLineBytes
        source = try ByteSource(url: url)
        lineNumber = 1
        guard
            let (bytes, terminated) = try source.nextLine(
                maxLength: maxLineBytes,
                tooLong: { [fileName] in
                    ModelError(.malformedBatch, "line is too long", file: fileName, line: 1)
                }), terminated
        else {
            throw ModelError(.malformedBatch, "the batch file has no header line", file: fileName, line: 1)
        }
        let header: BatchHeader
        do { header = try decoder.decode(BatchHeader.self, from: Data(bytes)) } catch {
            throw ModelError(
                .malformedBatch, "the header is not a valid eduvault-batch/1 header", file: fileName, line: 1)
        }
        guard header.format == BatchHeader.currentFormat else {
            throw ModelError(
                .malformedBatch, "the format must be \(BatchHeader.currentFormat)", file: fileName, line: 1)
        }
        guard (0...BatchReader.maxRecords).contains(header.records) else {
            throw ModelError(.malformedBatch, "the record count is out of range", file: fileName, line: 1)
        }
        self.header = header
        hasher?.update(bytes)
        hasher?.update(CollectionOfOne(UInt8(ascii: "\n")))
    }

    private func error(_ message: String, code: ModelError.Code = .malformedBatch) -> ModelError {
        ModelError(code, message, file: fileName, line: lineNumber)
    }

    private func readLine() throws(ModelError) -> [UInt8]? {
        lineNumber += 1
        let number = lineNumber
        guard
            let (bytes, terminated) = try source.nextLine(
                maxLength: maxLineBytes,
                tooLong: { [fileName] in
                    ModelError(.malformedBatch, "line is too long", file: fileName, line: number)
                })
        else { return nil }
        guard terminated else { throw error("the line does not end with a newline") }
        return bytes
    }

    /// The next record, or `nil` after the last one (the trailer has then been read and end of file checked).
    ///
    /// Checks the line's shape: 64-hex pseudonym, base64 ciphertexts of the batch's fixed width (ciphertext 0 in
    /// `c`, any further ones in `m`). Subject and
    /// attributes are returned as written; the vault checks them against its schema.
    ///
    /// - Throws: `ModelError.malformedBatch` naming the line.
    public func nextRecord() throws(ModelError) -> BatchRecord? {
        if recordsRead == header.records {
            if trailer == nil { try readTrailer() }
            return nil
        }
        guard let bytes = try readLine() else {
            throw error("the file ends after \(recordsRead) of \(header.records) records")
        }
        hasher?.update(bytes)
        hasher?.update(CollectionOfOne(UInt8(ascii: "\n")))
        let line: RecordLine
        do { line = try decoder.decode(RecordLine.self, from: Data(bytes)) } catch {
            throw self.error("not a valid record line (expected keys p, subject, attrs, c)")
        }
        let pseudonym: Pseudonym
        do { pseudonym = try Pseudonym(hex: line.p) } catch { throw self.error("the pseudonym is not 64 hex digits") }
        guard let ciphertext = Data(base64Encoded: line.c), !ciphertext.isEmpty else {
            throw error("the ciphertext is not base64")
        }
        guard ciphertextWidth == nil || ciphertextWidth == ciphertext.count else {
            throw error("the ciphertext width differs from the batch's first record")
        }
        var extras: [[UInt8]] = []
        if let more = line.m {
            guard !more.isEmpty, more.count <= BatchRecord.maxExtraCiphertexts else {
                throw error("'m' must list 1–\(BatchRecord.maxExtraCiphertexts) further ciphertexts when present")
            }
            for text in more {
                guard let extra = Data(base64Encoded: text) else { throw error("a further ciphertext is not base64") }
                guard extra.count == ciphertext.count else {
                    throw error("a further ciphertext's width differs from the record's first ciphertext")
                }
                extras.append(Array(extra))
            }
        }
        ciphertextWidth = ciphertext.count
        recordsRead += 1
        return BatchRecord(
            pseudonym: pseudonym, subject: line.subject, attributes: line.attrs, ciphertext: Array(ciphertext),
            extraCiphertexts: extras)
    }

    private func readTrailer() throws(ModelError) {
        guard let bytes = try readLine() else { throw error("the file ends before the trailer line") }
        let trailer: BatchTrailer
        do { trailer = try decoder.decode(BatchTrailer.self, from: Data(bytes)) } catch {
            throw self.error("not a valid trailer line (expected keys sha256, sig)")
        }
        if try source.peek() != nil {
            lineNumber += 1
            throw error("unexpected content after the trailer line")
        }
        contentHash = hasher.take()?.finalize()
        self.trailer = trailer
    }

    /// Checks the trailer: its `sha256` must equal the hash of the bytes read, and its signature must verify
    /// under `publicKey`.
    ///
    /// - Precondition: `nextRecord()` has returned `nil`.
    /// - Throws: `.malformedBatch` if called early, `.batchHashMismatch`, `.badSignature`.
    public func verify(publicKey: Ed25519.PublicKey) throws(ModelError) {
        guard let trailer, let contentHash else {
            throw ModelError(.malformedBatch, "the batch must be read to its end before it is verified", file: fileName)
        }
        guard let claimed = Hex.decode(trailer.sha256), constantTimeEquals(claimed, contentHash) else {
            throw ModelError(
                .batchHashMismatch, "the content hash in the trailer does not match the file", file: fileName,
                line: lineNumber)
        }
        let valid: Bool
        do {
            valid = try Data(base64Encoded: trailer.sig).map {
                try publicKey.isValidSignature(Array($0), for: BatchTrailer.signedMessage(digest: contentHash))
            } ?? false
        } catch {
            throw ModelError(.crypto, "the batch signature could not be checked: \(error)", file: fileName)
        }
        guard valid else {
            throw ModelError(
                .badSignature, "the batch signature does not verify under the school's registered key",
                file: fileName, line: lineNumber)
        }
    }

    /// SHA-256 of every byte of the file before its last line (the trailer), in one streaming pass; the batch id
    /// a vault derives before ingesting.
    ///
    /// - Throws: `.io`, or `.malformedBatch` if the file has fewer than two lines.
    public static func contentHash(of url: URL, maxLineBytes: Int = 1 << 20) throws(ModelError) -> [UInt8] {
        try contentHashAndTrailer(of: url, maxLineBytes: maxLineBytes).hash
    }

    /// The content hash (see ``contentHash(of:maxLineBytes:)``) and the last line's bytes, which a signed batch's
    /// trailer is: read once, so an ingest can tell a batch cut short or stripped of its signature before it reads
    /// a single record.
    public static func contentHashAndTrailer(of url: URL, maxLineBytes: Int = 1 << 20) throws(ModelError)
        -> (hash: [UInt8], lastLine: [UInt8], lines: Int)
    {
        let source = try ByteSource(url: url)
        var hasher = SHA256Hasher()
        var previous: [UInt8]?
        var number = 0
        while let (bytes, terminated) = try source.nextLine(
            maxLength: maxLineBytes,
            tooLong: {
                ModelError(.malformedBatch, "line is too long", file: url.lastPathComponent, line: number + 1)
            })
        {
            number += 1
            if let previous {
                hasher.update(previous)
                hasher.update(CollectionOfOne(UInt8(ascii: "\n")))
            }
            _ = terminated
            previous = bytes
        }
        guard number >= 2, let previous else {
            throw ModelError(
                .malformedBatch, "a batch file has at least a header and a trailer", file: url.lastPathComponent)
        }
        return (hasher.finalize(), previous, number)
    }
}
