internal import Foundation

/// The linear mixed model y = Xβ + b_g + ε with a random intercept b_g ~ N(0, τ²) per group and ε ~ N(0, σ²), fitted
/// by REML from sums only.
///
/// With γ = τ²/σ² and H_g = I + γ 11ᵀ, Woodbury gives H_g⁻¹ = I − w_g 11ᵀ with w_g = γ / (1 + n_g γ), so
///
///     M(γ) = XᵀH⁻¹X = XᵀX − Σ_g w_g u_g u_gᵀ
///     m(γ) = XᵀH⁻¹y = Xᵀy − Σ_g w_g u_g v_g
///     q(γ) = yᵀH⁻¹y = yᵀy − Σ_g w_g v_g²
///
/// with u_g = X_gᵀ1 (from the group's count, sums and level counts) and v_g = 1ᵀy_g, and log|H| = Σ_g log(1 + n_g γ).
/// Everything is computed with X and y centered at their overall means (exact, like OLS): REML is invariant under
/// y → y + Xc and the unimodular change of columns, and the estimates are mapped back at the end. Profiling σ² out,
/// with r(γ) = q − mᵀM⁻¹m and f = n − k, the REML log-likelihood is (statsmodels' `llf`)
///
///     ℓ(γ) = −½ [f log(r/f) + log|H| + log|M| + f + f log 2π].
///
/// ℓ′ and ℓ″ are analytic: with w′_g = 1/(1 + n_g γ)², e_g = v_g − u_gᵀβ and C = UᵀM⁻¹U,
/// r′ = −Σ w′_g e_g², (log|M|)′ = −Σ w′_g C_gg, (log|H|)′ = Σ n_g/(1 + n_g γ). The optimum is found by a grid on
/// log γ, then Brent's root finding on ℓ′ (to machine precision), with the boundary γ = 0 allowed.
///
/// The fixed effects are the GLS estimate β = M⁻¹m. Their covariance is statsmodels': the fixed-effects block of the
/// inverse observed information of the profile likelihood in (β, γ), σ²M⁻¹ + (σ²M⁻¹h)(σ²M⁻¹h)ᵀ / (−ℓ″(γ)) with the
/// cross derivative h = −f Σ_g w′_g u_g e_g / r (zero in expectation, not in a sample).
struct RandomInterceptModel {
    let design: Design
    /// The name, record count and centered u_g, v_g of every group with records.
    let groups: [(name: String, n: Double, u: [Double], v: Double)]
    /// Centered XᵀX (intercept first: n, then S_xx), Xᵀy (0, S_xy) and yᵀy (S_yy).
    let xtx: SymmetricMatrix
    let xty: [Double]
    let yty: Double
    /// n − k.
    let f: Double

    init(_ design: Design) throws(StatisticsError) {
        self.design = design
        guard let random = design.sums.random else { throw StatisticsError("no groups for a random intercept") }
        let n = design.n
        let k = design.columns.count + 1
        var xtx = SymmetricMatrix(size: k)
        var xty = [Double](repeating: 0, count: k)
        xtx[0, 0] = Double(n)
        let y = Design.response
        for i in 0..<design.columns.count {
            for j in 0...i {
                let value = try design.centered(design.columns[i], design.columns[j])
                xtx[i + 1, j + 1] = value
                xtx[j + 1, i + 1] = value
            }
            xty[i + 1] = try design.centered(design.columns[i], y)
        }
        self.xtx = xtx
        self.xty = xty
        yty = try design.centered(y, y)
        f = Double(n - k)
        var groups: [(name: String, n: Double, u: [Double], v: Double)] = []
        for (g, moments) in random.moments.enumerated() where moments.n > 0 {
            // Centered group sums, exactly: n Σ_g x − n_g Σ x, over n.
            func centered(_ column: Design.Column, _ groupSum: Int128) throws(StatisticsError) -> Double {
                let exact = try Exact.subtract(
                    Exact.multiply(Int128(n), groupSum), Exact.multiply(Int128(moments.n), design.rawSum(column)))
                return Double(exact) / Double(n) / (design.exponent(column) > 0 ? design.unit : 1)
            }
            var u = [Double(moments.n)]
            for column in design.columns {
                switch column {
                case .dummy(let t, let l): u.append(try centered(column, Int128(random.levelCounts[g][t][l])))
                case .numeric(let i): u.append(try centered(column, moments.sums[i]))
                }
            }
            groups.append((random.groups[g], Double(moments.n), u, try centered(y, moments.sums[0])))
        }
        guard groups.count >= 2 else {
            throw StatisticsError("a random intercept needs at least 2 groups of `\(random.name)` with records")
        }
        self.groups = groups
    }

