/// The statistics of one model release, as statsmodels and scipy would report them on the plaintext.
///
/// JSON keys (``json()``): `model`, `anova`, `correlations`, and when asked `hedges_g` and `random`. Every number is
/// finite: ``ModelFit/fit(_:contrast:)`` refuses rather than returning a NaN or an infinity. Values that do not
/// apply (the Intercept's SD-unit estimate, the Residual row's F and p) are JSON `null`.
public struct ModelResult: Sendable, Equatable, Codable {
    /// The ordinary least squares fit (statsmodels `ols(formula).fit()`).
    public var model: Summary
    /// Type II ANOVA (statsmodels `anova_lm(fit, typ=2)`): one row per term in column order, then `Residual`.
    public var anova: [AnovaRow]
    /// Pearson correlations (scipy `pearsonr`) of every pair of numeric variables, response included.
    public var correlations: [Correlation]
    /// Hedges' g for a two-level categorical term, when a contrast was asked for.
    public var hedgesG: HedgesG?
    /// The random-intercept model (statsmodels `MixedLM ... fit(reml=True)`), when the sums have groups.
    public var random: RandomIntercept?

    /// Creates a result.
    public init(
        model: Summary, anova: [AnovaRow], correlations: [Correlation], hedgesG: HedgesG? = nil,
        random: RandomIntercept? = nil
    ) {
        self.model = model
        self.anova = anova
        self.correlations = correlations
        self.hedgesG = hedgesG
        self.random = random
    }

    enum CodingKeys: String, CodingKey {
        case model, anova, correlations, hedgesG = "hedges_g", random
    }

    /// The OLS model summary.
    public struct Summary: Sendable, Equatable, Codable {
        /// Records used.
        public var n: Int
        /// n − number of columns.
        public var dfResid: Int
        /// Number of columns − 1 (the intercept does not count).
        public var dfModel: Int
        /// R² = 1 − SSR / centered TSS.
        public var r2: Double
        /// 1 − (1 − R²)(n − 1) / df_resid.
        public var adjR2: Double
        /// The overall F statistic (all slopes zero).
        public var f: Double
        /// Its p-value, P(F(df_model, df_resid) >= f).
        public var fP: Double
        /// The response's standard deviation (ddof = 1).
        public var sdResponse: Double
        /// One row per column, in patsy order: Intercept, treatment dummies, numeric covariates.
        public var terms: [Coefficient]

        /// Creates a summary.
        public init(
            n: Int, dfResid: Int, dfModel: Int, r2: Double, adjR2: Double, f: Double, fP: Double,
            sdResponse: Double, terms: [Coefficient]
        ) {
            self.n = n
            self.dfResid = dfResid
            self.dfModel = dfModel
            self.r2 = r2
            self.adjR2 = adjR2
            self.f = f
            self.fP = fP
            self.sdResponse = sdResponse
            self.terms = terms
        }

        enum CodingKeys: String, CodingKey {
            case n, dfResid = "df_resid", dfModel = "df_model", r2, adjR2 = "adj_r2", f, fP = "f_p"
            case sdResponse = "sd_response", terms
        }
    }

    /// One OLS coefficient.
    public struct Coefficient: Sendable, Equatable, Codable {
        /// Column name as patsy writes it: `Intercept`, `sex[T.M]`, `prior_score`.
        public var name: String
        /// The estimate.
        public var estimate: Double
        /// Its standard error.
        public var se: Double
        /// estimate / se.
        public var t: Double
        /// Two-sided p-value with df_resid degrees of freedom.
        public var p: Double
        /// 95% confidence interval, estimate ∓ t(0.975, df_resid) se.
        public var ci95: [Double]
        /// The estimate in SD units: × sd(x)/sd(y) for a numeric column, / sd(y) for a dummy; nil for the Intercept.
        public var stdEstimate: Double?

        /// Creates a coefficient row.
        public init(
            name: String, estimate: Double, se: Double, t: Double, p: Double, ci95: [Double], stdEstimate: Double?
        ) {
            self.name = name
            self.estimate = estimate
            self.se = se
            self.t = t
            self.p = p
            self.ci95 = ci95
            self.stdEstimate = stdEstimate
        }

        enum CodingKeys: String, CodingKey { case name, estimate, se, t, p, ci95, stdEstimate = "std_estimate" }

