import Foundation
import Primitives
import Testing

@testable import VaultAudit

/// The directory of this test target's sources.
let auditTestsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

/// The repository root.
let repositoryRoot = auditTestsDirectory.deletingLastPathComponent().deletingLastPathComponent()

/// A deterministic generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &self) } }
}

/// An in-memory `MerkleNodeSource` fed by `CompactMerkleRange.append`, counting the fetches it answers.
final class MemoryNodes: MerkleNodeSource {
    var nodes: [Int: [Int64: [UInt8]]] = [:]
    var range = CompactMerkleRange()
    var entryHashes: [[UInt8]] = []
    var fetches = 0

    init(count: Int, seed: UInt64 = 1) {
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<count { appendEntry(rng.bytes(32)) }
    }

    func appendEntry(_ entryHash: [UInt8]) {
        entryHashes.append(entryHash)
        for node in range.append(leafHash: MerkleTree.leafHash(entryHash)) {
            #expect(nodes[node.level, default: [:]][node.index] == nil, "node reported twice")
            nodes[node.level, default: [:]][node.index] = node.hash
        }
    }

    struct Missing: Error {}

    func nodeHash(level: Int, index: Int64) throws -> [UInt8] {
        fetches += 1
        guard let hash = nodes[level]?[index] else { throw Missing() }
        return hash
    }

    /// RFC 6962 root of the first `size` entries, computed from the leaves.
    func referenceRoot(_ size: Int) -> [UInt8] { MerkleTree.root(Array(entryHashes.prefix(size))) }
}

/// Decodes a base64 byte string as Go's JSON encoding writes it ("" for empty).
func goBytes(_ text: String) -> [UInt8] {
    guard let data = Data(base64Encoded: text) else {
        Issue.record("vector has invalid base64: \(text)")
        return []
    }
    return Array(data)
}

/// A 64-bit unsigned vector value as the `Int64` a caller would pass (values above Int64.max become negative).
func asInt64(_ value: UInt64) -> Int64 { Int64(bitPattern: value) }

/// A fixed Ed25519 key for tests.
func testKey(_ seedByte: UInt8) throws -> Ed25519.PrivateKey {
    try Ed25519.PrivateKey(rawRepresentation: [UInt8](repeating: seedByte, count: 32))
}
