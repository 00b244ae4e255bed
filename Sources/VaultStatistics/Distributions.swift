internal import Foundation

/// The distribution functions the model statistics need, accurate to about 1e-13 relative, tiny tail probabilities
/// included: every upper tail is computed in its complementary form, never as 1 − cdf.
///
/// - Student t: two-sided p-value and upper quantile, through the regularized incomplete beta function
///   I_x(a, b) = B(x; a, b) / B(a, b), evaluated with the Lentz continued fraction (Numerical Recipes §6.4 form,
///   using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) on the side where the fraction converges fast).
/// - F: survival function sf(f; d1, d2) = I_{d2/(d2 + d1 f)}(d2/2, d1/2).
/// - Normal: survival 0.5 erfc(z/√2) and the quantile by Acklam's rational approximation refined by Halley steps.
enum Distributions {
    /// log Γ(x) for x > 0 (glibc's reentrant lgamma_r, correctly signed for positive x).
    static func logGamma(_ x: Double) -> Double {
        var sign: Int32 = 0
        return lgamma_r(x, &sign)
    }

    /// log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b).
    static func logBeta(_ a: Double, _ b: Double) -> Double {
        logGamma(a) + logGamma(b) - logGamma(a + b)
    }

    /// The regularized incomplete beta function I_x(a, b), given both x and 1 − x (so a caller that knows 1 − x
    /// exactly loses no precision). a, b > 0, 0 <= x <= 1.
    static func incompleteBeta(x: Double, complement y: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if y <= 0 { return 1 }
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); otherwise use the symmetry.
        if x > (a + 1) / (a + b + 2) {
            return 1 - incompleteBeta(x: y, complement: x, a: b, b: a)
        }
        let logFront = a * log(x) + b * log(y) - logBeta(a, b)
        return exp(logFront) * continuedFraction(x: x, a: a, b: b) / a
    }

    /// The upper tail 1 − I_x(a, b) = I_{1−x}(b, a), computed without cancellation.
    static func incompleteBetaComplement(x: Double, complement y: Double, a: Double, b: Double) -> Double {
        incompleteBeta(x: y, complement: x, a: b, b: a)
    }

    /// The continued fraction of the incomplete beta function by the modified Lentz method.
    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        let qab = a + b
        let qap = a + 1
        let qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m)
            let m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) <= 4 * Double.ulpOfOne { break }
        }
        return h
    }

    /// P(|T| >= |t|) for Student's t with `df` degrees of freedom.
    static func studentTTwoSided(_ t: Double, df: Double) -> Double {
        let t2 = t * t
        // x = df / (df + t²) and 1 − x = t² / (df + t²), both without cancellation.
        return incompleteBeta(x: df / (df + t2), complement: t2 / (df + t2), a: df / 2, b: 0.5)
    }

    /// P(T >= t), the upper tail of Student's t.
    static func studentTSurvival(_ t: Double, df: Double) -> Double {
        let half = studentTTwoSided(t, df: df) / 2
        return t >= 0 ? half : 1 - half
    }

    /// The density of Student's t.
    static func studentTDensity(_ t: Double, df: Double) -> Double {
        exp(-0.5 * (df + 1) * log1p(t * t / df) - 0.5 * log(df) - logBeta(df / 2, 0.5))
    }

    /// The t with P(T >= t) = `upper`, for 0 < upper < 1/2 (a positive quantile), by safeguarded Newton steps.
    static func studentTUpperQuantile(_ upper: Double, df: Double) -> Double {
        var low = 0.0
        var high = 1.0
        while studentTSurvival(high, df: df) > upper { low = high; high *= 2 }
        var t = min(max(normalUpperQuantile(upper), low), high)
        for _ in 0..<200 {
            let f = studentTSurvival(t, df: df) - upper
            if f > 0 { low = t } else { high = t }
            var next = t + f / studentTDensity(t, df: df)
            if !(next > low && next < high) { next = (low + high) / 2 }
            if abs(next - t) <= 1e-15 * abs(t) { t = next; break }
            t = next
        }
        return t
    }

    /// P(F >= f) for the F distribution with (d1, d2) degrees of freedom.
    static func fSurvival(_ f: Double, d1: Double, d2: Double) -> Double {
        if f <= 0 { return 1 }
        let denominator = d2 + d1 * f
        return incompleteBeta(x: d2 / denominator, complement: d1 * f / denominator, a: d2 / 2, b: d1 / 2)
    }

    /// P(Z >= z) for the standard normal.
    static func normalSurvival(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }

    /// The standard normal density.
    static func normalDensity(_ z: Double) -> Double {
        exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
    }

    /// The z with P(Z >= z) = `upper`, 0 < upper < 1: Acklam's approximation (relative error 1.2e-9) refined by two
    /// Halley steps on the complementary error function.
    static func normalUpperQuantile(_ upper: Double) -> Double {
        let p = upper
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                 -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                 -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        // Acklam's algorithm gives the lower quantile x with Φ(x) = q; the upper quantile is −x for q = upper.
        let q = p
        var x: Double
        if q < 0.02425 {
            let r = (-2 * log(q)).squareRoot()
            x = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5])
                / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
        } else if q <= 1 - 0.02425 {
            let s = q - 0.5
            let r = s * s
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * s
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let r = (-2 * log1p(-q)).squareRoot()
            x = -(((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5])
                / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
        }
        var z = -x
        // Halley steps on f(z) = P(Z >= z) − upper, f' = −φ(z).
        for _ in 0..<2 {
            let error = normalSurvival(z) - upper
            let u = -error / normalDensity(z)
            z -= u / (1 + z * u / 2)
        }
        return z
    }
}
