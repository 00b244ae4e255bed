internal import Foundation

/// Fits a model from its exact sums: ordinary least squares with type II ANOVA, Pearson correlations, Hedges' g for
/// a two-level contrast, and a REML random-intercept model when the sums carry groups.
///
/// The results equal statsmodels' and scipy's on the plaintext records to about 1e-10 relative: cross-products are
/// formed and centered in exact integer arithmetic (see `Design`) before any rounding.
public enum ModelFit {
    /// Fits every statistic the sums allow.
    ///
    /// - Parameters:
    ///   - sums: the decrypted sums of one release.
    ///   - contrast: a categorical term with exactly two levels for Hedges' g, or nil for none.
    /// - Returns: the statistics; `random` is set when `sums.random` is, `hedgesG` when `contrast` is.
    /// - Throws: ``StatisticsError`` when the sums are inconsistent, when n is not above the number of columns, when
    ///   X'X is singular (a level without records, a constant or collinear covariate), when the response is constant,
    ///   when the model fits exactly, when the contrast is not a two-level categorical term, or when any result would
    ///   not be finite.
    /// - Complexity: O(k³ + G²k) for k columns and G groups, plus O(k² + G k²) per REML iteration; independent of n.
    public static func fit(_ sums: ModelSums, contrast: String? = nil) throws(StatisticsError) -> ModelResult {
        let design = try Design(sums)
        let ols = try OrdinaryLeastSquares(design)
        var result = ModelResult(
            model: ols.summary, anova: try ols.anova(), correlations: try correlations(design))
        if let contrast { result.hedgesG = try hedgesG(design, contrast: contrast) }
        if sums.random != nil { result.random = try RandomInterceptModel(design).result() }
        try checkFinite(result)
        return result
    }

    /// The z with P(Z >= z) = 0.025.
    static let z975 = Distributions.normalUpperQuantile(0.025)

    /// Pearson's r for every pair of numeric variables, with scipy's exact p-value and Fisher interval.
    static func correlations(_ design: Design) throws(StatisticsError) -> [ModelResult.Correlation] {
        let names = design.sums.numeric
        let n = design.n
        guard n >= 4 else { throw StatisticsError("correlations need at least 4 records (n = \(n))") }
        var rows: [ModelResult.Correlation] = []
        for i in names.indices {
            for j in (i + 1)..<max(names.count, i + 1) {
                let (a, b) = (Design.Column.numeric(i), Design.Column.numeric(j))
                let sab = Double(try design.exactCentered(a, b))
                let saa = Double(try design.exactCentered(a, a))
                let sbb = Double(try design.exactCentered(b, b))
                guard saa > 0, sbb > 0 else {
                    throw StatisticsError("`\(saa > 0 ? names[j] : names[i])` is constant: no correlation")
                }
                let r = max(-1, min(1, sab / (saa.squareRoot() * sbb.squareRoot())))
                guard abs(r) < 1 else {
                    throw StatisticsError("`\(names[i])` and `\(names[j])` are perfectly correlated")
                }
                let p = Distributions.incompleteBeta(
                    x: (1 - r) * (1 + r), complement: r * r, a: Double(n - 2) / 2, b: 0.5)
                let z = atanh(r)
                let half = z975 / Double(n - 3).squareRoot()
                rows.append(
                    ModelResult.Correlation(
                        x: names[i], y: names[j], n: n, r: r, p: p, ci95: [tanh(z - half), tanh(z + half)]))
            }
        }
        return rows
    }

    /// Hedges' g of the response between the two levels of `contrast` (see ``ModelResult/HedgesG``).
    static func hedgesG(_ design: Design, contrast: String) throws(StatisticsError) -> ModelResult.HedgesG {
        let sums = design.sums
        guard let t = sums.categorical.firstIndex(where: { $0.name == contrast }) else {
            throw StatisticsError("contrast `\(contrast)` is not a categorical term of the model")
        }
        let levels = sums.categorical[t].levels
        guard levels.count == 2 else {
            throw StatisticsError(
                "contrast `\(contrast)` has \(levels.count) levels: Hedges' g needs a term with exactly 2")
        }
        let (m0, m1) = (sums.levels[t][0], sums.levels[t][1])
        let (n0, n1) = (m0.n, m1.n)
        let df = n0 + n1 - 2
        guard n0 >= 1, n1 >= 1, df >= 2 else {
            throw StatisticsError("Hedges' g needs records in both levels and at least 4 in all")
        }
        // Exact: n0 n1 (mean1 − mean0) = n0 S1 − n1 S0, and n_l SS_l = n_l Q_l − S_l².
        let difference = try Exact.subtract(
            Exact.multiply(Int128(n0), m1.sums[0]), Exact.multiply(Int128(n1), m0.sums[0]))
        let ss0 = try Exact.subtract(
            Exact.multiply(Int128(n0), m0.product(0, 0)), Exact.multiply(m0.sums[0], m0.sums[0]))
        let ss1 = try Exact.subtract(
            Exact.multiply(Int128(n1), m1.product(0, 0)), Exact.multiply(m1.sums[0], m1.sums[0]))
        let meanDifference = Double(difference) / (Double(n0) * Double(n1)) / design.unit
        let pooledVariance = (Double(ss0) / Double(n0) + Double(ss1) / Double(n1)) / Double(df)
            / (design.unit * design.unit)
        guard pooledVariance > 0 else {
            throw StatisticsError("the response is constant within both levels of `\(contrast)`: no pooled SD")
        }
        let half = Double(df) / 2
        let j = exp(Distributions.logGamma(half) - Distributions.logGamma(half - 0.5)) / half.squareRoot()
        let g = j * meanDifference / pooledVariance.squareRoot()
        let total = Double(n0 + n1)
        let se = (total / (Double(n0) * Double(n1)) + g * g / (2 * total)).squareRoot()
        return ModelResult.HedgesG(
            term: contrast, levels: levels, n: [n0, n1], g: g, se: se, ci95: [g - z975 * se, g + z975 * se])
    }

    /// Refuses a result holding a NaN or an infinity anywhere.
    static func checkFinite(_ result: ModelResult) throws(StatisticsError) {
        var values = [result.model.r2, result.model.adjR2, result.model.f, result.model.fP, result.model.sdResponse]
        for term in result.model.terms {
            values += [term.estimate, term.se, term.t, term.p] + term.ci95 + [term.stdEstimate ?? 0]
        }
        for row in result.anova { values += [row.sumSq, row.F ?? 0, row.p ?? 0] }
        for row in result.correlations { values += [row.r, row.p] + row.ci95 }
        if let g = result.hedgesG { values += [g.g, g.se] + g.ci95 }
        if let random = result.random {
            values += [random.varGroup, random.varResid, random.icc, random.remlLoglik]
            for term in random.terms { values += [term.estimate, term.se, term.z, term.p] + term.ci95 }
        }
        guard values.allSatisfy(\.isFinite) else {
            throw StatisticsError("the model gives non-finite statistics (the data cannot support it)")
        }
    }
}
