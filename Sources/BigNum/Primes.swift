internal import COpenSSL

extension BigNum {
    /// Whether the value is prime, by OpenSSL's `BN_check_prime` (Miller–Rabin with the round count OpenSSL
    /// chooses for the size: error below 2^-128).
    public var isProbablePrime: Bool {
        guard !isNegative, bitCount >= 2 else { return false }
        return withBNContext(secret: isSecret) { ctx in BN_check_prime(storage.bn, ctx, nil) } == 1
    }

    /// Generates a random prime of exactly `bits` bits (top two bits set) with OpenSSL's generator.
    ///
    /// The result is marked secret.
    /// - Throws: ``BigNumError/Code/internalFailure`` if OpenSSL fails (randomness, memory).
    public static func generatePrime(bits: Int) throws(BigNumError) -> BigNum {
        precondition(bits >= 16, "prime too small")
        let out = BigNum(secret: true)
        try withBNContext(secret: true) { ctx throws(BigNumError) in
            try check(BN_generate_prime_ex2(out.storage.bn, Int32(bits), 0, nil, nil, nil, ctx), "prime generation")
        }
        BN_set_flags(out.storage.bn, BN_FLG_CONSTTIME)
        return out
    }

    /// A uniformly random value in `0 ..< upperBound` from OpenSSL's private CSPRNG, marked secret.
    public static func random(below upperBound: BigNum) throws(BigNumError) -> BigNum {
        let out = BigNum(secret: true)
        let ok = withBNContext { ctx in BN_priv_rand_range_ex(out.storage.bn, upperBound.storage.bn, 0, ctx) }
        guard ok == 1 else {
            ERR_clear_error()
            throw BigNumError(.randomnessUnavailable, "the system random number generator is unavailable")
        }
        BN_set_flags(out.storage.bn, BN_FLG_CONSTTIME)
        return out
    }

    /// A uniformly random value of at most `bits` bits, marked secret.
    public static func random(bits: Int) throws(BigNumError) -> BigNum {
        let out = BigNum(secret: true)
        let ok = withBNContext { ctx in BN_priv_rand_ex(out.storage.bn, Int32(bits), -1, 0, 0, ctx) }
        guard ok == 1 else {
            ERR_clear_error()
            throw BigNumError(.randomnessUnavailable, "the system random number generator is unavailable")
        }
        BN_set_flags(out.storage.bn, BN_FLG_CONSTTIME)
        return out
    }
}
