public import BigNum

/// A number encoded for Paillier in python-paillier's scheme: `value = mantissa · 16^exponent`, with the mantissa
/// stored modulo n (negative mantissas wrap; the band between max_int and n − max_int detects overflow).
///
/// Laws (while no overflow occurs): decode(encode(a) + encode(b)) = a + b for equal exponents;
/// decode(k · encode(a)) = k·a.
public struct EncodedNumber: Sendable, Equatable {
    /// The signed mantissa.
    public var mantissa: BigNum
    /// The base-16 exponent.
    public var exponent: Int

    public static let base = 16

    /// The largest exponent magnitude EduVault reads, writes or computes with. python-paillier's floats use
    /// exponents of about −290…+250; the bound keeps every factor 16^|e| below a megabit, so no exponent from a
    /// file can make an alignment or a decimal expansion unbounded.
    public static let exponentLimit = 100_000

    /// Whether `exponent` is within ±``exponentLimit``.
    public static func isValidExponent(_ exponent: Int) -> Bool { exponent.magnitude <= UInt(exponentLimit) }

    /// - Throws: ``PaillierError/Code/invalidPlaintext`` when `exponent` is outside ±``exponentLimit``.
    static func checkExponent(_ exponent: Int) throws(PaillierError) {
        guard isValidExponent(exponent) else {
            throw PaillierError(.invalidPlaintext,
                                "the exponent is outside ±\(exponentLimit), the range EduVault accepts")
        }
    }

    public init(mantissa: BigNum, exponent: Int) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    /// Encodes an integer exactly with exponent 0.
    public init(integer: BigNum) { self.init(mantissa: integer, exponent: 0) }

    /// Encodes a finite `Double` exactly as python-paillier's `EncodedNumber.encode` does for a float: the
    /// exponent keeps all 53 mantissa bits, `⌊(e₂ − 53) / 4⌋` with e₂ from `frexp`.
    ///
    /// - Throws: ``PaillierError/Code/invalidPlaintext`` for NaN, infinities and subnormal numbers.
    public init(double value: Double) throws(PaillierError) {
        guard value.isFinite else { throw PaillierError(.invalidPlaintext, "the value is not a finite number") }
        if value == 0 {
            self.init(mantissa: BigNum(UInt64(0)), exponent: Self.floorDiv(0 - 53, 4))
            return
        }
        guard value.isNormal else { throw PaillierError(.invalidPlaintext, "the value is too close to zero to encode") }
        // value = M · 2^k with M a 53-bit integer.
        let m = value.magnitude.significandBitPattern | (1 << 52)
        let k = Int(value.exponent) - 52
        let e = Self.floorDiv(k, 4)
        let shift = k - 4 * e  // 0...3: exact, no rounding needed
        var mantissa = BigNum(UInt64(m)).shiftedLeft(shift)
        if value < 0 { mantissa = -mantissa }
        self.init(mantissa: mantissa, exponent: e)
    }

    /// Parses user text: an integer (`-12`, exact, exponent 0) or a decimal number (`87.5`, `-1e-3`) encoded
    /// like python-paillier encodes the float it denotes.
    public init(parsing text: String) throws(PaillierError) {
        let trimmed = text.trimmingSpaces
        if let integer = try? BigNum(decimal: trimmed) {
            self.init(integer: integer)
            return
        }
        guard trimmed.utf8.allSatisfy({ c in
            (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: ".") || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
        }), let double = Double(trimmed) else {
            throw PaillierError(.invalidPlaintext, "'\(text.prefix(40))' is not a number")
        }
        try self.init(double: double)
    }

    /// The same value with a lower exponent: mantissa · 16^(exponent − newExponent).
    ///
    /// - Throws: ``PaillierError/Code/invalidPlaintext`` when `newExponent` is above `exponent` or either is
    ///   outside ±``exponentLimit``.
    public func decreasingExponent(to newExponent: Int) throws(PaillierError) -> EncodedNumber {
        try Self.checkExponent(exponent)
        try Self.checkExponent(newExponent)
        guard newExponent <= exponent else {
            throw PaillierError(.invalidPlaintext, "an exponent can only be decreased")
        }
        // Both are within ±limit, so the difference is at most 2·limit: no overflow.
        return EncodedNumber(mantissa: mantissa * BigNum(UInt64(16)).power(exponent - newExponent), exponent: newExponent)
    }

    /// The plaintext to encrypt under `key`: mantissa mod n.
    ///
    /// - Throws: ``PaillierError/Code/overflow`` when |mantissa| > max_int.
    public func plaintext(for key: PublicKey) throws(PaillierError) -> BigNum {
        guard mantissa.magnitude <= key.maxInt else {
            throw PaillierError(.overflow, "the value is too large for this key (it would overflow into the guard band)")
        }
        return mantissa.modulo(key.n)
    }

    /// Decodes a decrypted plaintext in `0 ..< n`.
    ///
    /// - Throws: ``PaillierError/Code/overflow`` when it lies in the guard band (max_int, n − max_int): the sum or
    ///   product overflowed, or the ciphertext was not made under this key.
    public static func decode(_ plaintext: BigNum, exponent: Int, key: PublicKey) throws(PaillierError) -> EncodedNumber {
        let n = key.n
        if plaintext <= key.maxInt {
            return EncodedNumber(mantissa: plaintext, exponent: exponent)
        } else if plaintext >= n - key.maxInt {
            return EncodedNumber(mantissa: plaintext - n, exponent: exponent)
        }
        throw PaillierError(.overflow,
                            "the decrypted value lies in the overflow guard band: the computation overflowed, "
                            + "or the ciphertext was made under another key")
    }

    /// The exact value in decimal: an integer for exponent ≥ 0, else a terminating decimal fraction.
    ///
    /// - Throws: ``PaillierError/Code/invalidPlaintext`` when the exponent is outside ±``exponentLimit``.
    public var exactDecimalString: String {
        get throws(PaillierError) {
            try Self.checkExponent(exponent)
            if exponent >= 0 { return (mantissa * BigNum(UInt64(16)).power(exponent)).decimalString }
            // m / 16^k = m · 625^k / 10^(4k), with k ≤ limit (checked above, so the negation cannot overflow).
            let k = -exponent
            let scaled = (mantissa.magnitude * BigNum(UInt64(625)).power(k)).decimalString
            let digits = 4 * k
            let padded = String(repeating: "0", count: max(0, digits + 1 - scaled.count)) + scaled
            let intPart = padded.dropLast(digits)
            var frac = String(padded.suffix(digits))
            while frac.hasSuffix("0") { frac.removeLast() }
            let sign = mantissa.isNegative ? "-" : ""
            return sign + intPart + (frac.isEmpty ? "" : "." + frac)
        }
    }

    /// The value as python-paillier's `decode()` prints it: an integer for exponent ≥ 0, otherwise the nearest
    /// `Double` in its shortest round-trip form (`5.0`, `0.1`, `-2.5`).
    ///
    /// - Throws: ``PaillierError/Code/invalidPlaintext`` when the exponent is outside ±``exponentLimit``.
    public var displayString: String {
        get throws(PaillierError) {
            let exact = try exactDecimalString
            if exponent >= 0 { return exact }
            guard let d = Double(exact) else {
                throw PaillierError(.invalidPlaintext, "the decimal value cannot be shown as a floating-point number")
            }
            return d.description
        }
    }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
