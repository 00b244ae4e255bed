import BigNum
public import Foundation
public import Paillier
import Primitives
import VaultAggregation
public import VaultModel

/// The school's use case: turn a score CSV into a signed batch file (pseudonymise, pack x and x² — and, when the
/// schema declares covariates, every product of its `MomentLayout` into further ciphertexts —, encrypt under the
/// bureau's key, sign). Runs at the school; the vault never sees the CSV or the school's secrets.
public enum BatchEncryption {
    /// Rows encrypted per parallel chunk: bounds memory while keeping every core busy.
    public static let chunkSize = 1024

    /// What an encryption produced.
    public struct Summary: Sendable {
        public var rows: Int
        public var subjects: [String: Int]
        public var contentHash: [UInt8]
        public var seconds: Double
    }

    /// The descriptor's Paillier key, checked against the descriptor's key id and size.
    ///
    /// - Throws: `.badRequest` with a message a user can act on.
    public static func paillierKey(of descriptor: Descriptor, allowInsecureSize: Bool) throws(AppError) -> PublicKey {
        do { return try descriptor.paillierKey(allowInsecureSize: allowInsecureSize) } catch {
            if error.code == .keyTooSmall {
                throw AppError(.badRequest,
                    "the vault's key has \(descriptor.keyBits) bits, below \(minimumProductionKeyBits): it is a "
                        + "TEST-ONLY vault; pass --insecure-test-key only if this is a test")
            }
            if error.code == .invalidKey { throw AppError(.badRequest, error.message) }
            throw AppError(.badRequest, "the descriptor's public key is not usable: \(error.message)")
        }
    }

