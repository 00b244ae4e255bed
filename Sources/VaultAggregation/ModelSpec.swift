import Foundation

/// What a bureau asks of `eduvault analyze`: a model formula, equality filters, an optional random intercept and an
/// optional two-level contrast.
///
/// The formula is statsmodels' (`score ~ program + region + prior_score`): the response must be `score`; a term is
/// a numeric covariate the schema declares, or a categorical attribute (`school`, `subject`, a record attribute, a
/// school attribute), expanded to treatment dummies with the first level alphabetically as the baseline.
public struct ModelSpec: Sendable, Codable, Equatable {
    /// The formula as given (whitespace normalised).
    public var formula: String
    /// Equality filters, attribute → value (as `query --where`).
    public var filters: [String: String]
    /// The random-intercept grouping: `school` or a school attribute.
    public var random: String?
    /// A two-level categorical term of the model for Hedges' g.
    public var contrast: String?

    /// Makes a spec.
    public init(formula: String, filters: [String: String] = [:], random: String? = nil, contrast: String? = nil) {
        self.formula = formula
        self.filters = filters
        self.random = random
        self.contrast = contrast
    }

    /// Parses the command-line forms `--model F`, `--where a=v` (repeatable), `--random g` and `--contrast t`.
    ///
    /// - Throws: ``AggregationError`` `.invalidQuery` for a malformed formula or filter.
    public init(model: String, whereClauses: [String], random: String?, contrast: String?) throws(AggregationError) {
        let filters = try Query(byList: "", whereClauses: whereClauses, contrast: nil).filters
        let formula = try ModelTerms.parse(model)
        self.init(formula: formula.normalized, filters: filters,
                  random: random?.trimmingCharacters(in: .whitespaces).lowercased().nilIfEmpty,
                  contrast: contrast?.trimmingCharacters(in: .whitespaces).nilIfEmpty)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
