public import BigNum

/// A Paillier ciphertext: an element of Z*_{n²} under one public key.
///
/// Obtain one by encrypting, or from outside through ``PublicKey/ciphertext(validating:)`` or
/// ``PublicKey/ciphertext(bytes:)``, which check it belongs to the key's ciphertext group.
public struct Ciphertext: Sendable, Equatable, Hashable {
    /// The group element c, 0 < c < n², gcd(c, n) = 1.
    public let value: BigNum

    /// Wraps a group element; a value computed from secret noise is public once it is a ciphertext.
    init(unchecked value: BigNum) { self.value = value.publicCopy() }

    /// The fixed-width big-endian encoding (`width` = the key's ``PublicKey/ciphertextByteCount``).
    ///
    /// - Throws: ``PaillierError/Code/malformedCiphertext`` when the value does not fit `width` bytes (a width
    ///   that is not the key's), never a shorter or padded-wrong encoding.
    public func bytes(width: Int) throws(PaillierError) -> [UInt8] {
        do { return try value.bigEndianBytes(width: width) } catch {
            throw PaillierError(.malformedCiphertext, "the ciphertext does not fit \(width) bytes")
        }
    }
}

extension PublicKey {
    /// Checks that `value` is a ciphertext of this key: 0 < c < n² and gcd(c, n) = 1.
    ///
    /// - Throws: ``PaillierError/Code/invalidCiphertext`` naming which condition failed (never the value).
    public func ciphertext(validating value: BigNum) throws(PaillierError) -> Ciphertext {
        guard !value.isNegative, !value.isZero else {
            throw PaillierError(.invalidCiphertext, "the ciphertext is zero or negative, which no encryption produces")
        }
        guard value < nSquared else {
            throw PaillierError(.invalidCiphertext,
                                "the ciphertext is not below n² of this key (was it made under another key?)")
        }
        let coprime: Bool
        do { coprime = try value.publicCopy().isCoprime(to: n) } catch {
            throw PaillierError(.internalFailure, "could not check the ciphertext: \(error.message)")
        }
        guard coprime else {
            throw PaillierError(.invalidCiphertext, "the ciphertext shares a factor with n, which no encryption produces")
        }
        return Ciphertext(unchecked: value)
    }

    /// Decodes and validates a canonical fixed-width big-endian ciphertext (exactly ``ciphertextByteCount`` bytes).
    public func ciphertext(bytes: some Collection<UInt8>) throws(PaillierError) -> Ciphertext {
        guard bytes.count == ciphertextByteCount else {
            throw PaillierError(.malformedCiphertext,
                                "a ciphertext of this key is \(ciphertextByteCount) bytes, not \(bytes.count)")
        }
        let value: BigNum
        do { value = try BigNum(bigEndian: bytes) } catch {
            throw PaillierError(.malformedCiphertext, "the ciphertext cannot be read: \(error.message)")
        }
        return try ciphertext(validating: value)
    }

    // MARK: - Encryption

    /// Encrypts a plaintext in `0 ..< n` with DJN noise from the cached constant-time fixed-base table.
    ///
    /// This is the path a school uses: it needs only the public key. Cost: one table exponentiation
    /// (⌈|n|/2w⌉ Montgomery products) and one Montgomery product.
    /// - Throws: ``PaillierError/Code/overflow`` when the plaintext is not in `0 ..< n`.
    public func encrypt(_ plaintext: BigNum) throws(PaillierError) -> Ciphertext {
        let noise = try core.noise().nextMontgomery()
        return try encrypt(plaintext, montgomeryNoise: noise)
    }

    /// Encrypts with a noise value in Montgomery form (from ``DJNNoise/nextMontgomery()`` or a ``NoisePool``):
    /// one Montgomery product.
    public func encrypt(_ plaintext: BigNum, montgomeryNoise: BigNum) throws(PaillierError) -> Ciphertext {
        let gm = try gToThe(plaintext)
        return Ciphertext(unchecked: core.montN2.montgomeryProduct(gm, montgomeryNoise))
    }

