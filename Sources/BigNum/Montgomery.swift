internal import COpenSSL

/// A Montgomery context for one odd modulus, built once and reused for every multiplication and exponentiation
/// modulo it.
///
/// `@unchecked Sendable`: the `BN_MONT_CTX` is written only in `init` and afterwards only read (OpenSSL takes it
/// as `const` in every operation), so any number of threads may use one context at once. Each operation brings
/// its own `BN_CTX`.
public final class MontgomeryContext: @unchecked Sendable {
    let mont: OpaquePointer
    /// The modulus.
    public let modulus: BigNum
    /// The modulus size in 64-bit limbs.
    public let limbCount: Int
    /// Whether the modulus is secret (p², q², p, q): then the context is wiped on release.
    public let isSecret: Bool

    /// Builds the context.
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` when the modulus is not odd and greater than one.
    public init(modulus: BigNum) throws(BigNumError) {
        guard modulus.isOdd, !modulus.isNegative, modulus.bitCount > 1 else {
            throw BigNumError(.invalidArgument, "a Montgomery modulus must be odd and greater than one")
        }
        guard let mont = BN_MONT_CTX_new() else { throw BigNumError(.internalFailure, "out of memory") }
        let ok = withBNContext { ctx in BN_MONT_CTX_set(mont, modulus.storage.bn, ctx) }
        guard ok == 1 else {
            BN_MONT_CTX_free(mont)
            throw BigNumError(.internalFailure, "could not build a Montgomery context")
        }
        self.mont = mont
        self.modulus = modulus
        self.isSecret = modulus.isSecret
        self.limbCount = (modulus.bitCount + 63) / 64
    }

    deinit { BN_MONT_CTX_free(mont) }

    /// `base^exponent mod m` in constant time (`BN_mod_exp_mont_consttime`): the time and memory access pattern do
    /// not depend on the exponent's bits or on the base. Use it for every secret exponent.
    public func powerConstantTime(_ base: BigNum, _ exponent: BigNum) throws(BigNumError) -> BigNum {
        let out = BigNum(secret: true)
        let reduced = base < modulus && !base.isNegative ? base : base.modulo(modulus)
        let exp = exponent.isSecret ? exponent : exponent.markedSecret()
        defer { withExtendedLifetime((reduced, exp)) {} }
        try withBNContext(secret: true) { ctx throws(BigNumError) in
            try check(BN_mod_exp_mont_consttime(out.storage.bn, reduced.storage.bn, exp.storage.bn,
                                                modulus.storage.bn, ctx, mont), "constant-time mod exp")
        }
        return out
    }

    /// `base^exponent mod m` for a public exponent, reusing this context (variable time).
    public func power(_ base: BigNum, _ exponent: BigNum) throws(BigNumError) -> BigNum {
        precondition(!exponent.isSecret, "secret exponents must use powerConstantTime")
        let out = BigNum()
        let reduced = base < modulus && !base.isNegative ? base : base.modulo(modulus)
        defer { withExtendedLifetime(reduced) {} }
        try withBNContext { ctx throws(BigNumError) in
            try check(BN_mod_exp_mont(out.storage.bn, reduced.storage.bn, exponent.storage.bn,
                                      modulus.storage.bn, ctx, mont), "mod exp")
        }
        return out
    }

    /// `(a * b) mod m` for `a, b` in `0 ..< m`, through Montgomery multiplication (constant time for full-width
    /// operands). Costs two Montgomery products plus the conversion of one operand.
    public func multiply(_ a: BigNum, _ b: BigNum) -> BigNum {
        let out = BigNum(secret: isSecret || a.isSecret || b.isSecret)
        let ok = withBNContext { ctx -> Int32 in
            guard BN_to_montgomery(out.storage.bn, a.storage.bn, mont, ctx) == 1 else { return 0 }
            return BN_mod_mul_montgomery(out.storage.bn, out.storage.bn, b.storage.bn, mont, ctx)
        }
        precondition(ok == 1, "OpenSSL Montgomery multiplication failed")
        return out
    }

    /// Converts `a` (in `0 ..< m`) to Montgomery form `a·R mod m`.
    public func toMontgomery(_ a: BigNum) -> BigNum {
        let out = BigNum(secret: a.isSecret)
        let ok = withBNContext { ctx in BN_to_montgomery(out.storage.bn, a.storage.bn, mont, ctx) }
        precondition(ok == 1, "OpenSSL Montgomery conversion failed")
        return out
    }

    /// One Montgomery product `a·b·R⁻¹ mod m`: with `b` in Montgomery form this is `a·b mod m` at the cost of a
    /// single Montgomery multiplication.
    public func montgomeryProduct(_ a: BigNum, _ bMont: BigNum) -> BigNum {
        let out = BigNum(secret: isSecret || a.isSecret || bMont.isSecret)
        let ok = withBNContext { ctx in BN_mod_mul_montgomery(out.storage.bn, a.storage.bn, bMont.storage.bn, mont, ctx) }
        precondition(ok == 1, "OpenSSL Montgomery multiplication failed")
        return out
    }

    /// `R^k mod m` where `R = 2^(64·limbCount)`: the factor that undoes `k` Montgomery reductions.
    func radixPower(_ k: Int) throws(BigNumError) -> BigNum {
        let one = BigNum(UInt64(1))
        let r = toMontgomery(one)  // R mod m
        return try power(r, BigNum(UInt64(k)))
    }
}
