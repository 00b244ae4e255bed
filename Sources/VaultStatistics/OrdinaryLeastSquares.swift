internal import Foundation

/// Ordinary least squares from the exact centered cross-products of a ``Design``.
///
/// With the intercept in the model, the slopes solve S_xx β = S_xy (centered sums of squares and products), the
/// intercept is ȳ − x̄ᵀβ, and Cov(β) = σ² S_xx⁻¹ with σ² = SSR / (n − k); Var(intercept) = σ² (1/n + x̄ᵀ S_xx⁻¹ x̄).
/// These are the same numbers statsmodels' `OLS` gets from the full design matrix.
struct OrdinaryLeastSquares {
    let design: Design
    /// The slopes (non-intercept columns).
    let slopes: [Double]
    /// S_xx⁻¹.
    let inverse: SymmetricMatrix
    /// The residual sum of squares.
    let ssr: Double
    /// The centered total sum of squares of the response.
    let tss: Double
    /// n − k.
    let dfResid: Int
    /// The OLS summary with its coefficient table.
    let summary: ModelResult.Summary

    init(_ design: Design) throws(StatisticsError) {
        self.design = design
        let sums = design.sums
        let n = design.n
        let k = design.columns.count + 1
        guard n > k else {
            throw StatisticsError(
                "\(n) records for \(k) model columns: a model needs more records than columns (df_resid >= 1)")
        }
        let y = Design.response
        guard try design.exactCentered(y, y) > 0 else {
            throw StatisticsError("the response `\(sums.formula.response)` is constant over the records used")
        }
        for (t, term) in sums.categorical.enumerated() {
            for (l, level) in term.levels.enumerated() where sums.levels[t][l].n == 0 {
                throw StatisticsError("level `\(level)` of `\(term.name)` has no records: X'X is singular")
            }
        }
        let m = design.columns.count
        var sxx = SymmetricMatrix(size: m)
        var sxy = [Double](repeating: 0, count: m)
        for i in 0..<m {
            for j in 0...i {
                let value = try design.centered(design.columns[i], design.columns[j])
                sxx[i, j] = value
                sxx[j, i] = value
            }
            sxy[i] = try design.centered(design.columns[i], y)
        }
        let cholesky: Cholesky
        do throws(Cholesky.Failure) {
            cholesky = try Cholesky(sxx)
        } catch {
            switch error {
            case .zeroColumn(let i):
                throw StatisticsError("\(design.describe(i)) is constant over the records used: X'X is singular")
            case .collinear(let i):
                throw StatisticsError(
                    "\(design.describe(i)) is a linear combination of the columns before it (collinear): "
                        + "X'X is singular")
            }
        }
        slopes = cholesky.solve(sxy)
        inverse = cholesky.inverse()
        tss = try design.centered(y, y)
        var explained = 0.0
        for i in 0..<m { explained += slopes[i] * sxy[i] }
        ssr = tss - explained
        guard ssr > 1e-12 * tss else {
            throw StatisticsError("the model fits the response exactly (no residual variance): nothing to test")
        }
        dfResid = n - k
        let sigma2 = ssr / Double(dfResid)
        let means = design.columns.map { design.mean($0) }
        var intercept = design.mean(y)
        for i in 0..<m { intercept -= means[i] * slopes[i] }
        var interceptVariance = 1 / Double(n)
        for i in 0..<m {
            for j in 0..<m { interceptVariance += means[i] * inverse[i, j] * means[j] }
        }
        let sdY = (tss / Double(n - 1)).squareRoot()
        let critical = Distributions.studentTUpperQuantile(0.025, df: Double(dfResid))
        var terms: [ModelResult.Coefficient] = []
        let estimates = [intercept] + slopes
        for index in 0..<k {
            let estimate = estimates[index]
            let variance = index == 0 ? interceptVariance : inverse[index - 1, index - 1]
            let se = (sigma2 * variance).squareRoot()
            let t = estimate / se
            var standardized: Double?
            if index > 0 {
                switch design.columns[index - 1] {
                case .dummy: standardized = estimate / sdY
                case .numeric:
                    standardized = estimate * (sxx[index - 1, index - 1] / Double(n - 1)).squareRoot() / sdY
                }
            }
            terms.append(
                ModelResult.Coefficient(
                    name: design.names[index], estimate: estimate, se: se, t: t,
                    p: Distributions.studentTTwoSided(t, df: Double(dfResid)),
                    ci95: [estimate - critical * se, estimate + critical * se], stdEstimate: standardized))
        }
        let dfModel = k - 1
        let f = (explained / Double(dfModel)) / sigma2
        summary = ModelResult.Summary(
            n: n, dfResid: dfResid, dfModel: dfModel, r2: 1 - ssr / tss,
            adjR2: 1 - (ssr / tss) * Double(n - 1) / Double(dfResid), f: f,
            fP: Distributions.fSurvival(f, d1: Double(dfModel), d2: Double(dfResid)), sdResponse: sdY, terms: terms)
    }

    /// The type II ANOVA table: for a main-effects model, each term's sum of squares given all the other terms is
    /// the Wald form β_Tᵀ [(S_xx⁻¹)_TT]⁻¹ β_T (statsmodels' `anova_lm(typ=2)` computes it as F · df · σ²).
    func anova() throws(StatisticsError) -> [ModelResult.AnovaRow] {
        let sigma2 = ssr / Double(dfResid)
        var rows: [ModelResult.AnovaRow] = []
        for term in design.terms {
            let indices = Array(term.range)
            var block = SymmetricMatrix(size: indices.count)
            for (a, i) in indices.enumerated() {
                for (b, j) in indices.enumerated() { block[a, b] = inverse[i, j] }
            }
            let beta = indices.map { slopes[$0] }
            guard let factor = try? Cholesky(block, tolerance: 0) else {
                throw StatisticsError("the covariance of `\(term.name)` is singular")
            }
            let solved = factor.solve(beta)
            var sumSq = 0.0
            for a in beta.indices { sumSq += beta[a] * solved[a] }
            let df = indices.count
            let f = sumSq / Double(df) / sigma2
            rows.append(
                ModelResult.AnovaRow(
                    term: term.name, sumSq: sumSq, df: df, F: f,
                    p: Distributions.fSurvival(f, d1: Double(df), d2: Double(dfResid))))
        }
        rows.append(ModelResult.AnovaRow(term: "Residual", sumSq: ssr, df: dfResid, F: nil, p: nil))
        return rows
    }
}
