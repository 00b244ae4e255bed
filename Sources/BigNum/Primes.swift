internal import COpenSSL

extension BigNum {
    /// Whether the value is prime, by OpenSSL's `BN_check_prime` (Miller–Rabin with the round count OpenSSL
    /// chooses for the size: error below 2^-128).
    ///
    /// - Throws: ``BigNumError/Code/internalFailure`` when OpenSSL cannot run the test (it answers −1), which is
    ///   neither "prime" nor "composite".
    public func isProbablePrime() throws(BigNumError) -> Bool {
        guard !isNegative, bitCount >= 2 else { return false }
        let answer = withBNContext(secret: isSecret) { ctx in BN_check_prime(storage.bn, ctx, nil) }  // checked: below
        // 1 prime, 0 composite, −1 error: an error is not an answer.
        try OpenSSLCall.check(answer >= 0 ? 1 : 0, "BN_check_prime", .internalFailure, "the primality test failed")
        return answer == 1
    }

    /// Generates a random prime of exactly `bits` bits (top two bits set) with OpenSSL's generator.
    ///
    /// The result is marked secret.
    /// - Throws: ``BigNumError/Code/internalFailure`` if OpenSSL fails (randomness, memory).
    public static func generatePrime(bits: Int) throws(BigNumError) -> BigNum {
        precondition(bits >= 16 && bits <= 1 << 16, "prime size out of range")
        let out = BigNum(secret: true)
        try withBNContext(secret: true) { ctx throws(BigNumError) in
            try OpenSSLCall.check(BN_generate_prime_ex2(out.storage.bn, Int32(bits), 0, nil, nil, nil, ctx),
                                  "BN_generate_prime_ex2", .internalFailure, "prime generation failed")
        }
        BN_set_flags(out.storage.bn, BN_FLG_CONSTTIME)
        return out
    }

    /// A uniformly random value in `0 ..< upperBound` from OpenSSL's private CSPRNG, marked secret.
    public static func random(below upperBound: BigNum) throws(BigNumError) -> BigNum {
        guard !upperBound.isNegative, !upperBound.isZero else {
            throw BigNumError(.invalidArgument, "a random value below a bound needs a positive bound")
        }
        let out = BigNum(secret: true)
        try withBNContext { ctx throws(BigNumError) in
            try OpenSSLCall.check(BN_priv_rand_range_ex(out.storage.bn, upperBound.storage.bn, 0, ctx),
                                  "BN_priv_rand_range_ex", .randomnessUnavailable,
                                  "the system random number generator is unavailable")
        }
        BN_set_flags(out.storage.bn, BN_FLG_CONSTTIME)
        return out
    }

    /// A uniformly random value of at most `bits` bits, marked secret.
    public static func random(bits: Int) throws(BigNumError) -> BigNum {
        guard bits >= 0, bits <= 1 << 20 else { throw BigNumError(.invalidArgument, "random size out of range") }
        let out = BigNum(secret: true)
        try withBNContext { ctx throws(BigNumError) in
            try OpenSSLCall.check(BN_priv_rand_ex(out.storage.bn, Int32(bits), -1, 0, 0, ctx), "BN_priv_rand_ex",
                                  .randomnessUnavailable, "the system random number generator is unavailable")
        }
        BN_set_flags(out.storage.bn, BN_FLG_CONSTTIME)
        return out
    }
}
