internal import COpenSSL

extension BigNum {
    /// `r = op(a, b)` for an OpenSSL operation that fails only when it cannot allocate (see ``OpenSSLCall``).
    private static func binary(
        _ a: BigNum, _ b: BigNum, secret: Bool? = nil, _ name: StaticString,
        _ op: (OpaquePointer, OpaquePointer, OpaquePointer, OpaquePointer) -> Int32
    ) -> BigNum {
        let out = BigNum(secret: secret ?? (a.isSecret || b.isSecret))
        withBNContext { ctx in
            OpenSSLCall.mustSucceed(op(out.storage.bn, a.storage.bn, b.storage.bn, ctx), name)
        }
        return out
    }

    public static func + (a: BigNum, b: BigNum) -> BigNum {
        binary(a, b, "BN_add") { r, x, y, _ in BN_add(r, x, y) }  // checked: by binary
    }

    public static func - (a: BigNum, b: BigNum) -> BigNum {
        binary(a, b, "BN_sub") { r, x, y, _ in BN_sub(r, x, y) }  // checked: by binary
    }

    public static func * (a: BigNum, b: BigNum) -> BigNum {
        binary(a, b, "BN_mul") { r, x, y, c in BN_mul(r, x, y, c) }  // checked: by binary
    }

    /// Truncated quotient and remainder.
    ///
    /// - Precondition: `divisor` is not zero (as for Swift's integers; check values from input first).
    public func quotientAndRemainder(dividingBy divisor: BigNum) -> (quotient: BigNum, remainder: BigNum) {
        precondition(!divisor.isZero, "division by zero")
        let secret = isSecret || divisor.isSecret
        let q = BigNum(secret: secret), r = BigNum(secret: secret)
        withBNContext { ctx in
            OpenSSLCall.mustSucceed(BN_div(q.storage.bn, r.storage.bn, storage.bn, divisor.storage.bn, ctx), "BN_div")
        }
        return (q, r)
    }

    public static func / (a: BigNum, b: BigNum) -> BigNum { a.quotientAndRemainder(dividingBy: b).quotient }
    public static func % (a: BigNum, b: BigNum) -> BigNum { a.quotientAndRemainder(dividingBy: b).remainder }

    public static prefix func - (a: BigNum) -> BigNum {
        let out = BigNum(secret: a.isSecret)
        OpenSSLCall.mustSucceed(BN_copy(out.storage.bn, a.storage.bn), "BN_copy")
        if !a.isZero { BN_set_negative(out.storage.bn, a.isNegative ? 0 : 1) }
        return out
    }

    /// The absolute value.
    public var magnitude: BigNum { isNegative ? -self : self }

    /// The largest shift ``shiftedLeft(_:)`` accepts: 2^24 bits (a 2 MiB result), far above any key size.
    public static let maxShift = 1 << 24

    /// `self << bits`.
    ///
    /// - Precondition: `0 ≤ bits ≤ maxShift`.
    public func shiftedLeft(_ bits: Int) -> BigNum {
        precondition(bits >= 0 && bits <= Self.maxShift, "shift out of range")
        let out = BigNum(secret: isSecret)
        OpenSSLCall.mustSucceed(BN_lshift(out.storage.bn, storage.bn, Int32(bits)), "BN_lshift")
        return out
    }

    /// `self >> bits` (of the magnitude, sign kept).
    ///
    /// - Precondition: `bits ≥ 0`.
    public func shiftedRight(_ bits: Int) -> BigNum {
        precondition(bits >= 0, "shift out of range")
        let out = BigNum(secret: isSecret)
        OpenSSLCall.mustSucceed(BN_rshift(out.storage.bn, storage.bn, Int32(clamping: bits)), "BN_rshift")
        return out
    }

    /// The low `bits` bits of a non-negative value.
    ///
    /// - Precondition: `bits ≥ 0`.
    public func masked(toBits bits: Int) -> BigNum {
        precondition(bits >= 0, "mask width out of range")
        let out = BigNum(secret: isSecret)
        OpenSSLCall.mustSucceed(BN_copy(out.storage.bn, storage.bn), "BN_copy")
        // BN_mask_bits fails only when the value is already shorter than `bits`, which the guard excludes.
        if bitCount > bits { OpenSSLCall.mustSucceed(BN_mask_bits(out.storage.bn, Int32(bits)), "BN_mask_bits") }
        return out
    }

    /// The non-negative residue `self mod m`, in `0 ..< m`.
    ///
    /// - Precondition: `m > 0`.
    public func modulo(_ m: BigNum) -> BigNum {
        precondition(!m.isZero && !m.isNegative, "modulus must be positive")
        return BigNum.binary(self, m, "BN_nnmod") { r, a, mm, c in BN_nnmod(r, a, mm, c) }  // checked: by binary
    }

    /// `(self * other) mod m`. Not constant time; use a ``MontgomeryContext`` for secrets.
    ///
    /// - Precondition: `m > 0`.
    public func multipliedModulo(_ other: BigNum, _ m: BigNum) -> BigNum {
        precondition(!m.isZero && !m.isNegative, "modulus must be positive")
        return modularOperation(other, m, "BN_mod_mul") { r, a, b, mm, c in
            BN_mod_mul(r, a, b, mm, c)  // checked: by modularOperation
        }
    }

    /// `(self + other) mod m`, for operands in `0 ..< m`.
    ///
    /// - Precondition: `m > 0`.
    public func addedModulo(_ other: BigNum, _ m: BigNum) -> BigNum {
        precondition(!m.isZero && !m.isNegative, "modulus must be positive")
        return modularOperation(other, m, "BN_mod_add") { r, a, b, mm, c in
            BN_mod_add(r, a, b, mm, c)  // checked: by modularOperation
        }
    }

