import Foundation
import Paillier

/// Sums ciphertexts into cells on several worker threads: a producer (the SQLite reader) submits chunks of packed
/// ciphertexts with their cell indices; each worker keeps its own Montgomery accumulator per cell; ``finish()``
/// joins the workers and combines the partial sums per cell.
///
/// `@unchecked Sendable`: `queue`, `closed`, `failure` and `partials` are touched only while `condition` is locked;
/// each worker's accumulators are private to its thread until it hands them over under the lock.
final class ParallelCellSummer: @unchecked Sendable {
    private struct Job {
        var ciphertexts: [UInt8]
        var cells: [Int32]
    }

    /// One cell's running sum, boxed so it can live in a dictionary.
    final class Accumulator {
        var sum: CiphertextSum
        init(key: PublicKey) { sum = CiphertextSum(key: key) }
    }

    private let key: PublicKey
    private let width: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private let maxQueued: Int
    private var closed = false
    private var failure: PaillierError?
    private var partials: [[Int: Ciphertext]] = []
    private var running = 0

    init(key: PublicKey, workers: Int) {
        self.key = key
        self.width = key.ciphertextByteCount
        self.maxQueued = max(2, workers * 2)
        for _ in 0..<max(1, workers) {
            running += 1
            let thread = Thread { [self] in self.work() }
            thread.name = "eduvault-sum"
            thread.start()
        }
    }

    /// Queues a chunk; blocks while the queue is full (back-pressure keeps memory flat).
    func submit(ciphertexts: [UInt8], cells: [Int32]) {
        condition.lock()
        while queue.count >= maxQueued && failure == nil { condition.wait() }
        queue.append(Job(ciphertexts: ciphertexts, cells: cells))
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the workers and returns Enc(Σ) per cell index.
    func finish() throws(PaillierError) -> [Int: Ciphertext] {
        condition.lock()
        closed = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        let failure = self.failure
        let partials = self.partials
        condition.unlock()
        if let failure { throw failure }
        var combined: [Int: Ciphertext] = [:]
        for part in partials {
            for (cell, c) in part { combined[cell] = combined[cell].map { key.add($0, c) } ?? c }
        }
        return combined
    }

    private func work() {
        var accumulators: [Int32: Accumulator] = [:]
        var localFailure: PaillierError?
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty && closed {
                condition.unlock()
                break
            }
            let job = queue.removeFirst()
            let abort = failure != nil
            condition.broadcast()
            condition.unlock()
            if abort || localFailure != nil { continue }
            job.ciphertexts.withUnsafeBytes { all in
                for (i, cell) in job.cells.enumerated() {
                    let acc: Accumulator
                    if let existing = accumulators[cell] { acc = existing } else {
                        acc = Accumulator(key: key)
                        accumulators[cell] = acc
                    }
                    let bytes = UnsafeRawBufferPointer(rebasing: all[(i * width)..<((i + 1) * width)])
                    do throws(PaillierError) { try acc.sum.add(bytes: bytes) } catch {
                        localFailure = error
                        return
                    }
                }
            }
        }
        var results: [Int: Ciphertext] = [:]
        if localFailure == nil {
            for (cell, acc) in accumulators {
                do throws(PaillierError) { results[Int(cell)] = try acc.sum.result() } catch { localFailure = error }
            }
        }
        condition.lock()
        if let localFailure, failure == nil { failure = localFailure }
        partials.append(results)
        running -= 1
        condition.broadcast()
        condition.unlock()
    }
}
