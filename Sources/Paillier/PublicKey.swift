public import BigNum
import Primitives
import Synchronization

/// The smallest modulus accepted outside test fixtures.
public let minimumProductionKeyBits = 2048
/// The default modulus size (≈ 128-bit security).
public let defaultKeyBits = 3072
/// The largest modulus accepted anywhere: 8192 bits. Larger keys buy no security a vault needs, and the
/// encryption table of a key grows with its square (about 90 MB at 8192 bits).
public let maximumKeyBits = 8192

/// A Paillier public key with generator g = n + 1.
///
/// Holds n, n², a Montgomery context for n² and — built on first use and cached — the DJN fixed-base table for
/// fast encryption noise. Cheap to copy (a reference to shared immutable state) and safe to use from many tasks
/// at once.
public struct PublicKey: Sendable, Equatable {
    let core: PublicKeyCore

    /// Builds a public key from its modulus.
    ///
    /// - Parameters:
    ///   - n: the modulus, odd, with at least 16 bits.
    ///   - allowInsecureSize: accept moduli below 2048 bits (test fixtures only).
    /// - Throws: ``PaillierError/Code/keyTooSmall`` below 2048 bits unless allowed;
    ///   ``PaillierError/Code/invalidKey`` for an even or tiny modulus, or one above ``maximumKeyBits``.
    public init(n: BigNum, allowInsecureSize: Bool = false) throws(PaillierError) {
        guard !n.isNegative, n.isOdd, n.bitCount >= 64 else {
            throw PaillierError(.invalidKey, "the public key's modulus n must be odd and at least 64 bits")
        }
        guard n.bitCount <= maximumKeyBits else {
            throw PaillierError(.invalidKey, "the key has \(n.bitCount) bits; at most \(maximumKeyBits) are accepted")
        }
        guard allowInsecureSize || n.bitCount >= minimumProductionKeyBits else {
            throw PaillierError(.keyTooSmall,
                                "the key has \(n.bitCount) bits; at least \(minimumProductionKeyBits) are required "
                                + "(--insecure-test-key admits smaller keys, for test fixtures only)")
        }
        core = try PublicKeyCore(n: n)
    }

    /// The modulus n.
    public var n: BigNum { core.n }
    /// n².
    public var nSquared: BigNum { core.nSquared }
    /// The size of n in bits.
    public var bitCount: Int { core.n.bitCount }
    /// The largest plaintext magnitude a signed encoding may hold: ⌊n/3⌋ − 1 (python-paillier's `max_int`).
    public var maxInt: BigNum { core.maxInt }
    /// The fixed width of a binary ciphertext: the byte length of n².
    public var ciphertextByteCount: Int { core.ciphertextByteCount }
    /// A short fingerprint of n: the first 16 bytes of SHA-256(n, big-endian) in hex, prefixed `pk-`.
    public var keyID: String { core.keyID }

    public static func == (a: PublicKey, b: PublicKey) -> Bool { a.core === b.core || a.core.n == b.core.n }
}

/// The shared immutable state of a public key.
///
/// `Sendable`: every stored property is immutable and `Sendable`; the lazily built table sits behind a `Mutex`.
final class PublicKeyCore: Sendable {
    let n: BigNum
    let nSquared: BigNum
    let maxInt: BigNum
    let ciphertextByteCount: Int
    let keyID: String
    let montN2: MontgomeryContext
    private let djn = Mutex<DJNNoise?>(nil)

    init(n: BigNum) throws(PaillierError) {
        self.n = n
        self.nSquared = n * n
        self.maxInt = n / BigNum(UInt64(3)) - BigNum(UInt64(1))
        self.ciphertextByteCount = nSquared.byteCount
        self.keyID = "pk-" + Hex.encode(SHA256.hash(n.bigEndianBytes).prefix(16))
        do {
            self.montN2 = try MontgomeryContext(modulus: nSquared)
        } catch {
            throw PaillierError(.invalidKey, "the public key's modulus is not usable: \(error.message)")
        }
    }

    /// The DJN noise generator, built on first use (≈ 2^w·⌈|n|/2w⌉ Montgomery products) and cached.
    func noise() throws(PaillierError) -> DJNNoise {
        if let ready = djn.withLock({ $0 }) { return ready }
        let built = try DJNNoise(core: self)
        return djn.withLock { slot in
            if let existing = slot { return existing }
            slot = built
            return built
        }
    }

    /// Whether the table has been built (for the benchmark's memory report).
    var noiseIfBuilt: DJNNoise? { djn.withLock { $0 } }
}

extension PublicKey {
    /// Primes below 10,000, multiplied together: one gcd finds any small factor of n.
    private static let smallPrimeProduct: BigNum = {
        var sieve = [Bool](repeating: true, count: 10_000)
        var product = BigNum(1)
        for i in 2..<sieve.count where sieve[i] {
            product = product * BigNum(UInt64(i))
            var multiple = i * i
            while multiple < sieve.count {
                sieve[multiple] = false
                multiple += i
            }
        }
        return product
    }()

    /// Checks what can be checked of a modulus from outside, before a vault adopts it for every school's data: n has
    /// no prime factor below 10,000 and is not a perfect square (n = p² makes λ and decryption wrong, and is
    /// factored by a square root). A real Paillier modulus (p·q with two large primes) always passes; this cannot
    /// prove that n has exactly two large prime factors.
    ///
    /// - Throws: ``PaillierError/Code/invalidKey`` naming what is wrong.
    public func checkModulusStructure() throws(PaillierError) {
        guard n.gcd(Self.smallPrimeProduct) == BigNum(1) else {
            throw PaillierError(.invalidKey, "the public key's modulus has a small prime factor: it is not a Paillier key")
        }
        // Integer square root by Newton's method from above: x ← (x + n/x)/2 until it stops decreasing.
        var x = BigNum(1).shiftedLeft((n.bitCount + 1) / 2 + 1)
        while true {
            let next = (x + n / x).shiftedRight(1)
            guard next < x else { break }
            x = next
        }
        guard x * x != n else {
            throw PaillierError(.invalidKey, "the public key's modulus is a perfect square (p²): it is not a Paillier key")
        }
    }
}
