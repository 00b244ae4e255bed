internal import COpenSSL

extension BigNum {
    private static func binary(
        _ a: BigNum, _ b: BigNum, secret: Bool? = nil,
        _ op: (OpaquePointer, OpaquePointer, OpaquePointer, OpaquePointer) -> Int32
    ) -> BigNum {
        let out = BigNum(secret: secret ?? (a.isSecret || b.isSecret))
        let ok = withBNContext { ctx in op(out.storage.bn, a.storage.bn, b.storage.bn, ctx) }
        precondition(ok == 1, "OpenSSL arithmetic failed")  // only allocation can fail here
        return out
    }

    public static func + (a: BigNum, b: BigNum) -> BigNum { binary(a, b) { r, x, y, _ in BN_add(r, x, y) } }
    public static func - (a: BigNum, b: BigNum) -> BigNum { binary(a, b) { r, x, y, _ in BN_sub(r, x, y) } }
    public static func * (a: BigNum, b: BigNum) -> BigNum { binary(a, b) { r, x, y, c in BN_mul(r, x, y, c) } }

    /// Truncated quotient and remainder.
    ///
    /// - Precondition: `divisor` is not zero.
    public func quotientAndRemainder(dividingBy divisor: BigNum) -> (quotient: BigNum, remainder: BigNum) {
        precondition(!divisor.isZero, "division by zero")
        let secret = isSecret || divisor.isSecret
        let q = BigNum(secret: secret), r = BigNum(secret: secret)
        let ok = withBNContext { ctx in BN_div(q.storage.bn, r.storage.bn, storage.bn, divisor.storage.bn, ctx) }
        precondition(ok == 1, "OpenSSL division failed")
        return (q, r)
    }

    public static func / (a: BigNum, b: BigNum) -> BigNum { a.quotientAndRemainder(dividingBy: b).quotient }
    public static func % (a: BigNum, b: BigNum) -> BigNum { a.quotientAndRemainder(dividingBy: b).remainder }

    public static prefix func - (a: BigNum) -> BigNum {
        let out = BigNum(secret: a.isSecret)
        _ = BN_copy(out.storage.bn, a.storage.bn)
        if !a.isZero { BN_set_negative(out.storage.bn, a.isNegative ? 0 : 1) }
        return out
    }

    /// The absolute value.
    public var magnitude: BigNum { isNegative ? -self : self }

    /// `self << bits`.
    public func shiftedLeft(_ bits: Int) -> BigNum {
        let out = BigNum(secret: isSecret)
        _ = BN_lshift(out.storage.bn, storage.bn, Int32(bits))
        return out
    }

    /// `self >> bits` (of the magnitude, sign kept).
    public func shiftedRight(_ bits: Int) -> BigNum {
        let out = BigNum(secret: isSecret)
        _ = BN_rshift(out.storage.bn, storage.bn, Int32(bits))
        return out
    }

    /// The low `bits` bits of a non-negative value.
    public func masked(toBits bits: Int) -> BigNum {
        let out = BigNum(secret: isSecret)
        _ = BN_copy(out.storage.bn, storage.bn)
        if bitCount > bits { _ = BN_mask_bits(out.storage.bn, Int32(bits)) }
        return out
    }

    /// The non-negative residue `self mod m`, in `0 ..< m`.
    ///
    /// - Precondition: `m > 0`.
    public func modulo(_ m: BigNum) -> BigNum {
        precondition(!m.isZero && !m.isNegative, "modulus must be positive")
        return BigNum.binary(self, m) { r, a, mm, c in BN_nnmod(r, a, mm, c) }
    }

    /// `(self * other) mod m`. Not constant time; use a ``MontgomeryContext`` for secrets.
    public func multipliedModulo(_ other: BigNum, _ m: BigNum) -> BigNum {
        let out = BigNum(secret: isSecret || other.isSecret)
        let ok = withBNContext { ctx in BN_mod_mul(out.storage.bn, storage.bn, other.storage.bn, m.storage.bn, ctx) }
        precondition(ok == 1, "OpenSSL modular multiplication failed")
        return out
    }

