import Primitives

/// Where `MerkleProofs` reads stored subtree hashes.
///
/// `nodeHash(level:index:)` returns the RFC 6962 hash of the *perfect* subtree of 2^level leaves starting at leaf
/// `index·2^level` (level 0: the leaf hash itself). `MerkleProofs` only ever asks for perfect subtrees that lie wholly
/// inside the tree size it was given, which `CompactMerkleRange.append` reports as they complete.
///
/// A source may throw any error (a database error, say); `MerkleProofs` reports it as
/// `AuditError.nodeUnavailable` without its message, since a store's message may carry SQL arguments.
public protocol MerkleNodeSource {
    /// The hash of the perfect subtree at `level`, `index` (32 bytes).
    func nodeHash(level: Int, index: Int64) throws -> [UInt8]
}

/// RFC 9162 §2.1 inclusion and consistency proofs built from stored perfect-subtree hashes, and their verification.
///
/// Every builder fetches O(log n) perfect-subtree hashes: a subtree that is not perfect (the right border of the
/// tree) is composed from the perfect subtrees that tile it, one per set bit of its size. Nothing rebuilds the tree.
///
/// Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step. Beyond the RFC it refuses any hash that is not 32
/// bytes, negative sizes and indexes, proofs longer than 64 hashes, and (for consistency) an old size of 0 with a new
/// size above it; two equal sizes are consistent exactly when the proof is empty and the roots are equal (and, for
/// size 0, equal to `SHA-256("")`). Nothing traps on any `Int64` input.
public enum MerkleProofs {
    /// The longest proof any tree of at most 2^63 leaves needs.
    public static let maxProofLength = 64

    // MARK: Building

    /// The RFC 6962 root of the first `size` leaves.
    ///
    /// - Complexity: one node fetch per set bit of `size` (≤ 63), as many hashes.
    /// - Throws: `AuditError.invalidProof` for a negative size; `.nodeUnavailable` when the source fails.
    public static func root(size: Int64, nodes: some MerkleNodeSource) throws(AuditError) -> [UInt8] {
        guard size >= 0 else { throw AuditError(.invalidProof, "a tree size is never negative") }
        guard size > 0 else { return MerkleTree.emptyRoot }
        return try rangeHash(start: 0, count: size, nodes)
    }

    /// The inclusion proof (audit path, RFC 9162 §2.1.3.1) for leaf `index` in the tree of the first `size` leaves.
    ///
    /// - Returns: sibling hashes from the leaf up; empty for a tree of one leaf.
    /// - Complexity: O(log n) node fetches and hashes.
    /// - Throws: `AuditError.invalidProof` unless `0 ≤ index < size`; `.nodeUnavailable` when the source fails.
    public static func inclusionProof(
        index: Int64, size: Int64, nodes: some MerkleNodeSource
    ) throws(AuditError)
        -> [[UInt8]]
    {
        guard index >= 0, index < size else {
            throw AuditError(.invalidProof, "leaf \(index) is not in a tree of \(size) leaves")
        }
        var proof: [[UInt8]] = []
        try path(index, start: 0, count: size, nodes, into: &proof)
        return proof
    }

    /// The consistency proof (RFC 9162 §2.1.4.1) that the tree of `size1` leaves is a prefix of the tree of `size2`.
    ///
    /// - Returns: empty when `size1 == size2` (the roots must then be equal).
    /// - Complexity: O(log n) node fetches and hashes.
    /// - Throws: `AuditError.invalidProof` unless `0 < size1 ≤ size2` (a proof from the empty tree is not defined:
    ///   every tree extends it); `.nodeUnavailable` when the source fails.
    public static func consistencyProof(
        from size1: Int64, to size2: Int64, nodes: some MerkleNodeSource
    )
        throws(AuditError) -> [[UInt8]]
    {
        guard size1 > 0, size1 <= size2 else {
            throw AuditError(.invalidProof, "no consistency proof from \(size1) to \(size2) leaves")
        }
        var proof: [[UInt8]] = []
        if size1 < size2 { try subproof(size1, start: 0, count: size2, complete: true, nodes, into: &proof) }
        return proof
    }

    /// The largest power of two strictly below `n` (n ≥ 2).
    private static func split(_ n: Int64) -> Int64 {
        Int64(1) << Int64(63 - (n - 1).leadingZeroBitCount)
    }

