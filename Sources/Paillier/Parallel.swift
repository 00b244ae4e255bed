public import BigNum
import Foundation

/// The number of cores parallel operations use by default.
public var availableCores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

/// Splits `0 ..< count` into at most `parts` contiguous ranges of near-equal size.
func partition(_ count: Int, parts: Int) -> [Range<Int>] {
    let parts = max(1, min(parts, count))
    guard count > 0 else { return [] }
    var ranges: [Range<Int>] = []
    var start = 0
    for i in 0..<parts {
        let end = start + (count - start) / (parts - i)
        ranges.append(start..<end)
        start = end
    }
    return ranges
}

extension PublicKey {
    /// Encrypts many plaintexts (each in `0 ..< n`) on all cores with the fast DJN path. Order is kept.
    ///
    /// Cancellation: each task checks for cancellation between values and throws `CancellationError`.
    public func encrypt(batch plaintexts: [BigNum], cores: Int = availableCores) async throws -> [Ciphertext] {
        _ = try noiseGenerator()  // build the shared table once, before the tasks start
        let key = self
        return try await withThrowingTaskGroup(of: (Int, [Ciphertext]).self) { group in
            for (index, range) in partition(plaintexts.count, parts: cores).enumerated() {
                let slice = Array(plaintexts[range])
                group.addTask {
                    var out: [Ciphertext] = []
                    out.reserveCapacity(slice.count)
                    for m in slice {
                        try Task.checkCancellation()
                        out.append(try key.encrypt(m))
                    }
                    return (index, out)
                }
            }
            return try await Self.collect(&group)
        }
    }

    /// Enc(Σ) of many ciphertexts on all cores: each core reduces its share with a Montgomery accumulator, then
    /// the partial sums are combined.
    public func sumInParallel(_ ciphertexts: [Ciphertext], cores: Int = availableCores) async throws -> Ciphertext {
        let key = self
        let partials = try await withThrowingTaskGroup(of: Ciphertext.self) { group in
            for range in partition(ciphertexts.count, parts: cores) {
                let slice = ciphertexts[range]
                group.addTask {
                    var summer = CiphertextSum(key: key)
                    for (i, c) in slice.enumerated() {
                        if i & 1023 == 0 { try Task.checkCancellation() }
                        try summer.add(c)
                    }
                    return try summer.result()
                }
            }
            var partials: [Ciphertext] = []
            for try await p in group { partials.append(p) }
            return partials
        }
        return try sum(partials)
    }

    /// Enc(Σ) of ciphertexts stored back to back as fixed-width big-endian bytes (``ciphertextByteCount`` each),
    /// the layout the vault reads from storage, reduced on all cores.
    public func sumInParallel(packedBytes: [UInt8], cores: Int = availableCores) async throws -> Ciphertext {
        let width = ciphertextByteCount
        guard packedBytes.count % width == 0 else {
            throw PaillierError(.malformedCiphertext, "packed ciphertexts are not a whole number of \(width)-byte values")
        }
        let key = self
        let count = packedBytes.count / width
        let partials = try await withThrowingTaskGroup(of: Ciphertext.self) { group in
            for range in partition(count, parts: cores) {
                group.addTask {
                    var summer = CiphertextSum(key: key)
                    var failure: PaillierError?
                    packedBytes.withUnsafeBytes { all in
                        for i in range {
                            if i & 1023 == 0 && Task.isCancelled { break }
                            let slice = UnsafeRawBufferPointer(rebasing: all[(i * width)..<((i + 1) * width)])
                            do throws(PaillierError) { try summer.add(bytes: slice) } catch {
                                failure = error
                                break
                            }
                        }
                    }
                    try Task.checkCancellation()
                    if let failure { throw failure }
                    return try summer.result()
                }
            }
            var partials: [Ciphertext] = []
            for try await p in group { partials.append(p) }
            return partials
        }
        return try sum(partials)
    }

    static func collect<T>(_ group: inout ThrowingTaskGroup<(Int, [T]), any Error>) async throws -> [T] {
        var parts: [(Int, [T])] = []
        for try await part in group { parts.append(part) }
        return parts.sorted { $0.0 < $1.0 }.flatMap { $0.1 }
    }
}

extension PrivateKey {
    /// Decrypts many ciphertexts on all cores (CRT, constant time). Order is kept.
    public func decryptRaw(batch ciphertexts: [Ciphertext], cores: Int = availableCores) async throws -> [BigNum] {
        let core = self.core
        return try await withThrowingTaskGroup(of: (Int, [BigNum]).self) { group in
            for (index, range) in partition(ciphertexts.count, parts: cores).enumerated() {
                let slice = Array(ciphertexts[range])
                group.addTask {
                    var out: [BigNum] = []
                    out.reserveCapacity(slice.count)
                    for c in slice {
                        try Task.checkCancellation()
                        out.append(try core.decrypt(c))
                    }
                    return (index, out)
                }
            }
            return try await PublicKey.collect(&group)
        }
    }
}
