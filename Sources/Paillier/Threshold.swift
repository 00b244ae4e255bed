public import BigNum
import Primitives

/// One custodian of a threshold key: its name, its index i in 1 … l (the point at which the dealer evaluated the
/// sharing polynomial), and its verification key v_i = v^(Δ·s_i) mod n².
public struct ThresholdParty: Sendable, Equatable {
    /// The party's name as given to the ceremony (`bureau`, `auditor`, …): `[A-Za-z0-9_-]{1,32}`.
    public let name: String
    /// The party's index i, 1 … l.
    public let index: Int
    /// v_i = v^(Δ·s_i) mod n², published by the dealer; proofs of partial decryption are checked against it.
    public let verificationKey: BigNum

    /// Makes a party description (checked by ``ThresholdPublicKey/init(publicKey:threshold:parties:v:)``).
    public init(name: String, index: Int, verificationKey: BigNum) {
        self.name = name
        self.index = index
        self.verificationKey = verificationKey
    }

    /// Whether `name` is a valid party name: 1–32 characters from `A–Z a–z 0–9 _ -`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 32 && name.utf8.allSatisfy { c in
            (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f
        }
    }
}

/// The public half of a threshold Paillier key (Damgård–Jurik with s = 1, after Shoup's threshold RSA): the Paillier
/// public key n (with g = n + 1, so anyone encrypts exactly as under a single key), the threshold t, the l parties
/// with their verification keys, Δ = l! and the base v of the verification keys.
///
/// Any t of the l parties decrypt together: each computes a partial decryption c_i = c^(2Δ·s_i) mod n² with a proof
/// that it used its share (``ThresholdShare/partiallyDecrypt(_:context:)``), anyone checks the proofs against the
/// verification keys (``verify(_:of:context:)``) and combines t valid partials (``combine(_:of:)``). Fewer than t
/// shares reveal nothing about the plaintext (under the decisional composite residuosity assumption).
///
/// Laws: for every ciphertext c of m and every set S of t distinct valid partials of c, `combine(S, c) == m`.
///
/// Cheap to copy (the key material is shared, immutable) and safe to use from many tasks at once.
public struct ThresholdPublicKey: Sendable, Equatable {
    /// The most parties a ceremony may have: Δ = l! and the Lagrange coefficients stay small (32! < 2^118).
    public static let maximumParties = 32
    /// The format tag of `threshold.json`, also hashed into the ceremony id.
    public static let formatTag = "eduvault-threshold/1"

    /// The Paillier public key (python-paillier's `public.json` holds the same n).
    public let publicKey: PublicKey
    /// t: how many parties must take part in a decryption.
    public let threshold: Int
    /// The l parties, in index order (party i has index i).
    public let parties: [ThresholdParty]
    /// Δ = l!.
    public let delta: BigNum
    /// The base of the verification keys: a random square of Z*_{n²} that generates the squares (checked by the
    /// dealer, who knows the factorisation).
    public let v: BigNum
    /// A fingerprint of every public value of the ceremony: `tk-` and 32 hex digits of SHA-256 over the format
    /// tag, n, t, the parties' names, v and every v_i. Two ceremonies never share one, even over the same n.
    public let ceremonyID: String
    /// SHA-256 over v and the verification keys (fixed width, in index order): what the vault's log records.
    public let verificationKeysDigest: [UInt8]

    /// The number of parties, l.
    public var partyCount: Int { parties.count }