    /// MTH(D[start ..< start+count]) for a subtree of the RFC 6962 tree: `start` is a multiple of the largest power of
    /// two ≤ `count`, so the range is tiled by aligned perfect subtrees, one per set bit of `count`, largest first.
    private static func rangeHash(
        start: Int64, count: Int64, _ nodes: some MerkleNodeSource
    ) throws(AuditError)
        -> [UInt8]
    {
        var tiles: [[UInt8]] = []
        var offset = start
        for level in stride(from: 62, through: 0, by: -1) where (count >> Int64(level)) & 1 == 1 {
            guard offset & ((Int64(1) << Int64(level)) - 1) == 0 else {
                throw AuditError(.nodeUnavailable, "internal error: an unaligned subtree was asked for")
            }
            tiles.append(try node(level: level, index: offset >> Int64(level), nodes))
            offset += Int64(1) << Int64(level)
        }
        guard var hash = tiles.popLast() else { return MerkleTree.emptyRoot }
        while let left = tiles.popLast() { hash = MerkleTree.nodeHash(left, hash) }
        return hash
    }

    private static func node(level: Int, index: Int64, _ nodes: some MerkleNodeSource) throws(AuditError) -> [UInt8] {
        let hash: [UInt8]
        do {
            hash = try nodes.nodeHash(level: level, index: index)
        } catch {
            throw AuditError(.nodeUnavailable, "the subtree hash at level \(level), index \(index) is not available")
        }
        guard hash.count == 32 else {
            throw AuditError(.nodeUnavailable, "the subtree hash at level \(level), index \(index) is not 32 bytes")
        }
        return hash
    }

    /// PATH(m, D[start ..< start+count]), appended bottom-up.
    private static func path(
        _ m: Int64, start: Int64, count: Int64, _ nodes: some MerkleNodeSource, into proof: inout [[UInt8]]
    ) throws(AuditError) {
        guard count > 1 else { return }
        let k = split(count)
        if m < k {
            try path(m, start: start, count: k, nodes, into: &proof)
            proof.append(try rangeHash(start: start + k, count: count - k, nodes))
        } else {
            try path(m - k, start: start + k, count: count - k, nodes, into: &proof)
            proof.append(try rangeHash(start: start, count: k, nodes))
        }
    }

    /// SUBPROOF(m, D[start ..< start+count], complete), appended bottom-up.
    private static func subproof(
        _ m: Int64, start: Int64, count: Int64, complete: Bool, _ nodes: some MerkleNodeSource,
        into proof: inout [[UInt8]]
    ) throws(AuditError) {
        if m == count {
            if !complete { proof.append(try rangeHash(start: start, count: m, nodes)) }
            return
        }
        let k = split(count)
        if m <= k {
            try subproof(m, start: start, count: k, complete: complete, nodes, into: &proof)
            proof.append(try rangeHash(start: start + k, count: count - k, nodes))
        } else {
            try subproof(m - k, start: start + k, count: count - k, complete: false, nodes, into: &proof)
            proof.append(try rangeHash(start: start, count: k, nodes))
        }
    }

    // MARK: Verifying

    /// Whether `proof` shows the leaf with hash `leafHash` at `index` in the tree of `size` leaves whose root is `root`
    /// (RFC 9162 §2.1.3.2).
    ///
    /// `false` for `index` outside `0 ..< size`, any hash not 32 bytes, a proof of the wrong length or content.
    /// - Complexity: O(proof length) ≤ 64 hashes.
    /// - Security: `leafHash` is the leaf hash (`MerkleTree.leafHash` of the entry hash), not the entry hash.
    public static func verifyInclusion(
        leafHash: [UInt8], index: Int64, size: Int64, proof: [[UInt8]], root: [UInt8]
    )
        -> Bool
    {
        guard index >= 0, index < size, leafHash.count == 32, root.count == 32, proof.count <= maxProofLength,
            proof.allSatisfy({ $0.count == 32 })
        else { return false }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = MerkleTree.nodeHash(p, r)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                r = MerkleTree.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
    /// leaves with root `root2` (RFC 9162 §2.1.4.2).
    ///
    /// Equal sizes: `true` exactly when the proof is empty and the roots are equal (for size 0, equal to the empty
    /// root). `false` for `size1 > size2` (a rollback), `size1 == 0 < size2`, negative sizes, hashes not 32 bytes,
    /// and any proof of the wrong length or content.
    /// - Complexity: O(proof length) ≤ 64 hashes.
    public static func verifyConsistency(
        size1: Int64, size2: Int64, root1: [UInt8], root2: [UInt8], proof: [[UInt8]]
    )
        -> Bool
    {
        guard size1 >= 0, size1 <= size2, root1.count == 32, root2.count == 32, proof.count <= maxProofLength,
            proof.allSatisfy({ $0.count == 32 })
        else { return false }
        if size1 == size2 {
            return proof.isEmpty && root1 == root2 && (size1 > 0 || root1 == MerkleTree.emptyRoot)
        }
        guard size1 > 0, !proof.isEmpty else { return false }
        var path = proof
        if size1 & (size1 - 1) == 0 { path.insert(root1, at: 0) }  // size1 is a power of two
        var fn = size1 - 1
        var sn = size2 - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleTree.nodeHash(c, fr)
                sr = MerkleTree.nodeHash(c, sr)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = MerkleTree.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == root1 && sr == root2 && sn == 0
    }
}
