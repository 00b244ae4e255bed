public import BigNum
import Primitives

/// A source of uniformly random bytes for the noise sampler.
public protocol RandomByteSource {
    /// `count` uniformly random bytes.
    mutating func bytes(_ count: Int) throws(AggregationError) -> [UInt8]
}

/// OpenSSL's CSPRNG (`RAND_priv_bytes`): the only source production noise comes from.
public struct SystemRandomSource: RandomByteSource {
    public init() {}

    public mutating func bytes(_ count: Int) throws(AggregationError) -> [UInt8] {
        do { return try SecureRandom.bytes(count) } catch {
            throw AggregationError(.storage, "the CSPRNG failed: \(error.message)")
        }
    }
}

/// Exact sampling from the discrete Gaussian N_Z(0, σ²) for a rational σ² (Canonne, Kamath and Steinke, "The
/// Discrete Gaussian for Differential Privacy", NeurIPS 2020, Algorithms 1–3).
///
/// Every step is integer arithmetic on big integers and uniform draws by rejection from a byte source, so the
/// output has exactly the discrete Gaussian distribution (up to the source's uniformity): no floating point, no
/// truncated tables. P[X = x] = exp(−x²/2σ²) / Σ_y exp(−y²/2σ²).
///
/// Expected cost: a small constant number of draws per sample (each a uniform integer below a rational's
/// denominator).
public struct DiscreteGaussian: Sendable {
    /// σ² = numerator / denominator, both positive.
    public let numerator: BigNum
    public let denominator: BigNum
    /// t = ⌊σ⌋ + 1, the discrete Laplace scale of the proposal.
    let t: BigNum

    /// Makes a sampler for σ² = numerator / denominator.
    ///
    /// - Throws: ``AggregationError`` `.invalidQuery` unless both are positive.
    public init(varianceNumerator numerator: BigNum, denominator: BigNum) throws(AggregationError) {
        guard !numerator.isNegative, !numerator.isZero, !denominator.isNegative, !denominator.isZero else {
            throw AggregationError(.invalidQuery, "the noise variance must be positive")
        }
        self.numerator = numerator
        self.denominator = denominator
        t = Self.integerSquareRoot(numerator / denominator) + BigNum(UInt64(1))
    }

    /// One sample.
    public func sample(using source: inout some RandomByteSource) throws(AggregationError) -> BigNum {
        // γ = (|Y| − σ²/t)² / (2σ²) = (|Y|·b·t − a)² / (2·a·b·t²) for σ² = a/b.
        let a = numerator
        let b = denominator
        let gammaDenominator = BigNum(UInt64(2)) * a * b * t * t
        while true {
            let y = try discreteLaplace(using: &source)
            let centred = y.magnitude * b * t - a
            if try Self.bernoulliExp(numerator: centred * centred, denominator: gammaDenominator, using: &source) {
                return y
            }
        }
    }

    /// Discrete Laplace with scale t: P[Y = y] ∝ exp(−|y|/t) (Algorithm 2 with s = 1).
    func discreteLaplace(using source: inout some RandomByteSource) throws(AggregationError) -> BigNum {
        let one = BigNum(UInt64(1))
        let two = BigNum(UInt64(2))
        while true {
            let u = try Self.uniform(below: t, using: &source)
            guard try Self.bernoulliExp(numerator: u, denominator: t, using: &source) else { continue }
            var v = BigNum(UInt64(0))
            while try Self.bernoulliExp(numerator: one, denominator: one, using: &source) { v = v + one }
            let x = u + t * v
            let negative = try Self.bernoulli(numerator: one, denominator: two, using: &source)
            if negative && x.isZero { continue }
            return negative ? -x : x
        }
    }

    /// Bernoulli(exp(−γ)) for γ = numerator / denominator ≥ 0 (Algorithm 1).
    static func bernoulliExp(numerator: BigNum, denominator: BigNum, using source: inout some RandomByteSource)
        throws(AggregationError) -> Bool
    {
        var gamma = numerator
        let one = BigNum(UInt64(1))
        // exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)).
        while gamma >= denominator {
            guard try bernoulliExpAtMostOne(numerator: one, denominator: one, using: &source) else { return false }
            gamma = gamma - denominator
        }
        return try bernoulliExpAtMostOne(numerator: gamma, denominator: denominator, using: &source)
    }

    /// Bernoulli(exp(−γ)) for 0 ≤ γ ≤ 1: draw A_k ~ Bernoulli(γ/k) for k = 1, 2, … until one is 0; the result is
    /// 1 exactly when that k is odd.
    static func bernoulliExpAtMostOne(
        numerator: BigNum, denominator: BigNum,
        using source: inout some RandomByteSource
    ) throws(AggregationError) -> Bool {
        var k: UInt64 = 1
        while try bernoulli(numerator: numerator, denominator: denominator * BigNum(k), using: &source) { k += 1 }
        return k % 2 == 1
    }

    /// Bernoulli(numerator / denominator) for 0 ≤ numerator ≤ denominator.
    static func bernoulli(numerator: BigNum, denominator: BigNum, using source: inout some RandomByteSource)
        throws(AggregationError) -> Bool
    {
        try uniform(below: denominator, using: &source) < numerator
    }

    /// A uniform integer in 0 ..< bound, by rejection sampling on the smallest covering number of bits.
    static func uniform(below bound: BigNum, using source: inout some RandomByteSource) throws(AggregationError)
        -> BigNum
    {
        let bits = bound.bitCount
        let byteCount = (bits + 7) / 8
        let topMask = UInt8(truncatingIfNeeded: (1 << (bits - 8 * (byteCount - 1))) - 1)
        while true {
            var bytes = try source.bytes(byteCount)
            guard bytes.count == byteCount else { throw AggregationError(.storage, "the random source fell short") }
            bytes[0] &= topMask
            let candidate: BigNum
            do { candidate = try BigNum(bigEndian: bytes) } catch {
                throw AggregationError(.storage, "a random draw failed: \(error.message)")
            }
            if candidate < bound { return candidate }
        }
    }

    /// ⌊√n⌋ for n ≥ 0 (Newton's method on integers).
    static func integerSquareRoot(_ n: BigNum) -> BigNum {
        if n < BigNum(UInt64(2)) { return n }
        var x = BigNum(UInt64(1)).shiftedLeft((n.bitCount + 1) / 2)  // ≥ √n
        while true {
            let y = (x + n / x).shiftedRight(1)
            if !(y < x) { return x }
            x = y
        }
    }
}