    /// Encrypts with the textbook noise r^n mod n², r uniform in Z*_n (constant-time exponentiation).
    ///
    /// About four times slower than ``encrypt(_:)``; kept as the reference the fast path is tested against.
    public func encryptStandard(_ plaintext: BigNum) throws(PaillierError) -> Ciphertext {
        let gm = try gToThe(plaintext)
        do {
            var r: BigNum
            repeat { r = try BigNum.random(below: n) } while r.isZero || !r.gcd(n).isOne  // r is secret: constant-time gcd
            let rn = try core.montN2.powerConstantTime(r, n)
            return Ciphertext(unchecked: core.montN2.multiply(gm, rn))
        } catch {
            throw PaillierError(.internalFailure, "encryption failed: \(error.message)")
        }
    }

    /// g^m = 1 + m·n mod n² for g = n + 1 (no exponentiation).
    func gToThe(_ plaintext: BigNum) throws(PaillierError) -> BigNum {
        guard !plaintext.isNegative, plaintext < n else {
            throw PaillierError(.overflow, "the plaintext does not fit below n; encode it first")
        }
        return plaintext * n + BigNum(UInt64(1))
    }

    /// The DJN noise generator of this key (built and cached on first use).
    public func noiseGenerator() throws(PaillierError) -> DJNNoise { try core.noise() }

    /// The memory held by the cached encryption table, or 0 if it has not been built.
    public var encryptionTableBytes: Int { core.noiseIfBuilt?.table.byteCount ?? 0 }

    // MARK: - Homomorphic operations

    /// Enc(a + b): the product of the ciphertexts modulo n².
    public func add(_ a: Ciphertext, _ b: Ciphertext) -> Ciphertext {
        Ciphertext(unchecked: core.montN2.multiply(a.value, b.value))
    }

    /// Enc(a + k) for a plaintext k in `0 ..< n`.
    public func add(_ a: Ciphertext, plaintext k: BigNum) throws(PaillierError) -> Ciphertext {
        Ciphertext(unchecked: core.montN2.multiply(a.value, try gToThe(k.modulo(n))))
    }

    /// Enc(−a): the inverse modulo n².
    ///
    /// - Throws: ``PaillierError/Code/invalidCiphertext`` when `a` has no inverse (no validated ciphertext is
    ///   like that); ``PaillierError/Code/internalFailure`` when OpenSSL fails. Never returns `a` itself.
    public func negate(_ a: Ciphertext) throws(PaillierError) -> Ciphertext {
        do { return Ciphertext(unchecked: try a.value.inverse(modulo: nSquared)) } catch {
            if error.code == .invalidArgument {
                throw PaillierError(.invalidCiphertext,
                                    "the ciphertext has no inverse modulo n², so it cannot be negated")
            }
            throw PaillierError(.internalFailure, "negation failed: \(error.message)")
        }
    }

    /// Enc(a − b).
    ///
    /// - Throws: as ``negate(_:)``.
    public func subtract(_ a: Ciphertext, _ b: Ciphertext) throws(PaillierError) -> Ciphertext {
        add(a, try negate(b))
    }

    /// Enc(k·a) for an integer k (negative k works modulo n): c^(k mod n) mod n².
    ///
    /// - Throws: ``PaillierError/Code/internalFailure`` when the exponentiation fails. Never returns Enc(0) or
    ///   any other stand-in.
    public func multiply(_ a: Ciphertext, by k: BigNum) throws(PaillierError) -> Ciphertext {
        let e = k.modulo(n)
        do { return Ciphertext(unchecked: try core.montN2.power(a.value, e)) } catch {
            throw PaillierError(.internalFailure, "scalar multiplication failed: \(error.message)")
        }
    }

    /// A fresh ciphertext of the same plaintext: c · h_s^α mod n². Unlinkable to `a` under DCR.
    public func rerandomize(_ a: Ciphertext) throws(PaillierError) -> Ciphertext {
        let noise = try core.noise().nextMontgomery()
        return Ciphertext(unchecked: core.montN2.montgomeryProduct(a.value, noise))
    }

    /// Enc(Σ aᵢ) over any number of ciphertexts, with one Montgomery product each (see ``CiphertextSum``).
    public func sum(_ ciphertexts: some Sequence<Ciphertext>) throws(PaillierError) -> Ciphertext {
        var summer = CiphertextSum(key: self)
        for c in ciphertexts { try summer.add(c) }
        return try summer.result()
    }
}
