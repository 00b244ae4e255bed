import BigNum
import Dispatch
import Synchronization

/// The dealer's key ceremony for threshold Paillier (Damgård–Jurik with s = 1, after Shoup's threshold RSA).
///
/// 1. Two safe primes p = 2p′ + 1 and q = 2q′ + 1 of |n|/2 bits each (searched on two threads at once), n = p·q,
///    m = p′·q′.
/// 2. The decryption exponent d with d ≡ 0 mod m and d ≡ 1 mod n: d = m · (m⁻¹ mod n).
/// 3. A random polynomial f(X) = d + a₁X + … + a_{t−1}X^{t−1} over Z_{n·m}; party i gets s_i = f(i) mod n·m.
/// 4. v: a random square of Z*_{n²} that generates the squares (order n·m, checked with p, q, p′, q′); each
///    party's verification key v_i = v^(Δ·s_i) mod n², Δ = l!.
///
/// **Trust.** The dealer sees p, q, d and every share while the ceremony runs: whoever runs it could keep them and
/// decrypt alone. Run it on a machine the parties trust together (offline, watched by all of them), hand each party
/// only its own share, and let the machine forget. This function keeps every secret in BigNums marked secret, which
/// OpenSSL wipes (`BN_clear_free`) when they are released at its return; only the shares leave it.
public enum ThresholdCeremony {
    /// Progress of the safe-prime search, for a spinner.
    public struct Progress: Sendable {
        /// Candidates that passed the sieve so far, over both searches.
        public var candidates: Int
        /// Safe primes found so far (0, 1 or 2).
        public var primesFound: Int
    }

    /// What the ceremony hands out: the public key and one share per party, in party order.
    public struct Outcome: Sendable {
        /// The threshold public key (its ``ThresholdPublicKey/publicKey`` is what schools encrypt under).
        public let key: ThresholdPublicKey
        /// The shares, share i for party i.
        public let shares: [ThresholdShare]
    }

    /// Runs the ceremony.
    ///
    /// - Parameters:
    ///   - bits: the size of n; 3072 by default, at least 2048 unless `allowInsecureSize` (test fixtures).
    ///   - parties: the parties' names, in index order (2 … 32 distinct names, `[A-Za-z0-9_-]{1,32}`).
    ///   - threshold: t, 1 ≤ t ≤ l.
    ///   - progress: called from the search threads (possibly two at once) after each candidate.
    /// - Throws: ``PaillierError/Code/keyTooSmall`` below 2048 bits unless allowed; ``PaillierError/Code/invalidKey``
    ///   for bad parties or threshold; ``PaillierError/Code/internalFailure`` when OpenSSL fails.
    /// - Complexity: dominated by the safe-prime search: expected O(|n|²) candidates per prime; seconds at 2048
    ///   bits, minutes at 3072 (widely varying). Then l + 5 exponentiations modulo n².
    /// Security: see the type's note on trust.
    public static func run(bits: Int = defaultKeyBits, parties: [String], threshold: Int, allowInsecureSize: Bool = false,
                           progress: @escaping @Sendable (Progress) -> Void = { _ in }) throws(PaillierError) -> Outcome
    {
        guard allowInsecureSize || bits >= minimumProductionKeyBits else {
            throw PaillierError(.keyTooSmall, "a key of \(bits) bits is too small; use at least \(minimumProductionKeyBits) "
                                + "(the default is \(defaultKeyBits))")
        }
        guard bits >= 128, bits <= maximumKeyBits, bits % 2 == 0 else {
            throw PaillierError(.invalidKey, "the key size must be an even number of bits, 128 to \(maximumKeyBits)")
        }
        guard (2...ThresholdPublicKey.maximumParties).contains(parties.count) else {
            throw PaillierError(.invalidKey, "a threshold key needs 2 to \(ThresholdPublicKey.maximumParties) parties")
        }
        guard (1...parties.count).contains(threshold) else {
            throw PaillierError(.invalidKey, "the threshold must be between 1 and the number of parties (\(parties.count))")
        }
        for name in parties where !ThresholdParty.isValidName(name) {
            throw PaillierError(.invalidKey, "'\(name.prefix(40))' is not a valid party name (1–32 characters from "
                                + "A–Z a–z 0–9 _ -)")
        }
        guard Set(parties).count == parties.count else { throw PaillierError(.invalidKey, "a party is named twice") }

        do {
            let (p, q) = try safePrimePair(bits: bits, progress: progress)
            let one = BigNum(UInt64(1))
            let n = (p * q).publicCopy()
            let pPrime = (p - one).shiftedRight(1), qPrime = (q - one).shiftedRight(1)
            let m = (pPrime * qPrime).markedSecret()
            let publicKey = try PublicKey(n: n, allowInsecureSize: allowInsecureSize)
            let n2 = publicKey.nSquared
            let nm = (n * m).markedSecret()
            // d ≡ 0 mod m, d ≡ 1 mod n.
            let d = (m * (try m.modulo(n).inverse(modulo: n))).markedSecret()
            // f(X) = d + a₁X + … over Z_{nm}.
            var coefficients = [d]
            for _ in 1..<threshold { coefficients.append(try BigNum.random(below: nm)) }
            let secrets = (1...parties.count).map { i in
                var acc = BigNum(UInt64(0)).markedSecret()
                for a in coefficients.reversed() { acc = (acc * BigNum(i) + a).modulo(nm) }
                return acc.markedSecret()
            }
            // v: a random square generating the squares (a cyclic group of order n·m).
            let mont = publicKey.core.montN2
            var v = BigNum(UInt64(1))
            search: while true {
                let r = try BigNum.random(below: n2).publicCopy()
                guard !r.isZero, try r.isCoprime(to: n) else { continue }
                v = mont.multiply(r, r)
                for prime in [p, q, pPrime, qPrime] {
                    let exponent = nm.quotientAndRemainder(dividingBy: prime).quotient.markedSecret()
                    if try mont.powerConstantTime(v, exponent).isOne { continue search }
                }
                break
            }
            var delta = BigNum(UInt64(1))
            for i in 1...parties.count { delta = delta * BigNum(i) }
            let verification = try secrets.map { s throws(BigNumError) in
                try mont.powerConstantTime(v, (delta * s).markedSecret()).publicCopy()
            }
            let partyList = parties.enumerated().map { offset, name in
                ThresholdParty(name: name, index: offset + 1, verificationKey: verification[offset])
            }
            let key = try ThresholdPublicKey(publicKey: publicKey, threshold: threshold, parties: partyList, v: v)
            let shares = try secrets.enumerated().map { offset, s throws(PaillierError) in
                try ThresholdShare(unchecked: key, index: offset + 1, secret: s)
            }
            return Outcome(key: key, shares: shares)
        } catch let error as PaillierError {
            throw error
        } catch let error as BigNumError {
            throw PaillierError(.internalFailure, "the key ceremony failed: \(error.message)")
        } catch {
            throw PaillierError(.internalFailure, "the key ceremony failed")
        }
    }

