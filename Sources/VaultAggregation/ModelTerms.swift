import Foundation

/// The formula's response and terms, as the engine needs them to plan a model.
///
/// A stand-in for `VaultStatistics.ModelFormula` until that module lands (then this file goes): it accepts exactly
/// `response ~ term + term + …` with identifier terms, which is all the engine plans.
struct ModelTerms: Sendable, Equatable {
    var response: String
    var terms: [String]

    /// `response ~ a + b`.
    var normalized: String { "\(response) ~ " + (terms.isEmpty ? "1" : terms.joined(separator: " + ")) }

    /// The longest formula accepted, and the most terms.
    static let maxLength = 2_000
    static let maxTerms = 64

    /// Parses `response ~ a + b + …`.
    ///
    /// - Throws: ``AggregationError`` `.invalidQuery` naming what is wrong.
    static func parse(_ text: String) throws(AggregationError) -> ModelTerms {
        func fail(_ message: String) -> AggregationError {
            AggregationError(.invalidQuery, "--model: \(message) (write it like \"score ~ program + region + prior_score\")")
        }
        guard text.utf8.count <= maxLength else { throw fail("the formula is longer than \(maxLength) characters") }
        let sides = text.split(separator: "~", omittingEmptySubsequences: false)
        guard sides.count == 2 else { throw fail("a formula has exactly one '~'") }
        let response = sides[0].trimmingCharacters(in: .whitespaces)
        guard isIdentifier(response) else { throw fail("the response must be a name") }
        var terms: [String] = []
        for part in sides[1].split(separator: "+", omittingEmptySubsequences: false) {
            let term = part.trimmingCharacters(in: .whitespaces)
            if term == "1" && terms.isEmpty && sides[1].trimmingCharacters(in: .whitespaces) == "1" { break }
            guard isIdentifier(term) else {
                throw fail("every term must be a name (interactions and transformations are not supported)")
            }
            guard !terms.contains(term), term != response else { throw fail("the term '\(term)' appears twice") }
            terms.append(term)
        }
        guard terms.count <= maxTerms else { throw fail("at most \(maxTerms) terms") }
        return ModelTerms(response: response, terms: terms)
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.utf8.count <= 64,
              first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first)
        else { return false }
        return text.unicodeScalars.allSatisfy {
            $0 == "_" || $0 == "-" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
        }
    }
}
