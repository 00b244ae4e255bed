import Foundation
import Primitives
import Testing

@testable import VaultAudit

/// Corruptions of an inclusion proof, each of which must be refused (the issue's probe list).
func inclusionProbes(
    leafHash: [UInt8], index: Int64, size: Int64, proof: [[UInt8]], root: [UInt8], rng: inout SeededGenerator
)
    -> [(desc: String, leaf: [UInt8], index: Int64, size: Int64, proof: [[UInt8]], root: [UInt8])]
{
    var probes: [(desc: String, leaf: [UInt8], index: Int64, size: Int64, proof: [[UInt8]], root: [UInt8])] = [
        ("index + 1", leafHash, index + 1, size, proof, root),
        ("index - 1", leafHash, index - 1, size, proof, root),
        ("index ^ 2", leafHash, index ^ 2, size, proof, root),
        ("size * 2", leafHash, index, size * 2, proof, root),
        ("size / 2", leafHash, index, size / 2, proof, root),
        ("wrong leaf", MerkleTree.leafHash(Array("WrongLeaf".utf8)), index, size, proof, root),
        ("empty root", leafHash, index, size, proof, MerkleTree.emptyRoot),
        ("random root", leafHash, index, size, proof, rng.bytes(32)),
        ("no root", leafHash, index, size, proof, []),
        ("short leaf", Array(leafHash.dropLast()), index, size, proof, root),
        ("trailing garbage", leafHash, index, size, proof + [[]], root),
        ("trailing root", leafHash, index, size, proof + [root], root),
        ("trailing random", leafHash, index, size, proof + [rng.bytes(32)], root),
        ("preceding garbage", leafHash, index, size, [[]] + proof, root),
        ("preceding root", leafHash, index, size, [root] + proof, root),
        ("preceding random", leafHash, index, size, [rng.bytes(32)] + proof, root),
    ]
    for i in proof.indices {
        var flipped = proof
        let bit = Int.random(in: 0..<256, using: &rng)
        flipped[i][bit / 8] ^= 1 << UInt8(bit % 8)
        probes.append(("bit \(bit) of proof[\(i)]", leafHash, index, size, flipped, root))
        var removed = proof
        removed.remove(at: i)
        probes.append(("proof[\(i)] removed", leafHash, index, size, removed, root))
        var inserted = proof
        inserted.insert(rng.bytes(32), at: i)
        probes.append(("random inserted at \(i)", leafHash, index, size, inserted, root))
        var duplicated = proof
        duplicated.insert(proof[i], at: i)
        probes.append(("proof[\(i)] repeated", leafHash, index, size, duplicated, root))
        var longer = proof
        longer[i] += [0]
        probes.append(("proof[\(i)] 33 bytes", leafHash, index, size, longer, root))
    }
    return probes
}

/// Corruptions of a consistency proof (0 < size1 < size2), each of which must be refused.
func consistencyProbes(
    size1: Int64, size2: Int64, root1: [UInt8], root2: [UInt8], proof: [[UInt8]], rng: inout SeededGenerator
)
    -> [(desc: String, size1: Int64, size2: Int64, root1: [UInt8], root2: [UInt8], proof: [[UInt8]])]
{
    var probes: [(desc: String, size1: Int64, size2: Int64, root1: [UInt8], root2: [UInt8], proof: [[UInt8]])] = [
        ("size1 + 1", size1 + 1, size2, root1, root2, proof),
        ("size1 - 1", size1 - 1, size2, root1, root2, proof),
        ("size1 ^ 2", size1 ^ 2, size2, root1, root2, proof),
        ("size2 * 2", size1, size2 * 2, root1, root2, proof),
        ("size2 / 2", size1, size2 / 2, root1, root2, proof),
        ("time travel (sizes and roots swapped)", size2, size1, root2, root1, proof),
        ("time travel (sizes swapped)", size2, size1, root1, root2, proof),
        ("swapped roots", size1, size2, root2, root1, proof),
        ("wrong root1", size1, size2, rng.bytes(32), root2, proof),
        ("wrong root2", size1, size2, root1, rng.bytes(32), proof),
        ("empty root2", size1, size2, root1, MerkleTree.emptyRoot, proof),
        ("same roots", size1, size2, root1, root1, proof),
        ("empty proof", size1, size2, root1, root2, []),
        ("trailing garbage", size1, size2, root1, root2, proof + [[]]),
        ("trailing root1", size1, size2, root1, root2, proof + [root1]),
        ("trailing root2", size1, size2, root1, root2, proof + [root2]),
        ("preceding garbage", size1, size2, root1, root2, [[]] + proof),
        ("preceding root1", size1, size2, root1, root2, [root1] + proof),
        ("preceding root2", size1, size2, root1, root2, [root2] + proof),
        ("preceding proof[0]", size1, size2, root1, root2, [proof[0]] + proof),
        ("truncated", size1, size2, root1, root2, Array(proof.dropLast())),
    ]
    for i in proof.indices {
        var flipped = proof
        let bit = Int.random(in: 0..<256, using: &rng)
        flipped[i][bit / 8] ^= 1 << UInt8(bit % 8)
        probes.append(("bit \(bit) of proof[\(i)]", size1, size2, root1, root2, flipped))
        var removed = proof
        removed.remove(at: i)
        probes.append(("proof[\(i)] removed", size1, size2, root1, root2, removed))
        var inserted = proof
        inserted.insert(rng.bytes(32), at: i)
        probes.append(("random inserted at \(i)", size1, size2, root1, root2, inserted))
    }
    return probes
}