    /// Everything at one γ.
    struct Evaluation {
        var gamma: Double
        var logLikelihood: Double
        /// dℓ/dγ.
        var derivative: Double
        var m: Cholesky
        var beta: [Double]
        var r: Double
        /// Group residual sums e_g = v_g − u_gᵀβ.
        var residuals: [Double]
    }

    /// ℓ(γ) and ℓ′(γ), or nil where M(γ) is not positive definite.
    func evaluate(_ gamma: Double) -> Evaluation? {
        let k = xtx.size
        var m = xtx
        var mv = xty
        var q = yty
        var logH = 0.0
        for group in groups {
            let w = gamma / (1 + group.n * gamma)
            for i in 0..<k {
                mv[i] -= w * group.u[i] * group.v
                for j in 0..<k { m[i, j] -= w * group.u[i] * group.u[j] }
            }
            q -= w * group.v * group.v
            logH += log1p(group.n * gamma)
        }
        guard let factor = try? Cholesky(m) else { return nil }
        let beta = factor.solve(mv)
        var r = q
        for i in 0..<k { r -= mv[i] * beta[i] }
        guard r > 0 else { return nil }
        var residuals: [Double] = []
        var rPrime = 0.0
        var traceM = 0.0
        var traceH = 0.0
        for group in groups {
            let wPrime = 1 / ((1 + group.n * gamma) * (1 + group.n * gamma))
            var e = group.v
            for i in 0..<k { e -= group.u[i] * beta[i] }
            residuals.append(e)
            rPrime -= wPrime * e * e
            let solved = factor.solve(group.u)
            var c = 0.0
            for i in 0..<k { c += group.u[i] * solved[i] }
            traceM -= wPrime * c
            traceH += group.n / (1 + group.n * gamma)
        }
        let logLikelihood = -0.5 * (f * log(r / f) + logH + factor.logDeterminant + f + f * log(2 * Double.pi))
        let derivative = -0.5 * (f * rPrime / r + traceH + traceM)
        return Evaluation(
            gamma: gamma, logLikelihood: logLikelihood, derivative: derivative, m: factor, beta: beta, r: r,
            residuals: residuals)
    }

    /// ℓ″(γ), from C = UᵀM⁻¹U: r″ = −Σ w″_g e_g² − 2 aᵀCa with a_g = w′_g e_g;
    /// (log|M|)″ = −Σ w″_g C_gg − Σ_gh w′_g w′_h C_gh²; (log|H|)″ = −Σ n_g²/(1 + n_g γ)².
    func secondDerivative(_ at: Evaluation) -> Double {
        let gamma = at.gamma
        let solved = groups.map { at.m.solve($0.u) }
        let count = groups.count
        var c = [Double](repeating: 0, count: count * count)
        for g in 0..<count {
            for h in 0..<count {
                var value = 0.0
                for i in groups[g].u.indices { value += groups[g].u[i] * solved[h][i] }
                c[g * count + h] = value
            }
        }
        let wPrime = groups.map { 1 / ((1 + $0.n * gamma) * (1 + $0.n * gamma)) }
        let wSecond = groups.map { -2 * $0.n / pow(1 + $0.n * gamma, 3) }
        let a = (0..<count).map { wPrime[$0] * at.residuals[$0] }
        var rPrime = 0.0
        var rSecond = 0.0
        var traceMSecond = 0.0
        var traceMM = 0.0
        var logHSecond = 0.0
        for g in 0..<count {
            rPrime -= wPrime[g] * at.residuals[g] * at.residuals[g]
            rSecond -= wSecond[g] * at.residuals[g] * at.residuals[g]
            traceMSecond -= wSecond[g] * c[g * count + g]
            logHSecond -= groups[g].n * groups[g].n / ((1 + groups[g].n * gamma) * (1 + groups[g].n * gamma))
            for h in 0..<count {
                rSecond -= 2 * a[g] * c[g * count + h] * a[h]
                traceMM += wPrime[g] * wPrime[h] * c[g * count + h] * c[g * count + h]
            }
        }
        let r = at.r
        return -0.5 * (f * (rSecond / r - rPrime * rPrime / (r * r)) + logHSecond + traceMSecond - traceMM)
    }

