import BigNum
import Paillier
import VaultModel
import VaultPolicy
import VaultStore

/// How one differentially private release noises its sums (policy rule `DP`).
///
/// **Unit of privacy: a student's scores.** Neighbouring data sets differ in the scores of one student at one
/// school; which records exist and their attributes are public in EduVault's threat model (SECURITY.md), so counts
/// stay exact. A student has at most one record per (subject, term) at a school, so within one query a student
/// contributes to at most m records, m = the number of (subject, term) pairs among the matched atoms.
///
/// **Mechanism.** Σx of every cell gets η₁ ~ N_Z(0, σ₁²) and Σx² gets η₂ ~ N_Z(0, σ₂²), independently per cell,
/// with σᵢ² = Δᵢ² / ρ for the release's cost ρ, Δ₁ = m·(max − min) and Δ₂ = m·(max² − min²) in fixed-point units.
/// The L2 sensitivity of the vector of all cells' Σx is at most Δ₁ (a student's records may fall in several cells,
/// and √Σ(mᵢ·range)² ≤ m·range), so each of the two is ρ/2-zCDP (Canonne–Kamath–Steinke 2020, Theorem 14) and the
/// release is ρ-zCDP; releases compose additively, which the vault's budget tracks.
struct NoisePlan: Sendable {
    let recordsPerStudent: Int
    let sum: DiscreteGaussian
    let squares: DiscreteGaussian
    let description: Release.Noise

    init(rule: Policy.DifferentialPrivacy, schema: Schema, matchedAtoms: [Int64], atoms: [Atom])
        throws(AggregationError)
    {
        let byID = Dictionary(uniqueKeysWithValues: atoms.map { ($0.id, $0) })
        var pairs = Set<[String]>()
        for id in matchedAtoms {
            guard let atom = byID[id] else { continue }
            pairs.insert([atom.subject, atom.attributes["term"] ?? ""])
        }
        recordsPerStudent = max(1, pairs.count)
        let m = BigNum(UInt64(recordsPerStudent))
        let low = BigNum(UInt64(schema.minScore))
        let high = BigNum(UInt64(schema.maxScore))
        let deltaSum = m * (high - low)
        let deltaSquares = m * (high * high - low * low)
        let rho = BigNum(UInt64(rule.rhoPerReleaseNano))
        let billion = BigNum(UInt64(1_000_000_000))
        func variance(_ delta: BigNum) throws(AggregationError) -> (DiscreteGaussian, String) {
            // σ² = Δ² / ρ = Δ² · 10⁹ / ρ_nano, kept exact.
            var numerator = delta * delta * billion
            var denominator = rho
            let g = numerator.gcd(denominator)
            if !g.isZero && !g.isOne {
                numerator = numerator / g
                denominator = denominator / g
            }
            let text =
                denominator.isOne ? numerator.decimalString : "\(numerator.decimalString)/\(denominator.decimalString)"
            return (try DiscreteGaussian(varianceNumerator: numerator, denominator: denominator), text)
        }
        let (sum, sumText) = try variance(deltaSum)
        let (squares, squaresText) = try variance(deltaSquares)
        self.sum = sum
        self.squares = squares
        description = Release.Noise(
            mechanism: Release.Noise.discreteGaussian,
            rho: Policy.DifferentialPrivacy.decimal(nano: rule.rhoPerReleaseNano),
            sigma2Sum: sumText, sigma2SumOfSquares: squaresText, recordsPerStudent: recordsPerStudent)
    }

    /// Enc(Σ + η): draws η₁, η₂ and adds η₁ + 2^w·η₂ to the packed sum under encryption. The slots stay within
    /// ±2^(w−1), so the bureau's signed decoding recovers Σx + η₁ and Σx² + η₂ exactly; checked before adding.
    func addNoise(
        to sum: Ciphertext, records: Int, key: PublicKey, layout: SlotLayout, maxScore: Int,
        source: inout any RandomByteSource
    ) throws(AggregationError) -> Ciphertext {
        let eta1 = try self.sum.sample(using: &source)
        let eta2 = try squares.sample(using: &source)
        let half = BigNum(UInt64(1)).shiftedLeft(layout.slotBits - 1)
        let n = BigNum(UInt64(records))
        let top = BigNum(UInt64(maxScore))
        guard n * top + eta1.magnitude < half, n * top * top + eta2.magnitude < half else {
            throw AggregationError(.overflow, "the noise does not fit the vault's \(layout.slotBits)-bit slots")
        }
        do { return try key.add(sum, plaintext: eta1 + eta2.shiftedLeft(layout.slotBits)) } catch {
            throw AggregationError(.storage, "adding the noise failed: \(error.message)")
        }
    }
}