@Suite("Merkle proofs from stored subtree hashes")
struct MerkleProofTests {
    @Test("Every inclusion proof in every tree up to 300 leaves verifies; every probe on it is refused")
    func inclusionUpTo300() throws {
        let nodes = MemoryNodes(count: 300, seed: 7)
        var rng = SeededGenerator(seed: 11)
        var proofs = 0
        var probes = 0
        for size in 1...300 {
            let root = try MerkleProofs.root(size: Int64(size), nodes: nodes)
            #expect(root == nodes.referenceRoot(size))
            for index in 0..<size {
                let leaf = MerkleTree.leafHash(nodes.entryHashes[index])
                let proof = try MerkleProofs.inclusionProof(index: Int64(index), size: Int64(size), nodes: nodes)
                #expect(
                    MerkleProofs.verifyInclusion(
                        leafHash: leaf, index: Int64(index), size: Int64(size), proof: proof, root: root))
                proofs += 1
                // Probes on a sample (all of them for small trees), to keep the debug run short.
                guard size <= 40 || index % 37 == 0 || index == size - 1 else { continue }
                for p in inclusionProbes(
                    leafHash: leaf, index: Int64(index), size: Int64(size), proof: proof, root: root, rng: &rng)
                {
                    probes += 1
                    #expect(
                        !MerkleProofs.verifyInclusion(
                            leafHash: p.leaf, index: p.index, size: p.size, proof: p.proof, root: p.root),
                        "size \(size) index \(index): \(p.desc) accepted")
                }
            }
        }
        print("AuditTests: \(proofs) inclusion proofs verified, \(probes) inclusion probes refused")
    }

    @Test("Every consistency proof between trees up to 300 leaves verifies; every probe on it is refused")
    func consistencyUpTo300() throws {
        let nodes = MemoryNodes(count: 300, seed: 8)
        var rng = SeededGenerator(seed: 12)
        let roots = try (0...300).map { try MerkleProofs.root(size: Int64($0), nodes: nodes) }
        var proofs = 0
        var probes = 0
        for size2 in 1...300 {
            for size1 in 1...size2 {
                let proof = try MerkleProofs.consistencyProof(from: Int64(size1), to: Int64(size2), nodes: nodes)
                #expect(
                    MerkleProofs.verifyConsistency(
                        size1: Int64(size1), size2: Int64(size2), root1: roots[size1], root2: roots[size2], proof: proof
                    ))
                proofs += 1
                guard size1 < size2, size2 <= 40 || size1 % 29 == 0 || size1 == size2 - 1 else { continue }
                for p in consistencyProbes(
                    size1: Int64(size1), size2: Int64(size2), root1: roots[size1], root2: roots[size2], proof: proof,
                    rng: &rng)
                {
                    probes += 1
                    #expect(
                        !MerkleProofs.verifyConsistency(
                            size1: p.size1, size2: p.size2, root1: p.root1, root2: p.root2, proof: p.proof),
                        "\(size1) → \(size2): \(p.desc) accepted")
                }
            }
        }
        print("AuditTests: \(proofs) consistency proofs verified, \(probes) consistency probes refused")
    }

    @Test("Equal sizes: consistent only with an empty proof and equal roots; size 0 only with the empty root")
    func equalSizes() throws {
        let nodes = MemoryNodes(count: 5)
        let root = try MerkleProofs.root(size: 5, nodes: nodes)
        #expect(try MerkleProofs.consistencyProof(from: 5, to: 5, nodes: nodes).isEmpty)
        #expect(MerkleProofs.verifyConsistency(size1: 5, size2: 5, root1: root, root2: root, proof: []))
        #expect(
            !MerkleProofs.verifyConsistency(size1: 5, size2: 5, root1: root, root2: MerkleTree.emptyRoot, proof: []))
        #expect(!MerkleProofs.verifyConsistency(size1: 5, size2: 5, root1: root, root2: root, proof: [root]))
        #expect(
            MerkleProofs.verifyConsistency(
                size1: 0, size2: 0, root1: MerkleTree.emptyRoot, root2: MerkleTree.emptyRoot, proof: []))
        #expect(!MerkleProofs.verifyConsistency(size1: 0, size2: 0, root1: root, root2: root, proof: []))
        #expect(
            !MerkleProofs.verifyConsistency(size1: 0, size2: 5, root1: MerkleTree.emptyRoot, root2: root, proof: []))
        #expect(throws: AuditError.self) { try MerkleProofs.consistencyProof(from: 0, to: 5, nodes: nodes) }
        #expect(throws: AuditError.self) { try MerkleProofs.consistencyProof(from: 5, to: 4, nodes: nodes) }
        #expect(try MerkleProofs.root(size: 0, nodes: nodes) == MerkleTree.emptyRoot)
    }

    @Test("Agreement with MerkleTree.root and MerkleTree.inclusionProof on random sizes")
    func agreesWithMerkleTree() throws {
        var rng = SeededGenerator(seed: 3)
        let nodes = MemoryNodes(count: 3000, seed: 4)
        for _ in 0..<60 {
            let size = Int.random(in: 1...3000, using: &rng)
            let prefix = Array(nodes.entryHashes.prefix(size))
            let root = try MerkleProofs.root(size: Int64(size), nodes: nodes)
            #expect(root == MerkleTree.root(prefix))
            for _ in 0..<5 {
                let index = Int.random(in: 0..<size, using: &rng)
                let proof = try MerkleProofs.inclusionProof(index: Int64(index), size: Int64(size), nodes: nodes)
                #expect(proof == (try MerkleTree.inclusionProof(index: index, entryHashes: prefix)))
                #expect(
                    MerkleTree.verifyInclusion(
                        entryHash: prefix[index], index: index, size: size, proof: proof, root: root))
            }
        }
        // The streaming root agrees at every size along the way.
        var range = CompactMerkleRange()
        for (i, entry) in nodes.entryHashes.prefix(700).enumerated() {
            range.append(leafHash: MerkleTree.leafHash(entry))
            #expect(range.size == Int64(i + 1))
            if i % 7 == 0 { #expect(range.root() == nodes.referenceRoot(i + 1)) }
        }
        #expect(CompactMerkleRange().root() == MerkleTree.emptyRoot)
    }

    @Test("Sampled large trees: proofs verify and cost O(log n) node fetches")
    func largeTrees() throws {
        let nodes = MemoryNodes(count: 70_000, seed: 5)
        var rng = SeededGenerator(seed: 6)
        for size in [1023, 1024, 1025, 4097, 32_768, 65_535, 65_536, 65_537, 69_999, 70_000] {
            nodes.fetches = 0
            let root = try MerkleProofs.root(size: Int64(size), nodes: nodes)
            #expect(nodes.fetches == Int64(size).nonzeroBitCount)
            let logn = 64 - Int64(size).leadingZeroBitCount
            for _ in 0..<20 {
                let index = Int64.random(in: 0..<Int64(size), using: &rng)
                nodes.fetches = 0
                let proof = try MerkleProofs.inclusionProof(index: index, size: Int64(size), nodes: nodes)
                #expect(nodes.fetches <= 2 * logn, "inclusion fetched \(nodes.fetches) nodes for n = \(size)")
                #expect(proof.count <= logn)
                #expect(
                    MerkleProofs.verifyInclusion(
                        leafHash: MerkleTree.leafHash(nodes.entryHashes[Int(index)]), index: index, size: Int64(size),
                        proof: proof, root: root))
                let size1 = Int64.random(in: 1...Int64(size), using: &rng)
                nodes.fetches = 0
                let cproof = try MerkleProofs.consistencyProof(from: size1, to: Int64(size), nodes: nodes)
                #expect(nodes.fetches <= 2 * logn, "consistency fetched \(nodes.fetches) nodes for n = \(size)")
                let root1 = try MerkleProofs.root(size: size1, nodes: nodes)
                #expect(
                    MerkleProofs.verifyConsistency(
                        size1: size1, size2: Int64(size), root1: root1, root2: root, proof: cproof))
            }
        }
        #expect(try MerkleProofs.root(size: 70_000, nodes: nodes) == nodes.range.root())
    }

    @Test("No Int64 input traps: extremes and random values are refused or reported, never crash")
    func extremeInputs() throws {
        let nodes = MemoryNodes(count: 16)
        let hash = MerkleTree.emptyRoot
        var rng = SeededGenerator(seed: 9)
        var values: [Int64] = [.min, .min + 1, -2, -1, 0, 1, 2, 15, 16, 17, .max - 1, .max, 1 << 62, (1 << 62) + 1]
        for _ in 0..<200 { values.append(Int64(bitPattern: rng.next())) }
        for a in values {
            for b in values.prefix(20) {
                #expect(!MerkleProofs.verifyInclusion(leafHash: hash, index: a, size: b, proof: [hash], root: hash))
                _ = MerkleProofs.verifyConsistency(size1: a, size2: b, root1: hash, root2: hash, proof: [hash, hash])
                #expect(
                    !MerkleProofs.verifyConsistency(
                        size1: a, size2: b, root1: hash, root2: hash, proof: Array(repeating: hash, count: 65)))
                // Out-of-range arguments are refused; in-range ones beyond the stored nodes fail (or, when no missing
                // node is needed, succeed) — either way without trapping.
                if a < 0 || a >= b {
                    #expect(throws: AuditError.self) {
                        try MerkleProofs.inclusionProof(index: a, size: b, nodes: nodes)
                    }
                } else {
                    _ = try? MerkleProofs.inclusionProof(index: a, size: b, nodes: nodes)
                }
                if a <= 0 || a > b {
                    #expect(throws: AuditError.self) { try MerkleProofs.consistencyProof(from: a, to: b, nodes: nodes) }
                } else {
                    _ = try? MerkleProofs.consistencyProof(from: a, to: b, nodes: nodes)
                }
            }
            if a < 0 || a > 16 { #expect(throws: AuditError.self) { try MerkleProofs.root(size: a, nodes: nodes) } }
        }
        // A source that answers with the wrong length is reported, not trusted.
        struct Short: MerkleNodeSource { func nodeHash(level: Int, index: Int64) throws -> [UInt8] { [1, 2, 3] } }
        #expect { try MerkleProofs.root(size: 3, nodes: Short()) } throws: {
            ($0 as? AuditError)?.code == .nodeUnavailable
        }
    }

    @Test("CompactMerkleRange: reports each perfect node once, decodes only well-formed states")
    func compactRange() throws {
        var range = CompactMerkleRange()
        var reported = 0
        for i in 0..<64 {
            let nodes = range.append(leafHash: MerkleTree.leafHash([UInt8(i)]))
            #expect(nodes.first?.level == 0 && nodes.first?.index == Int64(i))
            #expect(nodes.count == 1 + (i + 1).trailingZeroBitCount)
            reported += nodes.count
        }
        #expect(reported == 127)  // a perfect tree of 64 leaves has 127 nodes
        #expect(range.peaks.count == 1)
        let data = try JSONEncoder().encode(range)
        #expect(try JSONDecoder().decode(CompactMerkleRange.self, from: data) == range)
        for bad in [
            #"{"size":3,"peaks":[]}"#, #"{"size":-1,"peaks":[]}"#,
            #"{"size":1,"peaks":[[1,2]]}"#, #"{"size":4611686018427387905,"peaks":[]}"#,
        ] {
            #expect(throws: DecodingError.self) {
                try JSONDecoder().decode(CompactMerkleRange.self, from: Data(bad.utf8))
            }
        }
        #expect(throws: AuditError.self) { try range.tryAppend(leafHash: [1, 2, 3]) }
        #expect(range.size == 64)
        // Rebuilt from the stored nodes at any size, the range equals the one built leaf by leaf, and grows on.
        let nodes = MemoryNodes(count: 200, seed: 13)
        var incremental = CompactMerkleRange()
        for size in 0...150 {
            var rebuilt = try CompactMerkleRange(size: Int64(size), nodes: nodes)
            #expect(rebuilt == incremental)
            if size < 150 {
                let leaf = MerkleTree.leafHash(nodes.entryHashes[size])
                #expect(rebuilt.append(leafHash: leaf).map(\.hash) == incremental.append(leafHash: leaf).map(\.hash))
            }
        }
        #expect(throws: AuditError.self) { try CompactMerkleRange(size: 201, nodes: nodes) }
        #expect(throws: AuditError.self) { try CompactMerkleRange(size: -1, nodes: nodes) }
    }
}
