public import BigNum

/// Several non-negative integers packed into one plaintext: slot i occupies bits `w·i ..< w·(i+1)`.
///
/// Adding two packed plaintexts adds slot-wise as long as no slot sum reaches 2^w; ``canSum(count:slotMaxima:)``
/// decides that *before* any sum is computed, from the record count and each slot's declared maximum.
/// The vault packs a score x and x² into one ciphertext, so one decryption of a sum yields Σx and Σx².
public struct SlotLayout: Sendable, Equatable, Codable {
    /// The width of each slot in bits.
    public let slotBits: Int
    /// The number of slots.
    public let slotCount: Int

    /// - Throws: ``PaillierError/Code/packing`` for a non-positive width or count.
    public init(slotBits: Int, slotCount: Int) throws(PaillierError) {
        guard slotBits >= 1, slotBits <= 4096, slotCount >= 1, slotCount <= 64 else {
            throw PaillierError(.packing, "a slot layout needs 1–4096-bit slots and 1–64 slots")
        }
        self.slotBits = slotBits
        self.slotCount = slotCount
    }

    /// The total width in bits.
    public var totalBits: Int { slotBits * slotCount }

    /// Whether every packed plaintext (and every sum that ``canSum(count:slotMaxima:)`` allows) stays a positive
    /// encoding under `key`: below max_int ≈ n/3.
    public func fits(_ key: PublicKey) -> Bool { totalBits < key.maxInt.bitCount }

    /// Packs slot values (each in `0 ..< 2^w`).
    public func pack(_ values: [BigNum]) throws(PaillierError) -> BigNum {
        guard values.count == slotCount else {
            throw PaillierError(.packing, "expected \(slotCount) slot values, got \(values.count)")
        }
        var out = BigNum(UInt64(0))
        for (i, v) in values.enumerated() {
            guard !v.isNegative, v.bitCount <= slotBits else {
                throw PaillierError(.packing, "slot \(i) value does not fit in \(slotBits) bits")
            }
            out = out + v.shiftedLeft(slotBits * i)
        }
        return out
    }

    /// Packs machine-word slot values.
    public func pack(_ values: [UInt64]) throws(PaillierError) -> BigNum { try pack(values.map { BigNum($0) }) }

    /// Splits a packed plaintext into its slots.
    ///
    /// - Throws: ``PaillierError/Code/packing`` when the value has bits above the last slot (an overflow).
    public func unpack(_ packed: BigNum) throws(PaillierError) -> [BigNum] {
        guard !packed.isNegative, packed.bitCount <= totalBits else {
            throw PaillierError(.packing, "the packed value has more bits than its slots: a slot overflowed")
        }
        return (0..<slotCount).map { i in packed.shiftedRight(slotBits * i).masked(toBits: slotBits) }
    }

    /// Whether a sum of `count` packed values, whose slot i never exceeds `slotMaxima[i]`, keeps every slot below
    /// 2^w: `count · maxᵢ ≤ 2^w − 1` for every i. Exact at the boundary.
    public func canSum(count: Int, slotMaxima: [BigNum]) -> Bool {
        guard count >= 0, slotMaxima.count == slotCount else { return false }
        let limit = BigNum(UInt64(1)).shiftedLeft(slotBits) - BigNum(UInt64(1))
        let c = BigNum(UInt64(count))
        return slotMaxima.allSatisfy { !$0.isNegative && c * $0 <= limit }
    }

    /// The largest record count whose sum cannot overflow any slot.
    public func maxSafeCount(slotMaxima: [BigNum]) -> BigNum {
        let limit = BigNum(UInt64(1)).shiftedLeft(slotBits) - BigNum(UInt64(1))
        return slotMaxima.map { $0.isZero ? limit : limit / $0 }.min() ?? BigNum(UInt64(0))
    }
}
