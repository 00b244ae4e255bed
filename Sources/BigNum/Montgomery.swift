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
    /// - Throws: ``BigNumError/Code/invalidArgument`` when the modulus is not odd and greater than one;
    ///   ``BigNumError/Code/internalFailure`` when OpenSSL cannot build it.
    public init(modulus: BigNum) throws(BigNumError) {
        guard modulus.isOdd, !modulus.isNegative, modulus.bitCount > 1 else {
            throw BigNumError(.invalidArgument, "a Montgomery modulus must be odd and greater than one")
        }
        let mont = try OpenSSLCall.check(BN_MONT_CTX_new(), "BN_MONT_CTX_new", .internalFailure, "out of memory")
        do throws(BigNumError) {
            try withBNContext { ctx throws(BigNumError) in
                try OpenSSLCall.check(BN_MONT_CTX_set(mont, modulus.storage.bn, ctx), "BN_MONT_CTX_set",
                                      .internalFailure, "could not build a Montgomery context")
            }
        } catch {
            BN_MONT_CTX_free(mont)
            throw error
        }
        self.mont = mont
        self.modulus = modulus
        self.isSecret = modulus.isSecret
        self.limbCount = (modulus.bitCount + 63) / 64
    }

    deinit { BN_MONT_CTX_free(mont) }

    /// `base^exponent mod m` in constant time (`BN_mod_exp_mont_consttime`): the time and memory access pattern do
    /// not depend on the exponent's bits or on the base. Use it for every secret exponent.
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` for a negative exponent; ``BigNumError/Code/internalFailure``
    ///   when OpenSSL fails.
    public func powerConstantTime(_ base: BigNum, _ exponent: BigNum) throws(BigNumError) -> BigNum {
        guard !exponent.isNegative else { throw BigNumError(.invalidArgument, "a negative exponent") }
        let out = BigNum(secret: true)
        let reduced = base < modulus && !base.isNegative ? base : base.modulo(modulus)
        let exp = exponent.isSecret ? exponent : exponent.markedSecret()
        defer { withExtendedLifetime((reduced, exp)) {} }
        try withBNContext(secret: true) { ctx throws(BigNumError) in
            try OpenSSLCall.check(BN_mod_exp_mont_consttime(out.storage.bn, reduced.storage.bn, exp.storage.bn,
                                                            modulus.storage.bn, ctx, mont),
                                  "BN_mod_exp_mont_consttime", .internalFailure, "constant-time exponentiation failed")
        }
        return out
    }

    /// `base^exponent mod m` for a public exponent, reusing this context (variable time).
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` for a negative exponent; ``BigNumError/Code/internalFailure``
    ///   when OpenSSL fails.
    public func power(_ base: BigNum, _ exponent: BigNum) throws(BigNumError) -> BigNum {
        precondition(!exponent.isSecret, "secret exponents must use powerConstantTime")
        guard !exponent.isNegative else { throw BigNumError(.invalidArgument, "a negative exponent") }
        let out = BigNum()
        let reduced = base < modulus && !base.isNegative ? base : base.modulo(modulus)
        defer { withExtendedLifetime(reduced) {} }
        try withBNContext { ctx throws(BigNumError) in
            try OpenSSLCall.check(BN_mod_exp_mont(out.storage.bn, reduced.storage.bn, exponent.storage.bn,
                                                  modulus.storage.bn, ctx, mont),
                                  "BN_mod_exp_mont", .internalFailure, "modular exponentiation failed")
        }
        return out
    }

    /// `(a * b) mod m` for `a, b` in `0 ..< m`, through Montgomery multiplication (constant time for full-width
    /// operands). Costs two Montgomery products plus the conversion of one operand.
    ///
    /// - Precondition: `a` and `b` lie in `0 ..< m`. Then only an allocation failure can stop it (see ``BigNum``).
    public func multiply(_ a: BigNum, _ b: BigNum) -> BigNum {
        precondition(isReduced(a) && isReduced(b), "Montgomery operands must lie in 0 ..< m")
        let out = BigNum(secret: isSecret || a.isSecret || b.isSecret)
        withBNContext { ctx in
            OpenSSLCall.mustSucceed(BN_to_montgomery(out.storage.bn, a.storage.bn, mont, ctx), "BN_to_montgomery")
            OpenSSLCall.mustSucceed(BN_mod_mul_montgomery(out.storage.bn, out.storage.bn, b.storage.bn, mont, ctx),
                                    "BN_mod_mul_montgomery")
        }
        return out
    }

    /// Converts `a` (in `0 ..< m`) to Montgomery form `a·R mod m`.
    public func toMontgomery(_ a: BigNum) -> BigNum {
        precondition(isReduced(a), "Montgomery operands must lie in 0 ..< m")
        let out = BigNum(secret: a.isSecret)
        withBNContext { ctx in
            OpenSSLCall.mustSucceed(BN_to_montgomery(out.storage.bn, a.storage.bn, mont, ctx), "BN_to_montgomery")
        }
        return out
    }

    /// One Montgomery product `a·b·R⁻¹ mod m`: with `b` in Montgomery form this is `a·b mod m` at the cost of a
    /// single Montgomery multiplication.
    public func montgomeryProduct(_ a: BigNum, _ bMont: BigNum) -> BigNum {
        precondition(isReduced(a) && isReduced(bMont), "Montgomery operands must lie in 0 ..< m")
        let out = BigNum(secret: isSecret || a.isSecret || bMont.isSecret)
        withBNContext { ctx in
            OpenSSLCall.mustSucceed(BN_mod_mul_montgomery(out.storage.bn, a.storage.bn, bMont.storage.bn, mont, ctx),
                                    "BN_mod_mul_montgomery")
        }
        return out
    }

    /// Whether `a` lies in `0 ..< m` (OpenSSL's Montgomery product fails for wider operands).
    @inline(__always)
    func isReduced(_ a: BigNum) -> Bool { !a.isNegative && a < modulus }

    /// `R^k mod m` where `R = 2^(64·limbCount)`: the factor that undoes `k` Montgomery reductions.
    func radixPower(_ k: Int) throws(BigNumError) -> BigNum {
        let one = BigNum(UInt64(1))
        let r = toMontgomery(one)  // R mod m
        return try power(r, BigNum(UInt64(k)))
    }
}