    /// Builds and checks a threshold public key.
    ///
    /// - Parameters:
    ///   - publicKey: the Paillier key.
    ///   - threshold: t, with 1 ≤ t ≤ l.
    ///   - parties: the parties with indexes 1 … l in order and distinct valid names.
    ///   - v: the verification base, an element of Z*_{n²} other than 1.
    /// - Throws: ``PaillierError/Code/invalidKey`` naming what is wrong (a threshold out of range, a bad or repeated
    ///   name, indexes out of order, a verification key that is not an element of Z*_{n²}).
    /// - Complexity: one coprimality check per verification key.
    public init(publicKey: PublicKey, threshold: Int, parties: [ThresholdParty], v: BigNum) throws(PaillierError) {
        guard (2...Self.maximumParties).contains(parties.count) else {
            throw PaillierError(.invalidKey, "a threshold key needs 2 to \(Self.maximumParties) parties")
        }
        guard (1...parties.count).contains(threshold) else {
            throw PaillierError(.invalidKey, "the threshold must be between 1 and the number of parties (\(parties.count))")
        }
        var names = Set<String>()
        for (offset, party) in parties.enumerated() {
            guard party.index == offset + 1 else {
                throw PaillierError(.invalidKey, "the parties' indexes must be 1, 2, … in order")
            }
            guard ThresholdParty.isValidName(party.name) else {
                throw PaillierError(.invalidKey, "a party name must be 1–32 characters from A–Z a–z 0–9 _ -")
            }
            guard names.insert(party.name).inserted else {
                throw PaillierError(.invalidKey, "the party \(party.name) appears twice")
            }
        }
        for (what, value) in [("v", v)] + parties.map({ ("the verification key of \($0.name)", $0.verificationKey) }) {
            do { _ = try publicKey.ciphertext(validating: value) } catch {
                throw PaillierError(.invalidKey, "\(what) is not an element of Z*_{n²} of this key")
            }
            guard !value.isOne else { throw PaillierError(.invalidKey, "\(what) is 1") }
        }
        self.publicKey = publicKey
        self.threshold = threshold
        self.parties = parties
        self.v = v.publicCopy()
        var factorial = BigNum(UInt64(1))
        for i in 1...parties.count { factorial = factorial * BigNum(UInt64(i)) }
        delta = factorial
        let width = publicKey.ciphertextByteCount
        var keys: [UInt8] = []
        do {
            keys += try v.bigEndianBytes(width: width)
            for party in parties { keys += try party.verificationKey.bigEndianBytes(width: width) }
        } catch {
            throw PaillierError(.invalidKey, "a verification key does not fit below n²")
        }
        verificationKeysDigest = SHA256.hash(keys)
        var fingerprint = ThresholdHash()
        fingerprint.append(text: Self.formatTag)
        fingerprint.append(bytes: publicKey.n.bigEndianBytes)
        fingerprint.append(integer: threshold)
        fingerprint.append(integer: parties.count)
        for party in parties { fingerprint.append(text: party.name) }
        fingerprint.append(bytes: verificationKeysDigest)
        ceremonyID = "tk-" + Hex.encode(fingerprint.finalize().prefix(16))
    }

    /// The party called `name`, if any.
    public func party(named name: String) -> ThresholdParty? { parties.first { $0.name == name } }

    /// The party with index `index`, if any.
    public func party(index: Int) -> ThresholdParty? {
        index >= 1 && index <= parties.count ? parties[index - 1] : nil
    }

    /// Two threshold keys are equal when their ceremony ids are: the id hashes every public value.
    public static func == (a: ThresholdPublicKey, b: ThresholdPublicKey) -> Bool { a.ceremonyID == b.ceremonyID }

    /// The integer Lagrange coefficients for interpolating at 0 from the indexes `indices`, scaled by Δ:
    /// μ_{0,i} = Δ · Π_{j ∈ S, j ≠ i} j / (j − i). They are integers because Δ = l! absorbs every denominator.
    ///
    /// - Precondition: the indexes are distinct and in 1 … l.
    /// - Complexity: O(|S|²) small-integer operations.
    func lagrangeCoefficients(_ indices: [Int]) -> [BigNum] {
        indices.map { i in
            var numerator = delta
            var denominator = BigNum(UInt64(1))
            for j in indices where j != i {
                numerator = numerator * BigNum(j)
                denominator = denominator * BigNum(j - i)
            }
            let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
            precondition(remainder.isZero, "Δ·Π j/(j−i) is an integer for indexes in 1 … l")
            return quotient
        }
    }
}

/// Length-prefixed SHA-256 input for fingerprints and Fiat–Shamir challenges: every field is its length (4 bytes,
/// big-endian) then its bytes, so no two different field lists hash the same text.
struct ThresholdHash: ~Copyable {
    private var hasher = SHA256Hasher()

    init() {}

    mutating func append(bytes: [UInt8]) {
        let count = UInt32(truncatingIfNeeded: bytes.count)
        hasher.update([UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)])
        hasher.update(bytes)
    }

    mutating func append(text: String) { append(bytes: Array(text.utf8)) }

    mutating func append(integer: Int) { append(text: String(integer)) }

    consuming func finalize() -> [UInt8] { hasher.finalize() }
}
