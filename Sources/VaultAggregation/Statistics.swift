public import BigNum
import Foundation

/// Descriptive statistics of one cell from its exact sums: n, Σx, Σx² (x fixed-point at `scale` decimals).
public struct CellStatistics: Sendable, Equatable {
    public var count: Int
    public var mean: Double
    /// Sample standard deviation (n − 1 in the denominator); 0 for a single record.
    public var sd: Double

    /// Computes mean and SD from exact integer sums. The variance numerator n·Σx² − (Σx)² is formed exactly in
    /// big-integer arithmetic before the one division, so there is no cancellation error.
    public init(count: Int, sum: BigNum, sumOfSquares: BigNum, scale: Int) {
        self.count = count
        let unit = pow(10.0, Double(scale))
        let n = BigNum(UInt64(count))
        mean = count > 0 ? Self.ratio(sum, n) / unit : .nan
        if count > 1 {
            let numerator = n * sumOfSquares - sum * sum
            let denominator = n * BigNum(UInt64(count - 1))
            sd = max(0, Self.ratio(numerator, denominator)).squareRoot() / unit
        } else {
            sd = 0
        }
    }

    /// a / b as a correctly rounded-ish Double for big integers (exact when both fit in 2^53).
    static func ratio(_ a: BigNum, _ b: BigNum) -> Double {
        let (q, r) = a.quotientAndRemainder(dividingBy: b)
        return (Double(q.decimalString) ?? .nan) + (Double(r.decimalString) ?? .nan) / (Double(b.decimalString) ?? .nan)
    }
}

/// The standardised difference between two groups.
public struct Contrast: Sendable, Equatable {
    /// mean(second) − mean(first).
    public var gap: Double
    /// Cohen's d with the pooled SD.
    public var d: Double
    /// 95% confidence interval of d (normal approximation, Hedges & Olkin 1985:
    /// SE = √((n₁+n₂)/(n₁n₂) + d²/(2(n₁+n₂)))).
    public var ci95: (Double, Double)

    /// - Parameter noiseVarianceOfGap: the variance the release's noise adds to the gap (0 for exact releases);
    ///   it widens d's interval by noiseVarianceOfGap / pooled².
    public init(first a: CellStatistics, second b: CellStatistics, noiseVarianceOfGap: Double = 0) {
        gap = b.mean - a.mean
        let n1 = Double(a.count), n2 = Double(b.count)
        let pooled = (((n1 - 1) * a.sd * a.sd + (n2 - 1) * b.sd * b.sd) / (n1 + n2 - 2)).squareRoot()
        d = pooled > 0 ? gap / pooled : .nan
        let noise = pooled > 0 ? noiseVarianceOfGap / (pooled * pooled) : 0
        let se = ((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)) + noise).squareRoot()
        ci95 = (d - 1.959964 * se, d + 1.959964 * se)
    }

    public static func == (l: Contrast, r: Contrast) -> Bool {
        l.gap == r.gap && l.d == r.d && l.ci95.0 == r.ci95.0 && l.ci95.1 == r.ci95.1
    }
}

/// 95% confidence intervals for a noisy cell (DP releases): sampling error plus the known noise variances,
/// by the delta method.
///
/// - mean = (Σx + η₁)/n: Var = s²/n + σ₁²/n².
/// - SD: Var = s²/(2(n−1)) (sampling, normal approximation) + Var(s²)_noise / (4s²), with
///   Var(s²)_noise ≈ (σ₂² + (2·mean)²·σ₁²)/(n−1)².
struct NoisyIntervals {
    var mean: (Double, Double)
    var sd: (Double, Double)

    init(_ s: CellStatistics, noise: (sum: Double, sumOfSquares: Double), scale: Int) {
        let unit = pow(10.0, Double(scale))
        let n = Double(s.count)
        let z = 1.959964
        let sigma1 = noise.sum / (unit * unit)  // score units²
        let sigma2 = noise.sumOfSquares / (unit * unit * unit * unit)
        let meanSE = (s.sd * s.sd / n + sigma1 / (n * n)).squareRoot()
        mean = (s.mean - z * meanSE, s.mean + z * meanSE)
        let dof = max(1, n - 1)
        let varianceNoise = (sigma2 + 4 * s.mean * s.mean * sigma1) / (dof * dof)
        let sdNoise = s.sd > 0 ? varianceNoise / (4 * s.sd * s.sd) : varianceNoise.squareRoot()
        let sdSE = (s.sd * s.sd / (2 * dof) + sdNoise).squareRoot()
        sd = (max(0, s.sd - z * sdSE), s.sd + z * sdSE)
    }
}
