import Foundation
import Paillier

/// Sums ciphertexts into cells on several worker threads: a producer (the SQLite reader) submits chunks of packed
/// ciphertexts with their cell indices; each worker keeps its own Montgomery accumulator per cell, in an array
/// indexed by the cell (``CiphertextSums``); ``finish()`` joins the workers and combines the partial sums per cell.
///
/// `@unchecked Sendable`: `queue`, `closed`, `failure` and `partials` are touched only while `condition` is locked;
/// each worker's accumulators are private to its thread until it hands them over under the lock.
final class ParallelCellSummer: @unchecked Sendable {
    private struct Job {
        var ciphertexts: [UInt8]
        var cells: [Int32]
    }

    private let key: PublicKey
    private let width: Int
    private let cells: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private let maxQueued: Int
    private var closed = false
    private var failure: PaillierError?
    private var partials: [[Ciphertext?]] = []
    private var running = 0
    /// Workers waiting for a chunk, and whether the producer waits for room: each side is woken only when the
    /// other needs it — the producer once the queue is down to half, so it reads several chunks per wake-up
    /// instead of one per chunk (a futex wake and a cold cache each time).
    private var idleWorkers = 0
    private var producerWaiting = false

    /// Starts `workers` threads summing into cells `0 ..< cells`.
    init(key: PublicKey, cells: Int, workers: Int) {
        self.key = key
        self.width = key.ciphertextByteCount
        self.cells = cells
        self.maxQueued = max(8, workers * 4)
        for _ in 0..<max(1, workers) {
            running += 1
            let thread = Thread { [self] in self.work() }
            thread.name = "eduvault-sum"
            thread.start()
        }
    }

    /// Queues a chunk; blocks while the queue is full (back-pressure keeps memory flat).
    ///
    /// - Precondition: every cell index lies in `0 ..< cells`, and `ciphertexts` holds one ciphertext per cell index.
    func submit(ciphertexts: [UInt8], cells: [Int32]) {
        condition.lock()
        while queue.count >= maxQueued && failure == nil {
            producerWaiting = true
            condition.wait()
        }
        producerWaiting = false
        queue.append(Job(ciphertexts: ciphertexts, cells: cells))
        if idleWorkers > 0 { condition.broadcast() }
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
            for (cell, c) in part.enumerated() {
                guard let c else { continue }
                combined[cell] = combined[cell].map { key.add($0, c) } ?? c
            }
        }
        return combined
    }

    private func work() {
        var sums = CiphertextSums(key: key, cells: cells)
        var localFailure: PaillierError?
        while true {
            condition.lock()
            while queue.isEmpty && !closed {
                idleWorkers += 1
                condition.wait()
                idleWorkers -= 1
            }
            if queue.isEmpty && closed {
                condition.unlock()
                break
            }
            let job = queue.removeFirst()
            let abort = failure != nil
            if producerWaiting && queue.count <= maxQueued / 2 { condition.broadcast() }
            condition.unlock()
            if abort || localFailure != nil { continue }
            precondition(job.ciphertexts.count == job.cells.count * width, "a job's ciphertexts and cells disagree")
            job.ciphertexts.withUnsafeBytes { all in
                for (i, cell) in job.cells.enumerated() {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[(i * width)..<((i + 1) * width)])
                    do throws(PaillierError) { try sums.add(bytes: bytes, to: Int(cell)) } catch {
                        localFailure = error
                        return
                    }
                }
            }
        }
        var results = [Ciphertext?](repeating: nil, count: cells)
        if localFailure == nil {
            for cell in 0..<cells {
                do throws(PaillierError) { results[cell] = try sums.result(cell) } catch { localFailure = error }
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