    /// The REML optimum over γ >= 0.
    func optimum() throws(StatisticsError) -> Evaluation {
        let failure = StatisticsError("the REML likelihood of the random intercept cannot be evaluated (singular)")
        guard let zero = evaluate(0) else { throw failure }
        // A grid on log γ from e^-20 to e^12 locates the global maximum.
        var best = zero
        var bestIndex = -1
        var grid: [Evaluation] = []
        for step in 0...64 {
            guard let point = evaluate(exp(-20 + 0.5 * Double(step))) else { continue }
            grid.append(point)
            if point.logLikelihood > best.logLikelihood {
                best = point
                bestIndex = grid.count - 1
            }
        }
        // Group indicators in the column space of X (a fixed term that identifies the group) leave the REML
        // likelihood flat in γ: the group variance is then not identifiable.
        let values = grid.map(\.logLikelihood) + [zero.logLikelihood]
        guard let top = values.max(), let bottom = values.min(), top - bottom > 1e-9 * (1 + abs(top)) else {
            throw StatisticsError(
                "the groups of `\(design.sums.random?.name ?? "")` are determined by the fixed terms: the group "
                    + "variance is not identifiable (drop the fixed term that identifies the group)")
        }
        guard bestIndex < grid.count - 1 || grid.isEmpty else {
            throw StatisticsError(
                "the group variance of the random intercept is unbounded (the residual variance vanishes)")
        }
        // Bracket the root of ℓ′ next to the best point: ℓ′ > 0 at `low`, < 0 at `high`.
        var low: Evaluation
        var high: Evaluation
        if bestIndex < 0 || (bestIndex == 0 && grid[0].derivative < 0) {
            guard zero.derivative > 0 else { return zero }  // the boundary: τ² = 0
            low = zero
            high = grid[0]
        } else if best.derivative > 0 {
            low = best
            high = grid[bestIndex + 1]
        } else {
            low = bestIndex > 0 ? grid[bestIndex - 1] : zero
            high = best
        }
        guard low.derivative >= 0, high.derivative <= 0 else {
            throw StatisticsError("the REML likelihood of the random intercept has no clear maximum (not converged)")
        }
        return try brent(low, high, failure)
    }

