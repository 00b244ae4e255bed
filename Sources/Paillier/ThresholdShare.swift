public import BigNum
import Primitives

/// One party's share s_i of the decryption exponent d of a threshold key, with the public key it belongs to.
///
/// A value type over one immutable secret: copies share the same storage (the secret is never duplicated), which
/// carries OpenSSL's constant-time flag and is wiped with `BN_clear_free` when the last copy goes away. Every
/// exponentiation with s_i, or with the proof's nonce, goes through `BN_mod_exp_mont_consttime`.
///
/// Security: a share alone reveals nothing about the plaintexts; t shares together decrypt everything. Write it only
/// to a file of mode 0600, sealed under a passphrase when the party keeps it on a shared machine.
public struct ThresholdShare: Sendable {
    let core: ThresholdShareCore

    /// The threshold key this share belongs to.
    public var key: ThresholdPublicKey { core.key }
    /// The party holding the share.
    public var party: ThresholdParty { core.party }

    /// Wraps a share value, checking it against the party's verification key: v^(Δ·s_i) = v_i mod n².
    ///
    /// - Parameters:
    ///   - key: the threshold public key.
    ///   - index: the party's index, 1 … l.
    ///   - secret: s_i (marked secret here if it was not).
    /// - Throws: ``PaillierError/Code/invalidKey`` for an unknown index, a negative or oversized value, or a value
    ///   that does not match the verification key (a share of another ceremony, or a damaged file).
    /// - Complexity: one constant-time exponentiation modulo n² with an exponent of about 2|n| bits.
    public init(key: ThresholdPublicKey, index: Int, secret: BigNum) throws(PaillierError) {
        let share = try ThresholdShareCore(key: key, index: index, secret: secret)
        let check: BigNum
        do { check = try key.publicKey.core.montN2.powerConstantTime(key.v, share.exponent) } catch {
            throw PaillierError(.internalFailure, "could not check the share: \(error.message)")
        }
        guard check == share.party.verificationKey else {
            throw PaillierError(.invalidKey, "the share of \(share.party.name) does not match its verification key in "
                                + "the threshold key (another ceremony's share, or a damaged file)")
        }
        core = share
    }

    /// A share without the verification-key check: for the dealer, who has just computed v_i from this very value,
    /// and for tests that need a wrong share.
    init(unchecked key: ThresholdPublicKey, index: Int, secret: BigNum) throws(PaillierError) {
        core = try ThresholdShareCore(key: key, index: index, secret: secret)
    }

    /// The share value s_i, for serialisation. Treat the result as secret.
    public var secret: BigNum { core.secret }

    /// Partially decrypts `c` and proves it: c_i = c^(2Δ·s_i) mod n², with a non-interactive proof (Fiat–Shamir over
    /// SHA-256) that log_{c⁴}(c_i²) = log_v(v_i), i.e. that the same exponent Δ·s_i the dealer published as v_i was
    /// used.
    ///
    /// - Parameter context: bytes naming what is decrypted (EduVault passes the release id and the cells), hashed
    ///   into the challenge so the proof cannot be replayed for anything else.
    /// - Throws: ``PaillierError/Code/wrongKey`` for a ciphertext of another key (not below n²);
    ///   ``PaillierError/Code/internalFailure`` when OpenSSL or the random number generator fails.
    /// - Complexity: three constant-time exponentiations modulo n², with exponents of about 2|n| + |Δ| bits (the
    ///   partial) and 2|n| + |Δ| + 512 bits (the proof's two commitments).
    /// Security: constant time in s_i and the nonce; z = r + e·Δ·s_i is statistically hiding (distance ≤ 2^-256)
    /// because r has 512 bits more than e·Δ·s_i can have.
    public func partiallyDecrypt(_ c: Ciphertext, context: [UInt8]) throws(PaillierError) -> PartialDecryption {
        let nonce: BigNum
        do { nonce = try BigNum.random(bits: core.key.proofNonceBits) } catch {
            throw PaillierError(.internalFailure, "the random number generator failed: \(error.message)")
        }
        return try partiallyDecrypt(c, context: context, nonce: nonce)
    }

