import Primitives

/// A streaming RFC 6962 tree builder that keeps only the roots of the perfect subtrees ("peaks") covering the
/// leaves appended so far.
///
/// A tree of `size` leaves is the concatenation of one perfect subtree for each set bit of `size`, largest first;
/// the RFC 6962 root hashes them together from the right. `append(leafHash:)` reports every perfect node the new
/// leaf completes, so a store can persist exactly the hashes `MerkleProofs` will later ask a `MerkleNodeSource` for.
///
/// Laws: after appending leaf hashes `l₀ … lₙ₋₁`, `root()` equals `MerkleTree.root` of the same entries, and the
/// nodes reported so far are exactly the perfect subtrees of that tree (each reported once, children before parents).
///
/// Complexity: O(log n) memory; `append` is amortised O(1) hashes (worst case O(log n)); `root()` is O(log n).
///
/// Security: the leaf hashes are not checked against anything; this type computes, it does not verify. Decoding
/// (`Codable`) checks the shape — one 32-byte peak per set bit of `size` — and refuses anything else.
public struct CompactMerkleRange: Sendable, Codable, Equatable {
    /// The largest size this type grows to (2^62 leaves), far beyond any vault; keeps every index arithmetic exact.
    public static let maxSize: Int64 = 1 << 62

    /// Number of leaves appended.
    public private(set) var size: Int64

    /// Roots of the perfect subtrees, left to right (largest first): one per set bit of `size`.
    public private(set) var peaks: [[UInt8]]

    /// An empty range (size 0).
    public init() {
        size = 0
        peaks = []
    }

    /// The range of the first `size` leaves, rebuilt from stored nodes (one fetch per set bit of `size`), so a store
    /// can reopen its tree without persisting the range itself.
    ///
    /// - Complexity: O(log n) fetches, no hashing.
    /// - Throws: `AuditError.invalidProof` unless `0 ≤ size ≤ maxSize`; `.nodeUnavailable` when the source fails or
    ///   answers with a hash that is not 32 bytes.
    public init(size: Int64, nodes: some MerkleNodeSource) throws(AuditError) {
        guard size >= 0, size <= Self.maxSize else {
            throw AuditError(.invalidProof, "a tree size is between 0 and 2^62")
        }
        var peaks: [[UInt8]] = []
        var offset: Int64 = 0
        for level in stride(from: 62, through: 0, by: -1) where (size >> Int64(level)) & 1 == 1 {
            let hash: [UInt8]
            do {
                hash = try nodes.nodeHash(level: level, index: offset >> Int64(level))
            } catch {
                throw AuditError(.nodeUnavailable, "the subtree hash at level \(level) is not available")
            }
            guard hash.count == 32 else {
                throw AuditError(.nodeUnavailable, "the subtree hash at level \(level) is not 32 bytes")
            }
            peaks.append(hash)
            offset += Int64(1) << Int64(level)
        }
        self.size = size
        self.peaks = peaks
    }

    /// Appends one leaf hash and returns every perfect node the append completes, leaf (level 0) first.
    ///
    /// Node `(level, index, hash)` is the root of leaves `index·2^level ..< (index+1)·2^level`.
    ///
    /// - Precondition: `leafHash` is 32 bytes (a SHA-256 output, as `MerkleTree.leafHash` gives) and
    ///   `size < CompactMerkleRange.maxSize`. Use `tryAppend(leafHash:)` where either might not hold.
    /// - Complexity: O(1 + t) hashes, t the number of trailing one bits of the old size (amortised O(1)).
    @discardableResult
    public mutating func append(leafHash: [UInt8]) -> [(level: Int, index: Int64, hash: [UInt8])] {
        // safe: a store passes SHA-256 outputs and never reaches 2^62 leaves; a wrong leaf would corrupt the log
        // silently, so stopping is the only safe answer to a programming error here.
        precondition(leafHash.count == 32 && size < Self.maxSize, "CompactMerkleRange.append: bad leaf or full range")
        var completed: [(level: Int, index: Int64, hash: [UInt8])] = [(0, size, leafHash)]
        var hash = leafHash
        var level = 0
        while (size >> Int64(level)) & 1 == 1, let left = peaks.popLast() {
            hash = MerkleTree.nodeHash(left, hash)
            level += 1
            completed.append((level, size >> Int64(level), hash))
        }
        peaks.append(hash)
        size += 1
        return completed
    }

    /// Like `append(leafHash:)`, but throws instead of stopping on a leaf that is not 32 bytes or a full range.
    ///
    /// - Throws: `AuditError.malformedEntry`; the range is unchanged.
    @discardableResult
    public mutating func tryAppend(leafHash: [UInt8]) throws(AuditError) -> [(level: Int, index: Int64, hash: [UInt8])]
    {
        guard leafHash.count == 32 else { throw AuditError(.malformedEntry, "a Merkle leaf hash is 32 bytes") }
        guard size < Self.maxSize else { throw AuditError(.malformedEntry, "the Merkle range is full") }
        return append(leafHash: leafHash)
    }

    /// The RFC 6962 root of all leaves appended (`SHA-256("")` when empty).
    ///
    /// Complexity: O(log n) hashes.
    public func root() -> [UInt8] {
        guard var hash = peaks.last else { return MerkleTree.emptyRoot }
        for left in peaks.dropLast().reversed() { hash = MerkleTree.nodeHash(left, hash) }
        return hash
    }

    enum CodingKeys: String, CodingKey { case size, peaks }

    /// Decodes a range, checking its shape.
    ///
    /// - Throws: `DecodingError.dataCorrupted` unless `0 ≤ size ≤ maxSize` and there is exactly one 32-byte peak per
    ///   set bit of `size`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let size = try container.decode(Int64.self, forKey: .size)
        guard size >= 0, size <= Self.maxSize else {
            throw DecodingError.dataCorruptedError(forKey: .size, in: container, debugDescription: "size out of range")
        }
        let peaks = try container.decode([[UInt8]].self, forKey: .peaks)
        guard peaks.count == size.nonzeroBitCount, peaks.allSatisfy({ $0.count == 32 }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .peaks, in: container, debugDescription: "one 32-byte peak per set bit of size")
        }
        self.size = size
        self.peaks = peaks
    }

    /// Encodes `size` and `peaks`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(size, forKey: .size)
        try container.encode(peaks, forKey: .peaks)
    }
}