    /// Brent's root finding (zeroin) on ℓ′ between `a` (ℓ′ >= 0) and `b` (ℓ′ <= 0), to machine precision in γ.
    private func brent(
        _ a: Evaluation, _ b: Evaluation, _ failure: StatisticsError
    ) throws(StatisticsError) -> Evaluation {
        var a = a
        var b = b
        var c = a
        var d = b.gamma - a.gamma
        var e = d
        for _ in 0..<200 {
            if (b.derivative > 0) == (c.derivative > 0) {
                c = a
                d = b.gamma - a.gamma
                e = d
            }
            if abs(c.derivative) < abs(b.derivative) {
                a = b
                b = c
                c = a
            }
            let tolerance = 2 * Double.ulpOfOne * abs(b.gamma) + 1e-300
            let middle = (c.gamma - b.gamma) / 2
            if abs(middle) <= tolerance || b.derivative == 0 { return b }
            if abs(e) >= tolerance && abs(a.derivative) > abs(b.derivative) {
                let s = b.derivative / a.derivative
                var p: Double
                var q: Double
                if a.gamma == c.gamma {
                    p = 2 * middle * s
                    q = 1 - s
                } else {
                    let qa = a.derivative / c.derivative
                    let r = b.derivative / c.derivative
                    p = s * (2 * middle * qa * (qa - r) - (b.gamma - a.gamma) * (r - 1))
                    q = (qa - 1) * (r - 1) * (s - 1)
                }
                if p > 0 { q = -q } else { p = -p }
                if 2 * p < min(3 * middle * q - abs(tolerance * q), abs(e * q)) {
                    e = d
                    d = p / q
                } else {
                    d = middle
                    e = d
                }
            } else {
                d = middle
                e = d
            }
            a = b
            let next = b.gamma + (abs(d) > tolerance ? d : (middle > 0 ? tolerance : -tolerance))
            guard let evaluation = evaluate(next) else { throw failure }
            b = evaluation
        }
        return b
    }

    /// The fitted model in statsmodels' terms.
    func result() throws(StatisticsError) -> ModelResult.RandomIntercept {
        let best = try optimum()
        let k = xtx.size
        let sigma2 = best.r / f
        let tau2 = best.gamma * sigma2
        // Covariance of the centered coefficients: σ²M⁻¹ + (σ²M⁻¹h)(σ²M⁻¹h)ᵀ / (−ℓ″).
        let inverse = best.m.inverse()
        var h = [Double](repeating: 0, count: k)
        for (g, group) in groups.enumerated() {
            let wPrime = 1 / ((1 + group.n * best.gamma) * (1 + group.n * best.gamma))
            for i in 0..<k { h[i] -= f * wPrime * group.u[i] * best.residuals[g] / best.r }
        }
        var ph = [Double](repeating: 0, count: k)
        for i in 0..<k {
            for j in 0..<k { ph[i] += sigma2 * inverse[i, j] * h[j] }
        }
        let curvature = -secondDerivative(best)
        var covariance = SymmetricMatrix(size: k)
        for i in 0..<k {
            for j in 0..<k {
                covariance[i, j] = sigma2 * inverse[i, j] + (curvature > 0 ? ph[i] * ph[j] / curvature : 0)
            }
        }
        // Back to the uncentered columns: β₀ = ȳ + β̃₀ − x̄ᵀβ̃, so Var β₀ = aᵀ Cov a with a = (1, −x̄).
        let means = design.columns.map { design.mean($0) }
        var estimates = best.beta
        estimates[0] += design.mean(Design.response)
        for i in 1..<k { estimates[0] -= means[i - 1] * best.beta[i] }
        let a = [1.0] + means.map { -$0 }
        var interceptVariance = 0.0
        for i in 0..<k {
            for j in 0..<k { interceptVariance += a[i] * covariance[i, j] * a[j] }
        }
        var terms: [ModelResult.RandomCoefficient] = []
        let z975 = ModelFit.z975
        for index in 0..<k {
            let estimate = estimates[index]
            let se = (index == 0 ? interceptVariance : covariance[index, index]).squareRoot()
            let z = estimate / se
            terms.append(
                ModelResult.RandomCoefficient(
                    name: design.names[index], estimate: estimate, se: se, z: z,
                    p: 2 * Distributions.normalSurvival(abs(z)), ci95: [estimate - z975 * se, estimate + z975 * se]))
        }
        return ModelResult.RandomIntercept(
            group: design.sums.random?.name ?? "", groups: groups.map(\.name), varGroup: tau2, varResid: sigma2,
            icc: tau2 / (tau2 + sigma2), remlLoglik: best.logLikelihood, terms: terms)
    }
}
