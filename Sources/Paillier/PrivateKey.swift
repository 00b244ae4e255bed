public import BigNum

/// A Paillier private key: the factors p and q of n and the CRT values derived from them.
///
/// Non-copyable so that a secret is never duplicated by accident; every secret value is marked constant-time in
/// OpenSSL and wiped with `BN_clear_free` when the key (and any task still using it) is released.
///
/// Decryption uses CRT modulo p² and q² with precomputed h_p and h_q; every exponentiation whose exponent or
/// modulus is secret goes through `BN_mod_exp_mont_consttime`.
public struct PrivateKey: ~Copyable, Sendable {
    let core: PrivateKeyCore

    /// The matching public key.
    public var publicKey: PublicKey { core.publicKey }

    /// Builds a private key from its prime factors and checks it completely.
    ///
    /// - Throws: ``PaillierError/Code/invalidKey`` if p = q, either is composite, their sizes differ by more than
    ///   one bit, p·q ≠ the public key's n, or gcd(n, (p−1)(q−1)) ≠ 1; ``PaillierError/Code/keyTooSmall`` below
    ///   2048 bits unless `allowInsecureSize`.
    public init(p: BigNum, q: BigNum, publicKey: PublicKey? = nil, allowInsecureSize: Bool = false)
        throws(PaillierError)
    {
        core = try PrivateKeyCore(p: p, q: q, publicKey: publicKey, allowInsecureSize: allowInsecureSize,
                                  primesVerified: false)
    }

    /// For freshly generated primes: OpenSSL's generator already ran its primality tests, so they are not run twice.
    init(generatedP p: BigNum, q: BigNum, allowInsecureSize: Bool) throws(PaillierError) {
        core = try PrivateKeyCore(p: p, q: q, publicKey: nil, allowInsecureSize: allowInsecureSize, primesVerified: true)
    }

    /// Generates a key of `bits` bits with OpenSSL's prime generator: |p| = |q| = bits/2, p ≠ q, |p − q| > 2^(bits/2 − 100),
    /// gcd(n, φ(n)) = 1, and n of exactly `bits` bits.
    ///
    /// - Parameter progress: called after each prime candidate pair (for a spinner); may be called from this thread only.
    /// - Throws: ``PaillierError/Code/keyTooSmall`` below 2048 bits unless `allowInsecureSize`.
    public static func generate(bits: Int = defaultKeyBits, allowInsecureSize: Bool = false,
                                progress: (Int) -> Void = { _ in }) throws(PaillierError) -> PrivateKey
    {
        guard allowInsecureSize || bits >= minimumProductionKeyBits else {
            throw PaillierError(.keyTooSmall, "a key of \(bits) bits is too small; use at least \(minimumProductionKeyBits) "
                                + "(the default is \(defaultKeyBits))")
        }
        guard bits >= 128, bits % 2 == 0 else {
            throw PaillierError(.invalidKey, "the key size must be an even number of bits, at least 128")
        }
        var attempt = 0
        while true {
            attempt += 1
            progress(attempt)
            do {
                let p = try BigNum.generatePrime(bits: bits / 2)
                let q = try BigNum.generatePrime(bits: bits / 2)
                guard p != q, (p - q).magnitude.bitCount > bits / 2 - 100 else { continue }
                let n = p * q
                guard n.bitCount == bits else { continue }
                return try PrivateKey(generatedP: p, q: q, allowInsecureSize: allowInsecureSize)
            } catch let error as PaillierError {
                throw error
            } catch {
                throw PaillierError(.internalFailure, "key generation failed: \(error)")
            }
        }
    }

    /// The factors (for serialisation). Treat the result as secret.
    public var factors: (p: BigNum, q: BigNum) { (core.p, core.q) }

    // MARK: - Decryption

    /// Decrypts to the raw plaintext in `0 ..< n` (CRT, constant time in the secrets).
    public func decryptRaw(_ c: Ciphertext) throws(PaillierError) -> BigNum { try core.decrypt(c) }