        /// Encodes `std_estimate` as `null` for the Intercept (rather than omitting the key).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(estimate, forKey: .estimate)
            try container.encode(se, forKey: .se)
            try container.encode(t, forKey: .t)
            try container.encode(p, forKey: .p)
            try container.encode(ci95, forKey: .ci95)
            try container.encode(stdEstimate, forKey: .stdEstimate)
        }
    }

    /// One row of the type II ANOVA table.
    public struct AnovaRow: Sendable, Equatable, Codable {
        /// The term (all its columns together), or `Residual`.
        public var term: String
        /// Sum of squares the term explains beyond all the other terms (for `Residual`: the SSR).
        public var sumSq: Double
        /// Degrees of freedom: the term's number of columns (for `Residual`: df_resid).
        public var df: Int
        /// F = (sum_sq / df) / (SSR / df_resid); nil for `Residual`.
        public var F: Double?
        /// P(F(df, df_resid) >= F); nil for `Residual`.
        public var p: Double?

        /// Creates an ANOVA row.
        public init(term: String, sumSq: Double, df: Int, F: Double?, p: Double?) {
            self.term = term
            self.sumSq = sumSq
            self.df = df
            self.F = F
            self.p = p
        }

        enum CodingKeys: String, CodingKey { case term, sumSq = "sum_sq", df, F, p }

        /// Encodes `F` and `p` as `null` for the Residual row.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(term, forKey: .term)
            try container.encode(sumSq, forKey: .sumSq)
            try container.encode(df, forKey: .df)
            try container.encode(F, forKey: .F)
            try container.encode(p, forKey: .p)
        }
    }

    /// A Pearson correlation with its test and Fisher confidence interval.
    public struct Correlation: Sendable, Equatable, Codable {
        /// The first variable.
        public var x: String
        /// The second variable.
        public var y: String
        /// Records used.
        public var n: Int
        /// Pearson's r.
        public var r: Double
        /// Two-sided p-value of r = 0 (t test with n − 2 degrees of freedom, as scipy's exact beta form).
        public var p: Double
        /// tanh(atanh(r) ∓ z(0.975) / √(n − 3)).
        public var ci95: [Double]

        /// Creates a correlation row.
        public init(x: String, y: String, n: Int, r: Double, p: Double, ci95: [Double]) {
            self.x = x
            self.y = y
            self.n = n
            self.r = r
            self.p = p
            self.ci95 = ci95
        }
    }

    /// Hedges' g: the bias-corrected standardized mean difference of the response between the two levels of a
    /// categorical term (other level minus baseline).
    ///
    /// g = J · (mean₁ − mean₀) / s_pooled, with s_pooled² = (SS₀ + SS₁) / df, df = n₀ + n₁ − 2, and the exact
    /// correction J = Γ(df/2) / (√(df/2) · Γ((df − 1)/2)); se = √((n₀ + n₁)/(n₀ n₁) + g² / (2 (n₀ + n₁))), and the
    /// interval is g ∓ z(0.975) · se. (Hedges & Olkin 1985; the large-sample variance as in Borenstein et al. 2009.)
    public struct HedgesG: Sendable, Equatable, Codable {
        /// The categorical term.
        public var term: String
        /// `[baseline, other]`.
        public var levels: [String]
        /// `[n₀, n₁]`.
        public var n: [Int]
        /// Hedges' g.
        public var g: Double
        /// Its large-sample standard error.
        public var se: Double
        /// g ∓ z(0.975) se.
        public var ci95: [Double]

        /// Creates a Hedges' g row.
        public init(term: String, levels: [String], n: [Int], g: Double, se: Double, ci95: [Double]) {
            self.term = term
            self.levels = levels
            self.n = n
            self.g = g
            self.se = se
            self.ci95 = ci95
        }
    }

    /// The random-intercept linear mixed model fitted by REML.
    public struct RandomIntercept: Sendable, Equatable, Codable {
        /// The grouping variable.
        public var group: String
        /// The groups, sorted.
        public var groups: [String]
        /// τ², the variance of the group intercepts (statsmodels `cov_re`).
        public var varGroup: Double
        /// σ², the residual variance (statsmodels `scale`).
        public var varResid: Double
        /// τ² / (τ² + σ²).
        public var icc: Double
        /// The maximized REML log-likelihood (statsmodels `llf`).
        public var remlLoglik: Double
        /// Fixed effects in column order, with Wald z tests.
        public var terms: [RandomCoefficient]

        /// Creates a random-intercept summary.
        public init(
            group: String, groups: [String], varGroup: Double, varResid: Double, icc: Double, remlLoglik: Double,
            terms: [RandomCoefficient]
        ) {
            self.group = group
            self.groups = groups
            self.varGroup = varGroup
            self.varResid = varResid
            self.icc = icc
            self.remlLoglik = remlLoglik
            self.terms = terms
        }

        enum CodingKeys: String, CodingKey {
            case group, groups, varGroup = "var_group", varResid = "var_resid", icc, remlLoglik = "reml_loglik", terms
        }
    }

    /// One fixed effect of the mixed model.
    public struct RandomCoefficient: Sendable, Equatable, Codable {
        /// Column name, as in ``Coefficient/name``.
        public var name: String
        /// The GLS estimate at the REML variance estimates.
        public var estimate: Double
        /// Standard error from the inverse observed information of the profile REML likelihood, as statsmodels.
        public var se: Double
        /// estimate / se.
        public var z: Double
        /// Two-sided normal p-value.
        public var p: Double
        /// estimate ∓ z(0.975) se.
        public var ci95: [Double]

        /// Creates a fixed-effect row.
        public init(name: String, estimate: Double, se: Double, z: Double, p: Double, ci95: [Double]) {
            self.name = name
            self.estimate = estimate
            self.se = se
            self.z = z
            self.p = p
            self.ci95 = ci95
        }
    }
}
