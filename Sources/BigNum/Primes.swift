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

/// The state a prime search's progress callback reaches through OpenSSL's `BN_GENCB` argument pointer.
///
/// Lives exactly as long as one call of ``BigNum/generateSafePrime(bits:onCandidate:)``, which holds a retained
/// reference across the C call; OpenSSL calls back on the calling thread only.
private final class PrimeSearchObserver {
    let onCandidate: () -> Bool
    init(_ onCandidate: @escaping () -> Bool) { self.onCandidate = onCandidate }
}

extension BigNum {
    /// Generates a random **safe prime** p = 2p′ + 1 (p′ also prime) of exactly `bits` bits, top two bits set, with
    /// OpenSSL's generator (`BN_generate_prime_ex2` with `safe = 1`: a combined sieve on p and p′, then Miller–Rabin
    /// on both with the round count OpenSSL chooses for the size, error below 2^-128).
    ///
    /// Safe primes are rare: the search tests many candidates. Expect about a second for 1024 bits and tens of
    /// seconds to minutes for 1536 bits on one core (the variance is large). Every safe prime above 5 is ≡ 3 mod 4.
    ///
    /// - Parameter onCandidate: called on this thread after each candidate that passed the sieve (for a progress
    ///   display); return `false` to abandon the search.
    /// - Returns: the prime, marked secret (constant-time flag, wiped on release).
    /// - Throws: ``BigNumError/Code/internalFailure`` when OpenSSL fails (randomness, memory) or the search was
    ///   abandoned.
    /// - Precondition: `16 ≤ bits ≤ 2^16`.
    ///
    /// Complexity: expected O(bits²) candidates, each a sieve step and, for survivors, a primality test.
    /// Security: the result is a secret factor; keep it only as long as it is needed.
    public static func generateSafePrime(bits: Int, onCandidate: @escaping () -> Bool = { true })
        throws(BigNumError) -> BigNum
    {
        precondition(bits >= 16 && bits <= 1 << 16, "prime size out of range")
        let out = BigNum(secret: true)
        let callback = try OpenSSLCall.check(BN_GENCB_new(), "BN_GENCB_new", .internalFailure, "out of memory")
        defer { BN_GENCB_free(callback) }
        let observer = Unmanaged.passRetained(PrimeSearchObserver(onCandidate))
        defer { observer.release() }
        BN_GENCB_set(callback, { event, _, gencb in
            // Event 0: a candidate passed the sieve; 1 and 2 report Miller–Rabin rounds.
            guard event == 0, let gencb, let arg = BN_GENCB_get_arg(gencb) else { return 1 }
            return Unmanaged<PrimeSearchObserver>.fromOpaque(arg).takeUnretainedValue().onCandidate() ? 1 : 0
        }, observer.toOpaque())
        try withBNContext(secret: true) { ctx throws(BigNumError) in
            try OpenSSLCall.check(BN_generate_prime_ex2(out.storage.bn, Int32(bits), 1, nil, nil, callback, ctx),
                                  "BN_generate_prime_ex2", .internalFailure,
                                  "safe prime generation failed (or was abandoned)")
        }
        BN_set_flags(out.storage.bn, BN_FLG_CONSTTIME)
        return out
    }
}