    /// Encrypts with the textbook noise r^n computed by CRT modulo p² and q² (the key holder's fast path, e.g.
    /// for test data); about three times faster than ``PublicKey/encryptStandard(_:)``.
    public func encrypt(_ plaintext: BigNum) throws(PaillierError) -> Ciphertext { try core.encrypt(plaintext) }
}

/// The immutable secrets of a private key. `Sendable`: every property is immutable and `Sendable`, so parallel
/// decryption may share it; it is never exposed outside the module.
final class PrivateKeyCore: Sendable {
    let publicKey: PublicKey
    let p: BigNum, q: BigNum
    let pSquared: BigNum, qSquared: BigNum
    let pMinus1: BigNum, qMinus1: BigNum
    let montP: MontgomeryContext, montQ: MontgomeryContext
    let montP2: MontgomeryContext, montQ2: MontgomeryContext
    /// h_p · R mod p and h_q · R mod q (Montgomery form), q⁻¹ mod p · R.
    let hpMont: BigNum, hqMont: BigNum, qInvMont: BigNum
    /// n mod p(p−1) and n mod q(q−1): exponents for CRT encryption.
    let nModPhiP2: BigNum, nModPhiQ2: BigNum
    /// (q²)⁻¹ mod p², in Montgomery form modulo p².
    let q2InvMont: BigNum

    init(p rawP: BigNum, q rawQ: BigNum, publicKey: PublicKey?, allowInsecureSize: Bool, primesVerified: Bool)
        throws(PaillierError)
    {
        // Order the factors so that p > q (python-paillier accepts either).
        let (p, q) = rawP > rawQ ? (rawP.markedSecret(), rawQ.markedSecret()) : (rawQ.markedSecret(), rawP.markedSecret())
        guard p != q else { throw PaillierError(.invalidKey, "the private key's p and q are equal") }
        guard p.bitCount >= 32, q.bitCount >= 32, !q.isNegative else {
            throw PaillierError(.invalidKey, "the private key's factors are too small")
        }
        guard p.bitCount - q.bitCount <= 1 else {
            throw PaillierError(.invalidKey, "the private key's p and q differ in size by more than one bit")
        }
        let n = p * q
        // The cheap check first: a file's p and q must multiply to its n before any primality test is spent on them.
        if let publicKey, publicKey.n != n {
            throw PaillierError(.invalidKey, "the private key's p·q does not equal the public key's n")
        }
        var prime = primesVerified
        if !prime {
            do throws(BigNumError) {
                // Not `a && b`: the right side of && is an autoclosure, which loses the typed error.
                if try p.isProbablePrime() { prime = try q.isProbablePrime() }
            } catch {
                throw PaillierError(.internalFailure, "could not test the private key's factors: \(error.message)")
            }
        }
        guard prime else { throw PaillierError(.invalidKey, "the private key's p or q is not prime") }
        if let publicKey {
            self.publicKey = publicKey
        } else {
            self.publicKey = try PublicKey(n: n.publicCopy(), allowInsecureSize: allowInsecureSize)
        }
        guard allowInsecureSize || n.bitCount >= minimumProductionKeyBits else {
            throw PaillierError(.keyTooSmall, "the key has \(n.bitCount) bits; at least \(minimumProductionKeyBits) are required")
        }
        let one = BigNum(UInt64(1))
        let pm1 = (p - one).markedSecret(), qm1 = (q - one).markedSecret()
        guard n.gcd(pm1 * qm1).isOne else {
            throw PaillierError(.invalidKey, "gcd(n, (p−1)(q−1)) ≠ 1: this pair of primes cannot form a Paillier key")
        }
        self.p = p
        self.q = q
        self.pMinus1 = pm1
        self.qMinus1 = qm1
        self.pSquared = (p * p).markedSecret()
        self.qSquared = (q * q).markedSecret()
        do {
            montP = try MontgomeryContext(modulus: p)
            montQ = try MontgomeryContext(modulus: q)
            montP2 = try MontgomeryContext(modulus: pSquared)
            montQ2 = try MontgomeryContext(modulus: qSquared)
            // h_p = L_p(g^(p−1) mod p²)^(−1) mod p, with g = n + 1.
            let g = n + one
            let hp = try Self.lFunction(montP2.powerConstantTime(g, pm1), p).inverse(modulo: p)
            let hq = try Self.lFunction(montQ2.powerConstantTime(g, qm1), q).inverse(modulo: q)
            hpMont = montP.toMontgomery(hp.markedSecret())
            hqMont = montQ.toMontgomery(hq.markedSecret())
            qInvMont = montP.toMontgomery(try q.modulo(p).inverse(modulo: p).markedSecret())
            nModPhiP2 = n.modulo(p * pm1).markedSecret()
            nModPhiQ2 = n.modulo(q * qm1).markedSecret()
            q2InvMont = montP2.toMontgomery(try qSquared.modulo(pSquared).inverse(modulo: pSquared).markedSecret())
        } catch {
            // "No inverse" or a bad modulus is the key's fault; any other failure is OpenSSL's, and says so.
            if error.code == .invalidArgument {
                throw PaillierError(.invalidKey, "the private key's factors do not form a usable key")
            }
            throw PaillierError(.internalFailure, "could not prepare the private key: \(error.message)")
        }
    }

