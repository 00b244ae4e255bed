import Foundation
public import BigNum
public import Paillier

/// A decrypted release: statistics per released cell, the withheld cells, and contrasts.
public struct DecryptedRelease: Sendable {
    public struct Cell: Sendable {
        public var by: [String: String]
        public var statistics: CellStatistics
        /// The sums (fixed-point integers): Σx and Σx², exact, or with the release's noise in DP mode.
        public var sum: BigNum
        public var sumOfSquares: BigNum
        /// 95% confidence intervals of the mean and the SD that include the noise (DP releases only).
        public var meanCI95: (Double, Double)?
        public var sdCI95: (Double, Double)?
    }

    public struct ContrastRow: Sendable {
        /// The group (the `by` values without the contrast attribute).
        public var by: [String: String]
        public var attribute: String
        /// [baseline, other]; gap = mean(other) − mean(baseline).
        public var values: [String]
        public var contrast: Contrast
        public var counts: [Int]
    }

    public var release: Release
    public var cells: [Cell]
    public var contrasts: [ContrastRow]
}

/// The one step that differs between custody modes: turning a release's ciphertexts into plaintexts.
///
/// ``DecryptedRelease/decrypt(_:with:baseline:)`` and ``DecryptedModel/decrypt(_:with:)`` do everything else —
/// checking the release against the key, unpacking slots (exact or noisy), statistics, contrasts, model fits — the
/// same way for every decryptor, so a single bureau key and a threshold quorum print the same table, JSON and CSV.
public protocol ReleaseDecryptor: Sendable {
    /// The Paillier public key the release must have been made under.
    var publicKey: PublicKey { get }
    /// What the key is, for messages ("this private key", "this threshold key").
    var keyDescription: String { get }
    /// The plaintexts (each in 0 ..< n) of `ciphertexts`: all of `release`'s encrypted sums in release order
    /// (``DecryptableRelease/encryptedSums(under:keyDescription:)``).
    ///
    /// - Throws: ``AggregationError`` (`.decryption`, `.quorum`, …) when they cannot be decrypted.
    func decryptCells(_ ciphertexts: [Ciphertext], of release: some DecryptableRelease) async throws -> [BigNum]
}

/// Decryption with the bureau's private key: CRT, constant time, on all cores.
public struct SingleKeyDecryptor: ReleaseDecryptor {
    /// The bureau's key.
    public let key: SharedPrivateKey

    /// Wraps the bureau's key.
    public init(key: SharedPrivateKey) { self.key = key }

    /// The bureau key's public half.
    public var publicKey: PublicKey { key.publicKey }
    /// "this private key".
    public var keyDescription: String { "this private key" }

    /// CRT decryption of every cell, on all cores (constant time in the key).
    ///
    /// - Throws: ``AggregationError`` `.decryption` when a decryption fails.
    public func decryptCells(_ ciphertexts: [Ciphertext], of release: some DecryptableRelease) async throws -> [BigNum] {
        try await DecryptedRelease.decryptAll(ciphertexts, key: key)
    }
}

extension Release {
    /// The released cells' sums as ciphertexts of `key`, in cell order.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release made under another key, a cell without records
    ///   or a sum that is not a ciphertext of `key` (`keyDescription` names the key in the message).
    public func cellCiphertexts(under key: PublicKey, keyDescription: String = "this key") throws(AggregationError)
        -> [Ciphertext]
    {
        guard keyID == key.keyID else {
            throw AggregationError(.invalidRelease,
                                   "the release was made under key \(keyID), not \(keyDescription) (\(key.keyID))")
        }
        var ciphertexts: [Ciphertext] = []
        for cell in cells {
            guard cell.count >= 1 else { throw AggregationError(.invalidRelease, "a released cell has no records") }
            ciphertexts.append(try Self.releasedCiphertext(cell.sum, key: key))
        }
        return ciphertexts
    }

