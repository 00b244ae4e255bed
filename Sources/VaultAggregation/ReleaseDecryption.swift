public import BigNum
public import Paillier

/// A decrypted release: statistics per released cell, the withheld cells, and contrasts.
public struct DecryptedRelease: Sendable {
    public struct Cell: Sendable {
        public var by: [String: String]
        public var statistics: CellStatistics
        /// The exact sums (fixed-point integers): Σx and Σx².
        public var sum: BigNum
        public var sumOfSquares: BigNum
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

extension DecryptedRelease {
    /// Decrypts every released cell with the bureau's key (all cores) and derives means, SDs and contrasts.
    ///
    /// - Parameter baseline: the contrast value the gap is measured from (default: the first in sort order).
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release made under another key or a malformed sum,
    ///   `.decryption` when a sum decrypts outside its slots (overflow).
    public static func decrypt(_ release: Release, key: SharedPrivateKey, baseline: String? = nil) async throws
        -> DecryptedRelease
    {
        let pub = key.publicKey
        guard release.keyID == pub.keyID else {
            throw AggregationError(.invalidRelease,
                                   "the release was made under key \(release.keyID), not this private key (\(pub.keyID))")
        }
        let layout: SlotLayout
        do { layout = try SlotLayout(slotBits: release.slotBits, slotCount: release.slotCount) } catch {
            throw AggregationError(.invalidRelease, error.message)
        }
        var ciphertexts: [Ciphertext] = []
        for cell in release.cells {
            guard cell.count >= 1 else { throw AggregationError(.invalidRelease, "a released cell has no records") }
            do { ciphertexts.append(try pub.ciphertext(validating: BigNum(decimal: cell.sum))) } catch let e as PaillierError {
                throw AggregationError(.invalidRelease, "a released sum is not a ciphertext of this key: \(e.message)")
            } catch {
                throw AggregationError(.invalidRelease, "a released sum is not a decimal integer")
            }
        }
        let plaintexts = try await decryptAll(ciphertexts, key: key)
        var cells: [Cell] = []
        for (cell, plain) in zip(release.cells, plaintexts) {
            let slots: [BigNum]
            do { slots = try layout.unpack(plain) } catch {
                throw AggregationError(.decryption, "a cell's sum does not fit its slots: overflow, or not an EduVault sum")
            }
            cells.append(Cell(by: cell.by, statistics: CellStatistics(count: cell.count, sum: slots[0],
                                                                      sumOfSquares: slots[1], scale: release.scale),
                              sum: slots[0], sumOfSquares: slots[1]))
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
                    contrasts.append(ContrastRow(by: group, attribute: attribute, values: values,
                                                 contrast: Contrast(first: a, second: b), counts: [a.count, b.count]))
                }
                let keys = release.query.by
                contrasts.sort { l, r in keys.map { l.by[$0] ?? "" }.lexicographicallyPrecedes(keys.map { r.by[$0] ?? "" }) }
            }
        }
        return DecryptedRelease(release: release, cells: cells, contrasts: contrasts)
    }

    private static func decryptAll(_ ciphertexts: [Ciphertext], key: SharedPrivateKey) async throws -> [BigNum] {
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