    /// L(x) = (x − 1) / d.
    static func lFunction(_ x: BigNum, _ d: BigNum) -> BigNum {
        ((x - BigNum(UInt64(1))) / d).markedSecret()
    }

    func decrypt(_ c: Ciphertext) throws(PaillierError) -> BigNum {
        guard c.value < publicKey.nSquared, !c.value.isZero, !c.value.isNegative else {
            throw PaillierError(.invalidCiphertext, "the ciphertext is not in this key's ciphertext range")
        }
        do {
            let xp = try montP2.powerConstantTime(c.value, pMinus1)
            let xq = try montQ2.powerConstantTime(c.value, qMinus1)
            let mp = montP.montgomeryProduct(Self.lFunction(xp, p), hpMont)
            let mq = montQ.montgomeryProduct(Self.lFunction(xq, q), hqMont)
            // m = mq + q · ((mp − mq) · q⁻¹ mod p)
            let diff = mp.subtractedModulo(mq.modulo(p), p)
            let h = montP.montgomeryProduct(diff, qInvMont)
            return mq + h * q
        } catch {
            throw PaillierError(.internalFailure, "decryption failed: \(error.message)")
        }
    }

    func encrypt(_ plaintext: BigNum) throws(PaillierError) -> Ciphertext {
        let gm = try publicKey.gToThe(plaintext)
        let n = publicKey.n
        do {
            var r: BigNum
            repeat { r = try BigNum.random(below: n) } while r.isZero || !r.gcd(n).isOne
            let rp = try montP2.powerConstantTime(r, nModPhiP2)
            let rq = try montQ2.powerConstantTime(r, nModPhiQ2)
            // CRT: x = rq + q² · ((rp − rq) · (q²)⁻¹ mod p²)
            let diff = rp.subtractedModulo(rq.modulo(pSquared), pSquared)
            let t = montP2.montgomeryProduct(diff, q2InvMont)
            let rn = rq + t * qSquared
            return Ciphertext(unchecked: publicKey.core.montN2.multiply(gm, rn))
        } catch {
            throw PaillierError(.internalFailure, "encryption failed: \(error.message)")
        }
    }
}

/// A thread-safe handle that lets several tasks decrypt with one private key (the secrets are shared, not
/// copied). Created from a borrowed ``PrivateKey``; keeps the secrets alive while it exists.
public final class SharedPrivateKey: Sendable {
    let core: PrivateKeyCore
    public init(_ key: borrowing PrivateKey) { core = key.core }
    public var publicKey: PublicKey { core.publicKey }
    /// Decrypts to the raw plaintext in `0 ..< n`.
    public func decrypt(_ c: Ciphertext) throws(PaillierError) -> BigNum { try core.decrypt(c) }
}
