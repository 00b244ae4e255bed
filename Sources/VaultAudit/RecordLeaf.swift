import Primitives

/// What the log binds for one stored record: the leaf of its batch's record tree.
///
/// The leaf data is SHA-256 over everything the vault stores for the record, framed unambiguously:
/// `eduvault-record/1\n ‖ hex(pseudonym) ‖ \n ‖ subject ‖ \n ‖ canonical JSON of the attributes ‖ \n ‖ ciphertext`
/// (the first four parts contain no newline; the ciphertext is last, so its length is implied). `ciphertext` is every
/// ciphertext of the record concatenated, ciphertext 0 first: for a record with covariates, ciphertext 0 followed by
/// its further ciphertexts (all of the key's fixed width, their count fixed by the vault's schema), so an edit to any
/// of them changes the leaf; a record without covariates hashes exactly as before. A batch's record root
/// is the RFC 6962 root over its records' leaf data in batch order (`MerkleTree.root`), written into the
/// `batch.ingested` entry, so any edit, deletion, insertion or reordering of a stored record changes the root an
/// auditor re-derives from the stored rows.
public enum RecordLeaf {
    static let prefix = Array("eduvault-record/1\n".utf8)

    /// The leaf data of one record (32 bytes).
    ///
    /// - Parameter canonicalAttributes: the attributes as `CanonicalJSON.string` writes them (as stored).
    /// - Throws: `AuditError.malformedEntry` when a text part contains a newline (it would make the framing
    ///   ambiguous).
    public static func data(pseudonym: [UInt8], subject: String, canonicalAttributes: String, ciphertext: [UInt8])
        throws(AuditError) -> [UInt8]
    {
        guard !subject.utf8.contains(10), !canonicalAttributes.utf8.contains(10) else {
            throw AuditError(.malformedEntry, "a record's subject or attributes contain a newline")
        }
        // One buffer, one update: the framing bytes, the pseudonym in lower-case hex, then the ciphertext.
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(
            prefix.count + 2 * pseudonym.count + subject.utf8.count + canonicalAttributes.utf8.count
                + ciphertext.count + 3)
        buffer += prefix
        for byte in pseudonym {
            buffer.append(digits[Int(byte >> 4)])
            buffer.append(digits[Int(byte & 15)])
        }
        buffer.append(10)
        buffer += subject.utf8
        buffer.append(10)
        buffer += canonicalAttributes.utf8
        buffer.append(10)
        buffer += ciphertext
        return SHA256.hash(buffer)
    }

    /// The digest of a set of records given by their leaf data in order: SHA-256 of the concatenation. Atoms carry
    /// the digest of their records; a released cell's member digest is the digest of its atoms' digests in atom-id
    /// order.
    public static func digest(_ leaves: some Sequence<[UInt8]>) -> [UInt8] {
        var hasher = SHA256Hasher()
        for leaf in leaves { hasher.update(leaf) }
        return hasher.finalize()
    }
}