    /// A released sum (a decimal string) as a ciphertext of `key`.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` when it is not a decimal integer or not a ciphertext of `key`.
    static func releasedCiphertext(_ sum: String, key: PublicKey) throws(AggregationError) -> Ciphertext {
        do { return try key.ciphertext(validating: BigNum(decimal: sum)) } catch let e as PaillierError {
            throw AggregationError(.invalidRelease, "a released sum is not a ciphertext of this key: \(e.message)")
        } catch {
            throw AggregationError(.invalidRelease, "a released sum is not a decimal integer")
        }
    }
}

extension DecryptedRelease {
    /// Decrypts every released cell with the bureau's key (all cores) and derives means, SDs and contrasts.
    ///
    /// - Parameter baseline: the contrast value the gap is measured from (default: the first in sort order).
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release made under another key or a malformed sum,
    ///   `.decryption` when a sum decrypts outside its slots (overflow).
    public static func decrypt(_ release: Release, key: SharedPrivateKey, baseline: String? = nil) async throws
        -> DecryptedRelease
    {
        try await decrypt(release, with: SingleKeyDecryptor(key: key), baseline: baseline)
    }

    /// Decrypts every released cell with `decryptor` (one key or a quorum) and derives means, SDs and contrasts:
    /// exact releases (`eduvault-release/1`) and noisy ones (`eduvault-release/2`, signed slots, with intervals)
    /// alike.
    ///
    /// - Parameter baseline: the contrast value the gap is measured from (default: the first in sort order).
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release made under another key or a malformed sum,
    ///   `.decryption` when a sum decrypts outside its slots (overflow), and whatever the decryptor throws.
    /// - Complexity: one decryption per released cell (as the decryptor does it), then linear in the cells.
    /// Refuses exact sums that no `count` non-negative scores can have: n·Σx² < (Σx)² (a negative variance),
    /// Σx² > (Σx)² (impossible when every score is ≥ 0, which the schema requires), or, for one record, Σx² ≠ (Σx)².
    /// Such sums come from an edited release (a count or layout that does not belong to its ciphertext) or a foreign
    /// ciphertext; printing a mean and an SD from them would be a plausible-looking wrong answer. (A release edited
    /// consistently is caught only by its vault signature: `release decrypt --log-key`.)
    static func checkExactSums(count: Int, sum: BigNum, sumOfSquares: BigNum, by: [String: String]) throws(AggregationError) {
        let square = sum * sum
        let n = BigNum(UInt64(max(count, 0)))
        let consistent = count >= 1 && !(n * sumOfSquares < square) && !(square < sumOfSquares)
            && (count > 1 || sumOfSquares == square)
        guard consistent else {
            let cell = by.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            throw AggregationError(
                .invalidRelease,
                "cell \(cell.prefix(120)): its decrypted sums cannot come from \(count) scores (the release's count or layout "
                    + "does not belong to its ciphertext: an edited or damaged release); check it with --log-key")
        }
    }

