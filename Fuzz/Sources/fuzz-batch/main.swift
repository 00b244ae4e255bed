// Signed batch files (`vault ingest`): header line, record lines, signed trailer line.
//
// Path: what Vault.ingest does before and around its SQL: BatchReader.contentHash(of:), BatchReader(url:), every
// record through nextRecord() with the schema's subject and attribute checks and CiphertextBatchValidator (the
// `vault ingest` validator), then verify(publicKey:). (The SQLite inserts are left out: they take no input.)
// Each input is read twice: as given, and re-signed by the harness's school key (so mutations deep inside a batch
// reach everything after the signature check).
// Properties: a batch that verifies has a valid Ed25519 signature over exactly the SHA-256 of the bytes before its
// last line, which is the trailer; it holds exactly the records its header announces, all of one ciphertext width;
// its records written again with BatchWriter read back equal.
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier
import Primitives
import VaultModel

let schema: Schema = {
    do { return try Schema() } catch { fatalError("the standard schema is invalid: \(error)") }  // safe: constant
}()
let pub = Fuzz.fixtureKey.publicKey
let signer = Fuzz.batchSigner

struct Read {
    var header: BatchHeader
    var records: [BatchRecord]
    var contentHash: [UInt8]
}

/// The ingest path without SQLite; nil when the vault would refuse the batch.
func ingest(_ url: URL) -> Read? {
    guard let contentHash = try? BatchReader.contentHash(of: url), let reader = try? BatchReader(url: url) else {
        return nil
    }
    let validator = CiphertextBatchValidator(key: pub)
    var records: [BatchRecord] = []
    while true {
        let next: BatchRecord?
        do { next = try reader.nextRecord() } catch { return nil }
        guard let record = next else { break }
        guard (try? schema.normalizeSubject(record.subject)) == record.subject,
              (try? schema.normalizeAttributes(record.attributes)) == record.attributes
        else { return nil }
        guard (try? validator.check(record.ciphertext)) != nil else { return nil }
        records.append(record)
    }
    guard (try? validator.finish()) != nil else { return nil }
    guard (try? reader.verify(publicKey: signer.publicKey)) != nil else { return nil }
    Fuzz.require(reader.contentHash == contentHash, "the streaming hash and the batch id differ")
    return Read(header: reader.header, records: records, contentHash: contentHash)
}

/// Checks what must hold of every batch that verified, against the raw bytes.
func checkVerified(_ read: Read, bytes: Data) {
    // The trailer is the last line; the signature covers exactly what precedes it.
    let body = bytes.last == UInt8(ascii: "\n") ? bytes.dropLast() : bytes[...]
    let cut = body.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? body.startIndex
    let content = Array(bytes[bytes.startIndex..<cut])
    Fuzz.require(SHA256.hash(content) == read.contentHash, "the content hash does not cover exactly the bytes before the trailer")
    guard let trailer = try? JSONDecoder().decode(BatchTrailer.self, from: Data(bytes[cut...])),
          let signature = Data(base64Encoded: trailer.sig)
    else { return Fuzz.require(false, "a verified batch has no readable trailer as its last line") }
    let message = BatchTrailer.signedMessage(digest: SHA256.hash(content))
    Fuzz.require((try? signer.publicKey.isValidSignature(Array(signature), for: message)) == true,
                 "a verified batch's signature does not verify over its bytes")
    Fuzz.require(read.records.count == read.header.records, "the record count differs from the header")
    Fuzz.require(Set(read.records.map(\.ciphertext.count)).count <= 1, "ciphertexts of different widths")
}

/// Replaces the last line of `bytes` by a trailer signed with the harness key.
func resigned(_ bytes: Data) -> Data {
    let body = bytes.last == UInt8(ascii: "\n") ? bytes.dropLast() : bytes[...]
    let cut = body.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? body.startIndex
    let content = Data(bytes[bytes.startIndex..<cut])
    let digest = SHA256.hash(content)
    guard let signature = try? signer.signature(for: BatchTrailer.signedMessage(digest: digest)),
          let trailer = try? CanonicalJSON.encode(BatchTrailer(sha256: Hex.encode(digest),
                                                               sig: Data(signature).base64EncodedString()))
    else { return bytes }
    return content + Data(trailer) + Data("\n".utf8)
}

Fuzz.run { data in
    if let read = ingest(Fuzz.write(data, to: "in.batch")) { checkVerified(read, bytes: data) }
    let signed = resigned(data)
    guard let read = ingest(Fuzz.write(signed, to: "signed.batch")) else { return }
    checkVerified(read, bytes: signed)
    // Written again by the school's writer, the same header and records read back.
    let url = Fuzz.scratchFile("rewritten.batch")
    do {
        let writer = try BatchWriter(url: url, header: read.header)
        for record in read.records { try writer.append(record) }
        try writer.finish(signingKey: signer)
    } catch { return Fuzz.require(false, "BatchWriter refused records the reader accepted: \(error)") }
    guard let again = ingest(url) else { return Fuzz.require(false, "the rewritten batch does not verify") }
    Fuzz.require(again.header == read.header && again.records == read.records, "write → read changed the batch")
}
