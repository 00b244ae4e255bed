import BigNum
import Foundation
import Paillier

/// Test-only fixture keys and files, found relative to this source file (tests never read ../shared).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func data(_ relative: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(relative))
    }

    static func privateKey(_ name: String) throws -> PrivateKey {
        try PaillierJSON.decodePrivateKey(data("Keys/test/\(name)/private.json"), allowInsecureSize: true)
    }

    static func publicKey(_ name: String) throws -> PublicKey {
        try PaillierJSON.decodePublicKey(data("Keys/test/\(name)/public.json"), allowInsecureSize: true)
    }

    /// A shared 1024-bit key (loading checks primality, so share it across tests).
    static let key1024: SharedPrivateKey = {
        // safe: the committed fixture is valid; a failure here is a broken checkout, reported by every test.
        let key = try! privateKey("eduvault-1024")
        return SharedPrivateKey(key)
    }()
}

/// A deterministic random source for property tests (SplitMix64), so a failure can be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value below `bound` (rejection sampling over bytes).
    mutating func bigNum(below bound: BigNum) -> BigNum {
        let bytes = bound.byteCount
        while true {
            let bytes = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &self) }
            // safe: a test helper; a few hundred bytes always convert.
            let candidate = (try! BigNum(bigEndian: bytes)).masked(toBits: bound.bitCount)
            if candidate < bound { return candidate }
        }
    }
}