    public static func decrypt(_ release: Release, with decryptor: some ReleaseDecryptor, baseline: String? = nil)
        async throws -> DecryptedRelease
    {
        let pub = decryptor.publicKey
        let ciphertexts = try release.cellCiphertexts(under: pub, keyDescription: decryptor.keyDescription)
        let layout: SlotLayout
        do { layout = try SlotLayout(slotBits: release.slotBits, slotCount: release.slotCount) } catch {
            throw AggregationError(.invalidRelease, error.message)
        }
        let plaintexts = try await decryptor.decryptCells(ciphertexts, of: release)
        guard plaintexts.count == ciphertexts.count else {
            throw AggregationError(.decryption, "the decryptor returned \(plaintexts.count) values for \(ciphertexts.count) cells")
        }
        let noise = try release.noise?.variances()
        var cells: [Cell] = []
        for (cell, plain) in zip(release.cells, plaintexts) {
            let slots: [BigNum]
            do {
                slots = noise == nil ? try layout.unpack(plain) : try Self.unpackSigned(plain, layout: layout, key: pub)
            } catch {
                throw AggregationError(.decryption, "a cell's sum does not fit its slots: overflow, or not an EduVault sum")
            }
            if noise == nil { try Self.checkExactSums(count: cell.count, sum: slots[0], sumOfSquares: slots[1], by: cell.by) }
            let statistics = CellStatistics(count: cell.count, sum: slots[0], sumOfSquares: slots[1], scale: release.scale)
            var decrypted = Cell(by: cell.by, statistics: statistics, sum: slots[0], sumOfSquares: slots[1])
            if let noise {
                let intervals = NoisyIntervals(statistics, noise: noise, scale: release.scale)
                decrypted.meanCI95 = intervals.mean
                decrypted.sdCI95 = intervals.sd
            }
            cells.append(decrypted)
        }
        var contrasts: [ContrastRow] = []
        if let attribute = release.query.contrast {
            let allValues = Set(release.cells.compactMap { $0.by[attribute] } + release.suppressed.compactMap { $0.by[attribute] })
            var values = allValues.sorted()
            if let baseline {
                guard values.contains(baseline) else {
                    throw AggregationError(.invalidQuery, "--baseline \(baseline) is not a value of \(attribute) in this release "
                                           + "(values: \(values.joined(separator: ", ")))")
                }
                values = [baseline] + values.filter { $0 != baseline }
            }
            if values.count == 2 {
                var groups: [[String: String]: [String: CellStatistics]] = [:]
                for cell in cells {
                    var group = cell.by
                    guard let v = group.removeValue(forKey: attribute) else { continue }
                    groups[group, default: [:]][v] = cell.statistics
                }
                for (group, byValue) in groups {
                    guard let a = byValue[values[0]], let b = byValue[values[1]], a.count >= 2, b.count >= 2 else { continue }
                    let unit = pow(10, Double(release.scale))
                    let extra = noise.map { $0.sum / (unit * unit) * (1 / Double(a.count * a.count) + 1 / Double(b.count * b.count)) }
                    contrasts.append(ContrastRow(by: group, attribute: attribute, values: values,
                                                 contrast: Contrast(first: a, second: b, noiseVarianceOfGap: extra ?? 0),
                                                 counts: [a.count, b.count]))
                }
                let keys = release.query.by
                contrasts.sort { l, r in keys.map { l.by[$0] ?? "" }.lexicographicallyPrecedes(keys.map { r.by[$0] ?? "" }) }
            }
        }
        return DecryptedRelease(release: release, cells: cells, contrasts: contrasts)
    }

    /// Splits a plaintext whose slots may be negative (noisy sums): the value is read as a signed residue modulo n
    /// (python-paillier's guard band), then each w-bit slot as a signed number in ±2^(w−1).
    static func unpackSigned(_ plain: BigNum, layout: SlotLayout, key: PublicKey) throws -> [BigNum] {
        var value = try EncodedNumber.decode(plain, exponent: 0, key: key).mantissa
        let modulus = BigNum(UInt64(1)).shiftedLeft(layout.slotBits)
        let half = BigNum(UInt64(1)).shiftedLeft(layout.slotBits - 1)
        var slots: [BigNum] = []
        for _ in 0..<layout.slotCount {
            var slot = value.modulo(modulus)  // 0 ..< 2^w
            if !(slot < half) { slot = slot - modulus }
            slots.append(slot)
            value = (value - slot).shiftedRight(layout.slotBits)
        }
        guard value.isZero else { throw AggregationError(.decryption, "bits above the last slot") }
        return slots
    }

    static func decryptAll(_ ciphertexts: [Ciphertext], key: SharedPrivateKey) async throws -> [BigNum] {
        try await withThrowingTaskGroup(of: (Int, BigNum).self) { group in
            var next = 0
            var out = [BigNum?](repeating: nil, count: ciphertexts.count)
            let width = max(1, availableCores)
            func add(_ i: Int) {
                let c = ciphertexts[i]
                group.addTask {
                    do { return (i, try key.decrypt(c)) } catch {
                        throw AggregationError(.decryption, "decryption failed: \(error)")
                    }
                }
            }
            while next < min(width, ciphertexts.count) {
                add(next)
                next += 1
            }
            while let (i, m) = try await group.next() {
                out[i] = m
                if next < ciphertexts.count {
                    add(next)
                    next += 1
                }
            }
            return out.compactMap { $0 }
        }
    }
}