    /// ``partiallyDecrypt(_:context:)`` with a given proof nonce r (known-answer tests).
    func partiallyDecrypt(_ c: Ciphertext, context: [UInt8], nonce r: BigNum) throws(PaillierError)
        -> PartialDecryption
    {
        let key = core.key
        guard c.value < key.publicKey.nSquared else {
            throw PaillierError(.wrongKey, "the ciphertext is not below n² of the threshold key")
        }
        let mont = key.publicKey.core.montN2
        do {
            let x = core.exponent  // Δ·s_i, secret
            let value = try mont.powerConstantTime(c.value, x.shiftedLeft(1)).publicCopy()  // c^(2Δ s_i)
            let c4 = try mont.power(c.value, BigNum(UInt64(4)))
            let secretNonce = r.isSecret ? r : r.markedSecret()
            let a = try mont.powerConstantTime(c4, secretNonce).publicCopy()
            let b = try mont.powerConstantTime(key.v, secretNonce).publicCopy()
            let e = try key.challenge(party: core.party, context: context, c: c.value, partial: value, a: a, b: b)
            let z = (secretNonce + e * x).publicCopy()
            return PartialDecryption(index: core.party.index, value: value, challenge: e, response: z)
        } catch let error as PaillierError {
            throw error
        } catch {
            throw PaillierError(.internalFailure, "partial decryption failed: \(error)")
        }
    }
}

/// The immutable secret of a share. `Sendable`: immutable and made of `Sendable` values; the secret BigNum is
/// marked constant-time and wiped when released.
final class ThresholdShareCore: Sendable {
    let key: ThresholdPublicKey
    let party: ThresholdParty
    /// s_i.
    let secret: BigNum
    /// Δ·s_i, the exponent of v_i and half the exponent of a partial decryption.
    let exponent: BigNum

    init(key: ThresholdPublicKey, index: Int, secret: BigNum) throws(PaillierError) {
        guard let party = key.party(index: index) else {
            throw PaillierError(.invalidKey, "the threshold key has no party with index \(index)")
        }
        guard !secret.isNegative, !secret.isZero, secret.bitCount <= key.publicKey.nSquared.bitCount else {
            throw PaillierError(.invalidKey, "the share of \(party.name) is not a value below n²")
        }
        self.key = key
        self.party = party
        self.secret = secret.isSecret ? secret : secret.markedSecret()
        self.exponent = (key.delta * self.secret).markedSecret()
    }
}

/// One party's partial decryption of one ciphertext, with its proof: c_i = c^(2Δ·s_i) mod n², the challenge e and
/// the response z of the equality-of-discrete-logs proof.
public struct PartialDecryption: Sendable, Equatable {
    /// The party's index i.
    public var index: Int
    /// c_i.
    public var value: BigNum
    /// e: the Fiat–Shamir challenge, a 256-bit SHA-256 output read as a big-endian integer.
    public var challenge: BigNum
    /// z = r + e·Δ·s_i, over the integers.
    public var response: BigNum

    /// Makes a partial decryption (from a file; check it with ``ThresholdPublicKey/verify(_:of:context:)``).
    public init(index: Int, value: BigNum, challenge: BigNum, response: BigNum) {
        self.index = index
        self.value = value
        self.challenge = challenge
        self.response = response
    }
}

extension ThresholdPublicKey {
    /// The bit length of the proof nonce r: |n²| + |Δ| + 2·256, so that r hides e·Δ·s_i (e < 2^256, s_i < n·m <
    /// n²) to within 2^-256 (Shoup's choice L(n) + 2·L₁ with L₁ = 256).
    var proofNonceBits: Int { publicKey.nSquared.bitCount + delta.bitCount + 512 }

    /// The Fiat–Shamir challenge e = SHA-256(domain, key id, ceremony id, party name and index, context, n, v,
    /// v_i, c, c_i, a, b), each field length-prefixed, integers as fixed-width big-endian (|n²| bytes).
    func challenge(party: ThresholdParty, context: [UInt8], c: BigNum, partial: BigNum, a: BigNum, b: BigNum)
        throws(PaillierError) -> BigNum
    {
        let width = publicKey.ciphertextByteCount
        var hash = ThresholdHash()
        hash.append(text: "EduVault threshold Paillier partial decryption proof v1")
        hash.append(text: publicKey.keyID)
        hash.append(text: ceremonyID)
        hash.append(text: party.name)
        hash.append(integer: party.index)
        hash.append(bytes: context)
        do {
            for value in [publicKey.n, v, party.verificationKey, c, partial, a, b] {
                hash.append(bytes: try value.bigEndianBytes(width: width))
            }
            return try BigNum(bigEndian: hash.finalize())
        } catch {
            throw PaillierError(.invalidCiphertext, "a value of the proof does not fit below n²")
        }
    }