    /// `(self + other) mod m`, for operands in `0 ..< m`.
    public func addedModulo(_ other: BigNum, _ m: BigNum) -> BigNum {
        let out = BigNum(secret: isSecret || other.isSecret)
        let ok = withBNContext { ctx in BN_mod_add(out.storage.bn, storage.bn, other.storage.bn, m.storage.bn, ctx) }
        precondition(ok == 1, "OpenSSL modular addition failed")
        return out
    }

    /// `(self - other) mod m`.
    public func subtractedModulo(_ other: BigNum, _ m: BigNum) -> BigNum {
        let out = BigNum(secret: isSecret || other.isSecret)
        let ok = withBNContext { ctx in BN_mod_sub(out.storage.bn, storage.bn, other.storage.bn, m.storage.bn, ctx) }
        precondition(ok == 1, "OpenSSL modular subtraction failed")
        return out
    }

    /// `self^exponent mod m` for a **public** exponent (variable time). Negative exponents are not supported.
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` for a zero modulus or a negative exponent.
    public func power(_ exponent: BigNum, modulo m: BigNum) throws(BigNumError) -> BigNum {
        guard !m.isZero, !exponent.isNegative else {
            throw BigNumError(.invalidArgument, "modular exponentiation needs a positive modulus and exponent ≥ 0")
        }
        precondition(!exponent.isSecret, "secret exponents must use MontgomeryContext.powerConstantTime")
        let out = BigNum()
        try withBNContext { ctx throws(BigNumError) in
            try check(BN_mod_exp(out.storage.bn, storage.bn, exponent.storage.bn, m.storage.bn, ctx), "mod exp")
        }
        return out
    }

    /// The inverse of `self` modulo `m`.
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` when `gcd(self, m) != 1`.
    public func inverse(modulo m: BigNum) throws(BigNumError) -> BigNum {
        let out = BigNum(secret: isSecret || m.isSecret)
        let result = withBNContext { ctx in BN_mod_inverse(out.storage.bn, storage.bn, m.storage.bn, ctx) }
        guard result != nil else {
            ERR_clear_error()
            throw BigNumError(.invalidArgument, "value is not invertible modulo m")
        }
        return out
    }

    /// The greatest common divisor of the magnitudes.
    public func gcd(_ other: BigNum) -> BigNum {
        BigNum.binary(self, other, secret: isSecret || other.isSecret) { r, a, b, c in BN_gcd(r, a, b, c) }
    }

    /// `self` to the power of a small exponent (exact).
    public func power(_ exponent: Int) -> BigNum {
        precondition(exponent >= 0)
        let out = BigNum(secret: isSecret)
        let e = BigNum(UInt64(exponent))
        let ok = withExtendedLifetime(e) { withBNContext { ctx in BN_exp(out.storage.bn, storage.bn, e.storage.bn, ctx) } }
        precondition(ok == 1, "OpenSSL exponentiation failed")
        return out
    }
}

extension BigNum {
    /// Whether gcd(self, m) = 1, for **public** values: reduces modulo m and attempts an inverse with OpenSSL's
    /// variable-time extended Euclid. Much faster than ``gcd(_:)``, which OpenSSL 3 computes in constant time.
    ///
    /// - Precondition: `m > 1`.
    public func isCoprime(to m: BigNum) -> Bool {
        precondition(!isSecret && !m.isSecret, "isCoprime is variable time; use gcd(_:) for secrets")
        let reduced = modulo(m)
        guard !reduced.isZero else { return m.isOne }
        let out = BigNum()
        let result = withExtendedLifetime(reduced) {
            withBNContext { ctx in BN_mod_inverse(out.storage.bn, reduced.storage.bn, m.storage.bn, ctx) }
        }
        if result == nil { ERR_clear_error() }
        return result != nil
    }
}
