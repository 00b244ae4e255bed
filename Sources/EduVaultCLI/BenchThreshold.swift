import BigNum
import Foundation
import Paillier
import Synchronization
import VaultAggregation
import VaultModel

/// `eduvault bench --threshold`: what threshold custody costs, next to single-key CRT decryption in the same run.
///
/// 1. The dealer ceremony (safe-prime search included), once: wall and CPU time. Or load an earlier ceremony's
///    files with `--threshold-key DIR` (public.json is not needed; threshold.json and the share files are).
/// 2. One core: partial decryptions with proof per second, proof verifications per second, combinations of t
///    partials per second, and CRT decryptions with a single key of the same size per second.
/// 3. A release of `cells` cells (24 by default): the whole threshold path — t parties' `release share` (units of
///    packed cells, proofs), the combiner's check of every proof, the combination and unpacking — in process CPU
///    seconds (all threads), and the single-key path on the same cells for comparison.
struct ThresholdBenchmark {
    var bits: Int
    var seconds: Double
    var parties: [String]
    var threshold: Int
    var cells: Int
    var keyDirectory: String?

    /// The process's CPU time (user + system, every thread) in seconds.
    static func cpuSeconds() -> Double {
        var ts = timespec()
        guard clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 else { return 0 }
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs `body` and returns its wall and CPU seconds.
    static func measure<T>(_ body: () async throws -> T) async rethrows -> (T, wall: Double, cpu: Double) {
        let wall = Date(), cpu = cpuSeconds()
        let value = try await body()
        return (value, Date().timeIntervalSince(wall), cpuSeconds() - cpu)
    }

    func run(note: (String) -> Void) async throws -> [(String, Double)] {
        var figures: [(String, Double)] = [("bits", Double(bits)), ("threshold", Double(threshold)),
                                           ("parties", Double(parties.count))]
        // 1. The ceremony.
        let key: ThresholdPublicKey
        let shares: [ThresholdShare]
        if let keyDirectory {
            func read(_ file: String) throws -> Data {
                try Files.read((keyDirectory as NSString).appendingPathComponent(file), what: file, limit: 1 << 20)
            }
            key = try ThresholdJSON.decode(try read("threshold.json"), allowInsecureSize: true)
            shares = try key.parties.map { try ThresholdJSON.decodeShare(try read("share-\($0.name).json"), allowInsecureSize: true) }
            guard key.publicKey.bitCount == bits else {
                throw CLIError("--threshold-key holds a \(key.publicKey.bitCount)-bit key, not --bits \(bits)")
            }
            note("ceremony: loaded \(key.ceremonyID) from \(keyDirectory) (not timed)")
        } else {
            note("ceremony: searching for two \(bits / 2)-bit safe primes (this can take minutes at 3072 bits)…")
            let started = Date()
            let lastReport = Mutex(Date())
            let (outcome, wall, cpu) = try await Self.measure {
                try ThresholdCeremony.run(bits: bits, parties: parties, threshold: threshold, allowInsecureSize: true) { p in
                    let due = lastReport.withLock { last -> Bool in
                        guard Date().timeIntervalSince(last) > 30 else { return false }
                        last = Date()
                        return true
                    }
                    if due {
                        Terminal.note(String(format: "  … %d candidates, %d of 2 safe primes, %.0f s", p.candidates,
                                             p.primesFound, Date().timeIntervalSince(started)))
                    }
                }
            }
            key = outcome.key
            shares = outcome.shares
            figures += [("ceremony_s", wall), ("ceremony_cpu_s", cpu)]
            note(String(format: "ceremony: %.1f s wall, %.1f s CPU (two safe-prime searches on two threads)", wall, cpu))
        }
        let pub = key.publicKey

        // 2. One core, per ciphertext.
        let single = try PrivateKey.generate(bits: bits, allowInsecureSize: true)
        let singleCiphertext = try single.publicKey.encrypt(try BigNum.random(below: single.publicKey.maxInt))
        figures.append(("single_key_crt_decrypt_per_s", try rate { _ = try single.decryptRaw(singleCiphertext) }))
        let c = try pub.encrypt(try BigNum.random(below: pub.maxInt))
        let context = Array("bench".utf8)
        figures.append(("partial_with_proof_per_s", try rate { _ = try shares[0].partiallyDecrypt(c, context: context) }))
        let partials = try shares.prefix(threshold).map { try $0.partiallyDecrypt(c, context: context) }
        figures.append(("verify_per_s", try rate {
            guard key.verify(partials[0], of: c, context: context) == nil else { throw CLIError("a proof did not verify") }
        }))
        figures.append(("combine_per_s", try rate { _ = try key.combine(partials, of: c) }))

        // 3. A release of `cells` cells, the whole path.
        let release = try syntheticRelease(key: pub)
        let units = try ReleaseUnits(release: release, key: pub)
        let (files, shareWall, shareCPU) = try await Self.measure {
            var out: [(label: String, data: Data)] = []
            for share in shares.prefix(threshold) {
                let file = try await ThresholdRelease.partiallyDecrypt(release, with: share, created: "bench")
                out.append((share.party.name, try file.jsonData()))
            }
            return out
        }
        let (verification, verifyWall, verifyCPU) = try await Self.measure {
            try await ThresholdRelease.verify(release, key: key, partials: files)
        }
        guard verification.refused.isEmpty else { throw CLIError("a partial of the benchmark was refused") }
        let (decrypted, combineWall, combineCPU) = try await Self.measure {
            try await DecryptedRelease.decrypt(release, with: try verification.decryptor())
        }
        let singleRelease = try syntheticRelease(key: single.publicKey)
        let shared = SharedPrivateKey(single)
        let (reference, singleWall, singleCPU) = try await Self.measure {
            try await DecryptedRelease.decrypt(singleRelease, key: shared)
        }
        guard decrypted.cells.map(\.sum) == reference.cells.map(\.sum) else {
            throw CLIError("the threshold path and the single key disagree on the benchmark's sums")
        }
        let totalCPU = shareCPU + verifyCPU + combineCPU
        let perCellRate = figures.first { $0.0 == "partial_with_proof_per_s" }?.1 ?? 1
        let verifyRate = figures.first { $0.0 == "verify_per_s" }?.1 ?? 1
        let combineRate = figures.first { $0.0 == "combine_per_s" }?.1 ?? 1
        let unpackedEstimate = Double(cells) * (Double(threshold) / perCellRate + Double(threshold) / verifyRate
                                                + 1 / combineRate)
        figures += [
            ("release_cells", Double(cells)), ("release_units", Double(units.ranges.count)),
            ("release_share_cpu_s", shareCPU), ("release_share_wall_s", shareWall),
            ("release_verify_cpu_s", verifyCPU), ("release_verify_wall_s", verifyWall),
            ("release_combine_cpu_s", combineCPU), ("release_combine_wall_s", combineWall),
            ("release_threshold_total_cpu_s", totalCPU),
            ("release_threshold_total_wall_s", shareWall + verifyWall + combineWall),
            ("release_single_key_cpu_s", singleCPU), ("release_single_key_wall_s", singleWall),
            ("release_unpacked_threshold_cpu_s_estimate", unpackedEstimate),
        ]
        note(String(format: "%d-cell release (%d units): threshold path %.2f s CPU (share %.2f, verify %.2f, combine %.2f); "
                    + "single key %.3f s CPU; goal < 2 s CPU: %@", cells, units.ranges.count, totalCPU, shareCPU,
                    verifyCPU, combineCPU, singleCPU, totalCPU < 2 ? "met" : "NOT met"))
        return figures
    }

    /// A release of `cells` cells with plausible packed sums (Σx of 120 scores ≤ 1000, Σx²), under `key`.
    func syntheticRelease(key: PublicKey) throws -> Release {
        let layout = try SlotLayout(slotBits: 96, slotCount: 2)
        var out: [[String: Any]] = []
        for i in 0..<cells {
            let sum = UInt64(60_000 + 97 * i), squares = UInt64(32_000_000 + 7_919 * i)
            let c = try key.encrypt(try layout.pack([sum, squares]))
            out.append(["by": ["subject": "s\(i)"], "count": 120, "sum": c.value.decimalString])
        }
        let object: [String: Any] = [
            "format": Release.formatTag, "id": "bench-\(key.keyID.suffix(8))", "vault": "bench", "key_id": key.keyID,
            "query": ["by": ["subject"], "filters": [String: String]()] as [String: Any],
            "policy": ["id": "bench", "version": 1, "sha256": String(repeating: "0", count: 64)] as [String: Any],
            "created": Timestamp.now(), "log_index": 1, "scale": 1, "slot_bits": 96, "slot_count": 2,
            "cells": out, "suppressed": [[String: Any]](),
        ]
        return try Release.decode(try JSONSerialization.data(withJSONObject: object))
    }

    /// Operations per second of `body` on this thread for `seconds`.
    private func rate(_ body: () throws -> Void) throws -> Double {
        let start = Date()
        var count = 0
        repeat {
            try body()
            count += 1
        } while Date().timeIntervalSince(start) < seconds
        return Double(count) / Date().timeIntervalSince(start)
    }
}
