public import BigNum
import Foundation

/// A bounded pool of precomputed encryption noise (`h_s^α` in Montgomery form), filled by background threads, so
/// that online encryption costs one Montgomery multiplication per value while the pool lasts.
///
/// The producers start with the pool and stop — joined, nothing left running — when ``stop()`` is called or the
/// pool is released. When the pool is empty, ``encrypt(_:)`` computes noise inline (never blocks on producers).
///
/// Each noise value is used once and then discarded.
public final class NoisePool: Sendable {
    private let state: PoolState
    /// The key whose noise this pool holds.
    public let key: PublicKey
    /// The most noise values held at once.
    public let capacity: Int

    /// Starts `producers` background threads that keep up to `capacity` noise values ready.
    ///
    /// - Throws: if the key's encryption table cannot be built.
    public init(key: PublicKey, capacity: Int = 1024, producers: Int = 1) throws(PaillierError) {
        precondition(capacity >= 1 && producers >= 1)
        let noise = try key.noiseGenerator()
        self.key = key
        self.capacity = capacity
        self.state = PoolState(noise: noise, capacity: capacity)
        for _ in 0..<producers { state.startProducer() }
    }

    deinit { state.stop() }

    /// Stops and joins the producers. Idempotent. Values already in the pool stay usable.
    public func stop() { state.stop() }

    /// How many values are ready now.
    public var available: Int { state.count }

    /// The memory held by a full pool, in bytes (each value is |n²| bytes plus BIGNUM overhead).
    public var byteCount: Int { capacity * (key.ciphertextByteCount + 24) }

    /// Takes one noise value (Montgomery form), computing it inline if the pool is empty.
    public func take() throws(PaillierError) -> BigNum {
        if let ready = state.pop() { return ready }
        return try state.noise.nextMontgomery()
    }

    /// Encrypts with pooled noise: one Montgomery product when a value is ready.
    public func encrypt(_ plaintext: BigNum) throws(PaillierError) -> Ciphertext {
        try key.encrypt(plaintext, montgomeryNoise: take())
    }
}

/// The pool's shared state. `@unchecked Sendable`: `buffer`, `running` and `liveProducers` are read and written only
/// while `condition` is locked; `noise` is immutable and `Sendable`.
final class PoolState: @unchecked Sendable {
    let noise: DJNNoise
    let capacity: Int
    private let condition = NSCondition()
    private var buffer: [BigNum] = []
    private var running = true
    private var liveProducers = 0

    init(noise: DJNNoise, capacity: Int) {
        self.noise = noise
        self.capacity = capacity
        buffer.reserveCapacity(capacity)
    }

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return buffer.count
    }

    func startProducer() {
        condition.lock()
        liveProducers += 1
        condition.unlock()
        let thread = Thread { [self] in self.produce() }
        thread.name = "eduvault-noise-pool"
        thread.start()
    }

    private func produce() {
        while true {
            condition.lock()
            while running && buffer.count >= capacity { condition.wait() }
            if !running {
                liveProducers -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            let value = try? noise.nextMontgomery()
            condition.lock()
            if let value, running, buffer.count < capacity { buffer.append(value) }
            condition.broadcast()
            condition.unlock()
            if value == nil { Thread.sleep(forTimeInterval: 0.01) }
        }
    }

    func pop() -> BigNum? {
        condition.lock()
        defer { condition.unlock() }
        guard let value = buffer.popLast() else { return nil }
        condition.broadcast()
        return value
    }

    func stop() {
        condition.lock()
        running = false
        condition.broadcast()
        while liveProducers > 0 { condition.wait() }
        condition.unlock()
    }
}