    /// `(self - other) mod m`.
    ///
    /// - Precondition: `m > 0`.
    public func subtractedModulo(_ other: BigNum, _ m: BigNum) -> BigNum {
        precondition(!m.isZero && !m.isNegative, "modulus must be positive")
        return modularOperation(other, m, "BN_mod_sub") { r, a, b, mm, c in
            BN_mod_sub(r, a, b, mm, c)  // checked: by modularOperation
        }
    }

    private func modularOperation(
        _ other: BigNum, _ m: BigNum, _ name: StaticString,
        _ op: (OpaquePointer, OpaquePointer, OpaquePointer, OpaquePointer, OpaquePointer) -> Int32
    ) -> BigNum {
        let out = BigNum(secret: isSecret || other.isSecret)
        withBNContext { ctx in
            OpenSSLCall.mustSucceed(op(out.storage.bn, storage.bn, other.storage.bn, m.storage.bn, ctx), name)
        }
        return out
    }

    /// `self^exponent mod m` for a **public** exponent (variable time). Negative exponents are not supported.
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` for a zero modulus or a negative exponent;
    ///   ``BigNumError/Code/internalFailure`` when OpenSSL fails.
    public func power(_ exponent: BigNum, modulo m: BigNum) throws(BigNumError) -> BigNum {
        guard !m.isZero, !exponent.isNegative else {
            throw BigNumError(.invalidArgument, "modular exponentiation needs a positive modulus and exponent ≥ 0")
        }
        precondition(!exponent.isSecret, "secret exponents must use MontgomeryContext.powerConstantTime")
        let out = BigNum()
        try withBNContext { ctx throws(BigNumError) in
            try OpenSSLCall.check(BN_mod_exp(out.storage.bn, storage.bn, exponent.storage.bn, m.storage.bn, ctx),
                                  "BN_mod_exp", .internalFailure, "modular exponentiation failed")
        }
        return out
    }

    /// The inverse of `self` modulo `m`.
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` when `gcd(self, m) != 1` (or `m` is zero);
    ///   ``BigNumError/Code/internalFailure`` when OpenSSL fails for another reason.
    public func inverse(modulo m: BigNum) throws(BigNumError) -> BigNum {
        guard !m.isZero else { throw BigNumError(.invalidArgument, "value is not invertible modulo m") }
        let out = BigNum(secret: isSecret || m.isSecret)
        let result = withBNContext { ctx in BN_mod_inverse(out.storage.bn, storage.bn, m.storage.bn, ctx) }  // checked
        let code: BigNumError.Code = result == nil && Self.lastErrorIsNoInverse() ? .invalidArgument : .internalFailure
        try OpenSSLCall.check(result, "BN_mod_inverse", code,
                              code == .invalidArgument ? "value is not invertible modulo m" : "modular inverse failed")
        return out
    }

    /// Whether OpenSSL's last error says "no inverse" (as opposed to, say, an allocation failure).
    static func lastErrorIsNoInverse() -> Bool {
        let error = ERR_peek_last_error()
        return ERR_GET_LIB(error) == ERR_LIB_BN && ERR_GET_REASON(error) == BN_R_NO_INVERSE
    }

    /// The greatest common divisor of the magnitudes.
    public func gcd(_ other: BigNum) -> BigNum {
        BigNum.binary(self, other, secret: isSecret || other.isSecret, "BN_gcd") { r, a, b, c in
            BN_gcd(r, a, b, c)  // checked: by binary
        }
    }

    /// The largest exponent ``power(_:)`` accepts: 2^20.
    public static let maxSmallExponent = 1 << 20

    /// `self` to the power of a small exponent (exact).
    ///
    /// - Precondition: `0 ≤ exponent ≤ maxSmallExponent`, `self` not secret (OpenSSL's `BN_exp` refuses
    ///   constant-time values), and a result of at most 2^24 bits; callers bound exponents read from input first.
    public func power(_ exponent: Int) -> BigNum {
        precondition(exponent >= 0 && exponent <= Self.maxSmallExponent, "exponent out of range")
        precondition(!isSecret, "BN_exp does not take secret values")
        precondition(exponent == 0 || bitCount <= Self.maxShift / exponent, "power too large")
        let out = BigNum()
        let e = BigNum(UInt64(exponent))
        withExtendedLifetime(e) {
            withBNContext { ctx in
                OpenSSLCall.mustSucceed(BN_exp(out.storage.bn, storage.bn, e.storage.bn, ctx), "BN_exp")
            }
        }
        return out
    }
}

extension BigNum {
    /// Whether gcd(self, m) = 1, for **public** values: reduces modulo m and attempts an inverse with OpenSSL's
    /// variable-time extended Euclid. Much faster than ``gcd(_:)``, which OpenSSL 3 computes in constant time.
    ///
    /// - Precondition: `m > 1`; neither value is secret.
    /// - Throws: ``BigNumError/Code/internalFailure`` when OpenSSL fails for a reason other than "no inverse"
    ///   (which is the answer `false`).
    public func isCoprime(to m: BigNum) throws(BigNumError) -> Bool {
        precondition(!isSecret && !m.isSecret, "isCoprime is variable time; use gcd(_:) for secrets")
        let reduced = modulo(m)
        guard !reduced.isZero else { return m.isOne }
        let out = BigNum()
        let result = withExtendedLifetime(reduced) {
            withBNContext { ctx in BN_mod_inverse(out.storage.bn, reduced.storage.bn, m.storage.bn, ctx) }  // checked
        }
        if result == nil && Self.lastErrorIsNoInverse() {
            ERR_clear_error()
            return false
        }
        try OpenSSLCall.check(result, "BN_mod_inverse", .internalFailure, "coprimality check failed")
        return true
    }
}