    /// Checks one party's partial decryption of `c`: c_i is an element of Z*_{n²}, and the proof holds —
    /// with a = (c⁴)^z · (c_i²)^(−e) and b = v^z · v_i^(−e), the challenge e equals the hash of them.
    ///
    /// - Returns: `nil` when the partial is valid, else the reason in words (never a value).
    /// - Complexity: two exponentiations modulo n² with the response z (about 2|n| + 520 bits) and two with the
    ///   256-bit challenge, plus two inverses; all variable time, as every input is public.
    public func verify(_ partial: PartialDecryption, of c: Ciphertext, context: [UInt8]) -> String? {
        guard let party = party(index: partial.index) else { return "the partial names no party of this key" }
        guard c.value < publicKey.nSquared else { return "the ciphertext is not below n² of this key" }
        do {
            _ = try publicKey.ciphertext(validating: partial.value)
        } catch {
            return "the partial decryption is not an element of Z*_{n²} of this key"
        }
        let e = partial.challenge, z = partial.response
        guard !e.isNegative, e.bitCount <= 256 else { return "the proof's challenge is out of range" }
        guard !z.isNegative, z.bitCount <= proofNonceBits + 1 else { return "the proof's response is out of range" }
        let n2 = publicKey.nSquared
        let mont = publicKey.core.montN2
        do {
            let c4 = try mont.power(c.value, BigNum(UInt64(4)))
            let partialSquared = mont.multiply(partial.value, partial.value)
            let a = mont.multiply(try mont.power(c4, z),
                                  try mont.power(partialSquared, e).inverse(modulo: n2))
            let b = mont.multiply(try mont.power(v, z),
                                  try mont.power(party.verificationKey, e).inverse(modulo: n2))
            let expected = try challenge(party: party, context: context, c: c.value, partial: partial.value, a: a, b: b)
            return expected == e ? nil : "the proof does not verify"
        } catch {
            return "the proof could not be checked"
        }
    }

    /// Combines partial decryptions of `c` from at least t distinct parties into the plaintext: with S the first t
    /// indexes, c′ = Π c_i^(2·μ_{0,i}) = c^(4Δ²·d) = 1 + 4Δ²·m·n mod n², and m = L(c′) · (4Δ²)⁻¹ mod n.
    ///
    /// The partials must have been checked with ``verify(_:of:context:)``; this function does not check proofs.
    ///
    /// - Returns: the plaintext in 0 ..< n.
    /// - Throws: ``PaillierError/Code/invalidKey`` for fewer than t distinct parties or an unknown index;
    ///   ``PaillierError/Code/invalidCiphertext`` when the partials do not combine to an encryption of an exponent
    ///   of 1 + n (some partial is wrong: it was not verified).
    /// - Complexity: t exponentiations modulo n² with exponents of |Δ|·t + t·log₂ l bits.
    public func combine(_ partials: [PartialDecryption], of c: Ciphertext) throws(PaillierError) -> BigNum {
        var byIndex: [Int: PartialDecryption] = [:]
        for partial in partials where byIndex[partial.index] == nil {
            guard party(index: partial.index) != nil else {
                throw PaillierError(.invalidKey, "a partial decryption names no party of this key")
            }
            byIndex[partial.index] = partial
        }
        guard byIndex.count >= threshold else {
            throw PaillierError(.invalidKey, "\(byIndex.count) distinct partial decryptions; \(threshold) are needed")
        }
        let chosen = byIndex.keys.sorted().prefix(threshold).map { byIndex[$0]! }  // safe: keys of byIndex
        let coefficients = lagrangeCoefficients(chosen.map(\.index))
        let n = publicKey.n, n2 = publicKey.nSquared
        let mont = publicKey.core.montN2
        do {
            var product = BigNum(UInt64(1))
            for (partial, mu) in zip(chosen, coefficients) {
                let base = mu.isNegative ? try partial.value.inverse(modulo: n2) : partial.value
                product = mont.multiply(product, try mont.power(base, mu.magnitude.shiftedLeft(1)))
            }
            let (quotient, remainder) = (product - BigNum(UInt64(1))).quotientAndRemainder(dividingBy: n)
            guard remainder.isZero, !quotient.isNegative else {
                throw PaillierError(.invalidCiphertext, "the partial decryptions do not combine: at least one is wrong")
            }
            let fourDeltaSquared = (delta * delta).shiftedLeft(2)
            return quotient.multipliedModulo(try fourDeltaSquared.inverse(modulo: n), n)
        } catch let error as PaillierError {
            throw error
        } catch {
            throw PaillierError(.internalFailure, "combining the partial decryptions failed: \(error)")
        }
    }
}
