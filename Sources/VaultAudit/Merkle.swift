import Primitives

/// An RFC 6962 Merkle tree over audit entry hashes: leaf = SHA-256(0x00 ‖ entry hash),
/// node = SHA-256(0x01 ‖ left ‖ right), the tree split at the largest power of two below the size.
///
/// Complexity: root and proofs are O(n) hashes over the given leaves; memory O(log n) recursion plus the input.
public enum MerkleTree {
    /// The hash of an empty tree, SHA-256 of nothing.
    public static var emptyRoot: [UInt8] { SHA256.hash([UInt8]()) }

    /// The leaf hash of one entry hash.
    public static func leafHash(_ entryHash: [UInt8]) -> [UInt8] { SHA256.hash([0] + entryHash) }

    /// The interior node hash.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] { SHA256.hash([1] + left + right) }

    /// The root over `entryHashes` (raw 32-byte entry hashes, log order).
    public static func root(_ entryHashes: [[UInt8]]) -> [UInt8] {
        guard !entryHashes.isEmpty else { return emptyRoot }
        return subtreeRoot(entryHashes[...])
    }

    private static func subtreeRoot(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        if leaves.count == 1, let only = leaves.first { return leafHash(only) }
        let split = largestPowerOfTwo(below: leaves.count)
        let middle = leaves.startIndex + split
        return nodeHash(subtreeRoot(leaves[..<middle]), subtreeRoot(leaves[middle...]))
    }

    private static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// The audit path proving that leaf `index` (0-based) is in the tree over `entryHashes` (RFC 6962 §2.1.1).
    ///
    /// - Throws: `AuditError.invalidProof` if `index` is out of range.
    public static func inclusionProof(index: Int, entryHashes: [[UInt8]]) throws(AuditError) -> [[UInt8]] {
        guard entryHashes.indices.contains(index) else {
            throw AuditError(.invalidProof, "leaf \(index) is not in a tree of \(entryHashes.count) entries")
        }
        return path(index, entryHashes[...])
    }

    private static func path(_ index: Int, _ leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard leaves.count > 1 else { return [] }
        let split = largestPowerOfTwo(below: leaves.count)
        let middle = leaves.startIndex + split
        if index < split {
            return path(index, leaves[..<middle]) + [subtreeRoot(leaves[middle...])]
        }
        return path(index - split, leaves[middle...]) + [subtreeRoot(leaves[..<middle])]
    }

    /// Checks an inclusion proof (RFC 9162 §2.1.3.2 algorithm).
    ///
    /// - Returns: `true` when `proof` links `entryHash` at `index` in a tree of `size` leaves to `root`.
    public static func verifyInclusion(
        entryHash: [UInt8], index: Int, size: Int, proof: [[UInt8]], root: [UInt8]
    ) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index
        var sn = size - 1
        var r = leafHash(entryHash)
        for p in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }
}
