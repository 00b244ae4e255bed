import BigNum
import Foundation
import Paillier
import Testing

@Suite("Parallel paths and the noise pool")
struct ParallelTests {
    let key = Fixtures.key1024
    var pub: PublicKey { key.publicKey }

    @Test("Parallel encryption, decryption and sums agree with the single-threaded reference")
    func parallelAgrees() async throws {
        let priv = try Fixtures.privateKey("eduvault-1024")
        var rng = SeededRandom(seed: 5)
        let values = (0..<37).map { _ in rng.bigNum(below: BigNum(1 << 40)) }
        let cts = try await pub.encrypt(batch: values, cores: 3)
        #expect(cts.count == values.count)
        #expect(try await priv.decryptRaw(batch: cts, cores: 3) == values)
        let reference = try pub.sum(cts)
        for cores in [1, 2, 5, 64] {
            #expect(try await key.decrypt(pub.sumInParallel(cts, cores: cores)) == values.reduce(BigNum(0), +))
        }
        var packed: [UInt8] = []
        for c in cts { packed += try c.bytes(width: pub.ciphertextByteCount) }
        let fromBytes = try await pub.sumInParallel(packedBytes: packed, cores: 2)
        #expect(try key.decrypt(fromBytes) == key.decrypt(reference))
    }

    @Test("Cancelling a parallel encryption stops it with CancellationError")
    func cancellation() async throws {
        let pub = self.pub
        let values = [BigNum](repeating: BigNum(1), count: 5_000)
        let task = Task { try await pub.encrypt(batch: values, cores: 2) }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test("The noise pool fills, serves values that decrypt correctly, runs dry gracefully and stops")
    func pool() async throws {
        let pool = try NoisePool(key: pub, capacity: 16, producers: 2)
        var waited = 0
        while pool.available < 16 && waited < 400 {
            try await Task.sleep(nanoseconds: 10_000_000)
            waited += 1
        }
        #expect(pool.available == 16)
        var seen = Set<Ciphertext>()
        for i in 0..<40 {  // more than the capacity: the rest are computed inline
            let c = try pool.encrypt(BigNum(UInt64(i)))
            #expect(try key.decrypt(c) == BigNum(UInt64(i)))
            seen.insert(c)
        }
        #expect(seen.count == 40)
        pool.stop()
        pool.stop()  // idempotent
        #expect(try key.decrypt(pool.encrypt(BigNum(9))) == BigNum(9))  // still usable after stop
    }
}