    /// Checks that the schema's slot layout fits under `key`.
    public static func checkLayout(_ schema: Schema, fits key: PublicKey) throws(AppError) {
        let layout: SlotLayout
        do { layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount) } catch {
            throw AppError(.badRequest, "the schema's slot layout is invalid: \(error.message)")
        }
        guard layout.fits(key) else {
            throw AppError(.badRequest,
                "the schema's \(schema.slotCount) slots of \(schema.slotBits) bits do not fit under a "
                    + "\(key.bitCount)-bit key; use a larger key")
        }
        _ = try ciphertextLayouts(schema, key: key)
    }

    /// The schema's `MomentLayout` under `key` and one `SlotLayout` per ciphertext (ciphertext 0 first), each
    /// checked to fit under the key.
    public static func ciphertextLayouts(_ schema: Schema, key: PublicKey) throws(AppError)
        -> (moments: MomentLayout, slots: [SlotLayout])
    {
        let moments: MomentLayout
        do { moments = try schema.momentLayout(keyBits: key.bitCount) } catch {
            throw AppError(.badRequest, "the schema's covariates do not fit under the key: \(error.message)")
        }
        var slots: [SlotLayout] = []
        for index in 0..<moments.ciphertextCount {
            let layout: SlotLayout
            do { layout = try SlotLayout(slotBits: moments.slotBits, slotCount: moments.slotCount(ofCiphertext: index)) }
            catch { throw AppError(.badRequest, "the schema's slot layout is invalid: \(error.message)") }
            guard layout.fits(key) else {
                throw AppError(.badRequest, "ciphertext \(index) of the schema's products does not fit under a "
                               + "\(key.bitCount)-bit key; use a larger key")
            }
            slots.append(layout)
        }
        return (moments, slots)
    }

    /// Validates every row of `input` (pass 1), then pseudonymises, packs, encrypts in parallel chunks and streams
    /// the records into a signed batch at `output` (pass 2). Nothing is left at `output` on failure.
    ///
    /// - Parameters:
    ///   - counted: called once with the number of rows after pass 1.
    ///   - progress: called with the rows encrypted per chunk.
    /// - Throws: `AppError(.badRequest)` whose message names the file and line, never a student id or a score.
    public static func encrypt(
        descriptor description: Descriptor, keys schoolKeys: SchoolKeys, input inputURL: URL, output outputURL: URL,
        overwrite: Bool, allowInsecureKey: Bool, counted: (Int) -> Void = { _ in }, progress: (Int) -> Void = { _ in }
    ) async throws(AppError) -> Summary {
        guard schoolKeys.vaultID == description.vaultID else {
            throw AppError(.badRequest,
                "the keys file is for vault \(schoolKeys.vaultID), the descriptor for vault \(description.vaultID)")
        }
        let signingKey: Ed25519.PrivateKey
        do { signingKey = try schoolKeys.signingKey() } catch { throw AppError(.badRequest, "the keys file: \(error.message)") }
        let key = try paillierKey(of: description, allowInsecureSize: allowInsecureKey)
        let schema = description.schema
        try checkLayout(schema, fits: key)
        let layout: SlotLayout
        do { layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount) } catch {
            throw AppError(.badRequest, "the schema's slot layout is invalid: \(error.message)")
        }
        let (moments, ciphertextLayouts) = try ciphertextLayouts(schema, key: key)
        let perRecord = moments.ciphertextCount
        let schemaHash: String
        do { schemaHash = try schema.schemaHash } catch { throw AppError(.badRequest, "the descriptor's schema: \(error.message)") }
        guard FileManager.default.isReadableFile(atPath: inputURL.path) else {
            throw AppError(.badRequest, "score file not found or unreadable: \(inputURL.path)")
        }
        if FileManager.default.fileExists(atPath: outputURL.path) && !overwrite {
            throw AppError(.conflict, "output already exists: \(outputURL.path) (remove it or pass --force)")
        }

        // Pass 1: validate every row and count (the batch header states the count up front).
        var rows = 0
        var subjects: [String: Int] = [:]
        do {
            let csv = try ScoreCSV(url: inputURL, schema: schema)
            while let row = try csv.next() {
                guard rows < BatchReader.maxRecords else {
                    throw AppError(.badRequest,
                        "\(inputURL.lastPathComponent) has more than \(BatchReader.maxRecords) rows, the most one batch "
                            + "may hold; split it into several files; nothing was encrypted")
                }
                rows += 1
                subjects[row.subject, default: 0] += 1
            }
        } catch let error as AppError { throw error } catch { throw AppError(.badRequest, "\(error); nothing was encrypted") }
        guard rows > 0 else { throw AppError(.badRequest, "\(inputURL.lastPathComponent) has no score rows; nothing to encrypt") }
        counted(rows)

        // Pass 2: pseudonymise, pack, encrypt in parallel chunks, stream into the batch writer.
        let started = Date()
        let width = key.ciphertextByteCount
        let writer: BatchWriter
        do {
            writer = try BatchWriter(
                url: outputURL,
                header: BatchHeader(school: schoolKeys.schoolID, vault: description.vaultID, keyID: description.keyID,
                                    schemaHash: schemaHash, records: rows))
        } catch { throw AppError(.badRequest, "cannot start the batch file: \(error.description)") }
        do {
            let csv = try ScoreCSV(url: inputURL, schema: schema)
            var pending: [ScoreRow] = []
            pending.reserveCapacity(chunkSize)
            var done = false
            while !done {
                pending.removeAll(keepingCapacity: true)
                while pending.count < chunkSize, let row = try csv.next() { pending.append(row) }
                done = pending.count < chunkSize
                if pending.isEmpty { break }
                // Every ciphertext of every record of the chunk, record-major (ciphertext 0 first), in one parallel
                // encryption.
                var plaintexts: [BigNum] = []
                plaintexts.reserveCapacity(pending.count * perRecord)
                for row in pending {
                    let (square, overflow) = UInt64(clamping: row.score).multipliedReportingOverflow(by: UInt64(clamping: row.score))
                    guard row.score >= 0, !overflow else {
                        throw AppError(.badRequest, "a score on line \(row.line) is outside the schema's range; no batch was written")
                    }
                    if perRecord == 1 {
                        let x = UInt64(row.score)
                        let slots: [UInt64] = layout.slotCount == 2 ? [x, square] : [x]
                        plaintexts.append(try layout.pack(slots))
                        continue
                    }
                    // Products in checked arithmetic, each against its declared maximum.
                    let values: [[UInt64]]
                    do { values = try moments.slotValues(y: row.score, x: row.covariates) } catch {
                        throw AppError(.badRequest, "line \(row.line): \(error.message); no batch was written")
                    }
                    for (slots, packing) in zip(values, ciphertextLayouts) { plaintexts.append(try packing.pack(slots)) }
                }
                let ciphertexts = try await key.encrypt(batch: plaintexts)
                for (index, row) in pending.enumerated() {
                    var bytes: [[UInt8]] = []
                    for ciphertext in ciphertexts[(index * perRecord)..<((index + 1) * perRecord)] {
                        bytes.append(try ciphertext.bytes(width: width))
                    }
                    try writer.append(
                        BatchRecord(pseudonym: try schoolKeys.pseudonym(forStudent: row.studentID), subject: row.subject,
                                    attributes: row.attributes, ciphertext: bytes[0],
                                    extraCiphertexts: Array(bytes.dropFirst())))
                }
                progress(pending.count)
            }
        } catch let error as AppError {
            throw error
        } catch let error as ModelError {
            throw AppError(.badRequest, "\(error.description); no batch was written")
        } catch let error as PaillierError {
            throw AppError(.badRequest, "encryption failed: \(error.message); no batch was written")
        } catch {
            throw AppError(.badRequest, "encryption failed; no batch was written")
        }
        let digest: [UInt8]
        do { digest = try writer.finish(signingKey: signingKey, overwrite: overwrite) } catch {
            throw AppError(.badRequest, "\(error.description); no batch was written")
        }
        return Summary(rows: rows, subjects: subjects, contentHash: digest, seconds: Date().timeIntervalSince(started))
    }
}