    /// Two distinct safe primes of bits/2 bits each, searched on two threads at once, with p > q,
    /// |p − q| > 2^(bits/2 − 100) and n = p·q of exactly `bits` bits (OpenSSL sets the top two bits of each).
    static func safePrimePair(bits: Int, progress: @escaping @Sendable (Progress) -> Void) throws(BigNumError)
        -> (BigNum, BigNum)
    {
        let search = SafePrimeSearch(bits: bits / 2, progress: progress)
        while true {
            if search.found == 0 {
                DispatchQueue.concurrentPerform(iterations: 2) { _ in search.findOne() }
            } else {
                search.findOne()
            }
            let (primes, failure) = search.result
            if let failure { throw failure }
            guard primes.count >= 2 else { continue }
            let (p, q) = primes[0] > primes[1] ? (primes[0], primes[1]) : (primes[1], primes[0])
            if p != q, (p - q).bitCount > bits / 2 - 100, (p * q).bitCount == bits {
                return (p, q)
            }
            // Practically never: drop the second prime and search again.
            search.dropLast()
        }
    }
}

/// The shared state of two safe-prime searches running at once.
///
/// `Sendable`: every mutable field sits behind the mutex; the progress callback is `@Sendable`.
private final class SafePrimeSearch: Sendable {
    let bits: Int
    let progress: @Sendable (ThresholdCeremony.Progress) -> Void
    private let state = Mutex<(candidates: Int, primes: [BigNum], failure: BigNumError?)>((0, [], nil))

    init(bits: Int, progress: @escaping @Sendable (ThresholdCeremony.Progress) -> Void) {
        self.bits = bits
        self.progress = progress
    }

    var found: Int { state.withLock { $0.primes.count } }
    var result: ([BigNum], BigNumError?) { state.withLock { ($0.primes, $0.failure) } }
    func dropLast() { state.withLock { _ = $0.primes.popLast() } }

    /// Searches one safe prime on the calling thread; stops early when the other search failed.
    func findOne() {
        do throws(BigNumError) {
            let prime = try BigNum.generateSafePrime(bits: bits) { [self] in
                let (snapshot, go) = state.withLock { s in
                    s.candidates += 1
                    return (ThresholdCeremony.Progress(candidates: s.candidates, primesFound: s.primes.count),
                            s.failure == nil)
                }
                progress(snapshot)
                return go
            }
            let snapshot = state.withLock { s in
                s.primes.append(prime)
                return ThresholdCeremony.Progress(candidates: s.candidates, primesFound: s.primes.count)
            }
            progress(snapshot)
        } catch {
            state.withLock { s in if s.failure == nil { s.failure = error } }
        }
    }
}
