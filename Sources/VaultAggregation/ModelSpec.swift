import Foundation
import VaultStatistics

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
        let formula = try ModelSpec.parseFormula(model)
        self.init(
            formula: formula.text, filters: filters,
            random: random?.trimmingCharacters(in: .whitespaces).lowercased().nilIfEmpty,
            contrast: contrast?.trimmingCharacters(in: .whitespaces).nilIfEmpty)
    }
}

extension ModelSpec {
    /// The formula's response and terms (`VaultStatistics.ModelFormula`: main effects only).
    ///
    /// - Throws: ``AggregationError`` `.invalidQuery` naming what is wrong.
    static func parseFormula(_ text: String) throws(AggregationError) -> ModelFormula {
        guard text.utf8.count <= 4_000 else {
            throw AggregationError(.invalidQuery, "--model: the formula is too long")
        }
        do { return try ModelFormula.parse(text) } catch {
            throw AggregationError(
                .invalidQuery,
                "--model: \(error.message) (write it like "
                    + "\"score ~ program + region + prior_score\")")
        }
    }

    /// Whether `name` can be a term, group or product part: `[a-z0-9_-]{1,32}`.
    static func isName(_ name: String) -> Bool {
        (1...32).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
