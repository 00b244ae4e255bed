/// A main-effects model formula such as `score ~ program + region + prior_score`.
///
/// Grammar: `response ~ term + term ...`, each name 1 to 32 characters of `[a-z0-9_-]`, spaces allowed around `~`
/// and `+`. There are no interactions, transforms or intercept switches: `*`, `:`, `(`, `-1`, `0 +`, `.` and the
/// like are refused, as are duplicate terms and a term equal to the response. Whether a term is numeric or
/// categorical is not part of the formula; ``ModelSums`` says so.
public struct ModelFormula: Sendable, Equatable, Codable {
    /// The response (dependent) variable.
    public let response: String
    /// The terms, in formula order (at least one, no duplicates).
    public let terms: [String]

    /// Parses and validates a formula.
    ///
    /// - Throws: ``StatisticsError`` with a one-line reason for any text outside the grammar above.
    /// - Complexity: O(length of `text`).
    public static func parse(_ text: String) throws(StatisticsError) -> ModelFormula {
        let sides = text.split(separator: "~", omittingEmptySubsequences: false)
        guard sides.count == 2 else {
            throw StatisticsError("formula must have the form `response ~ term + term` with exactly one `~`")
        }
        for forbidden in ["*", ":", "(", ")", "^", "/", "|", "-", ".", "%", "I("] where sides[1].contains(forbidden) {
            if forbidden == "-", sides[1].split(separator: "+").allSatisfy({ isName($0.trimmingSpaces) }) { continue }
            throw StatisticsError(
                "formula term list contains `\(forbidden)`: only main effects `a + b` are supported (no interactions, "
                    + "transforms, or intercept removal)")
        }
        let response = sides[0].trimmingSpaces
        guard isName(response) else {
            throw StatisticsError("formula response must be a name of 1 to 32 characters from [a-z0-9_-]")
        }
        let pieces = sides[1].split(separator: "+", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        var terms: [String] = []
        for piece in pieces {
            guard !piece.isEmpty else { throw StatisticsError("formula has an empty term (check the `+` signs)") }
            guard isName(piece) else {
                if piece.allSatisfy(\.isNumber) {
                    throw StatisticsError("formula term `\(piece)` is a constant: intercept switches are not supported")
                }
                throw StatisticsError(
                    "formula term must be a name of 1 to 32 characters from [a-z0-9_-] (no interactions or transforms)")
            }
            guard piece != response else {
                throw StatisticsError("formula term `\(piece)` is the response itself")
            }
            guard !terms.contains(piece) else { throw StatisticsError("formula term `\(piece)` appears twice") }
            terms.append(piece)
        }
        return ModelFormula(response: response, terms: terms)
    }

    /// The canonical text, `response ~ a + b`, which ``parse(_:)`` maps back to the same formula.
    public var text: String { "\(response) ~ \(terms.joined(separator: " + "))" }

    /// Whether `name` is 1 to 32 characters of `[a-z0-9_-]` and not just digits and dashes (so `1` and `-1` are not
    /// names).
    static func isName(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard (1...32).contains(scalars.count) else { return false }
        guard scalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" })
        else { return false }
        return scalars.contains { ("a"..."z").contains($0) || $0 == "_" }
    }

    private init(response: String, terms: [String]) {
        self.response = response
        self.terms = terms
    }

    /// Decodes `{"response", "terms"}` and validates it as ``parse(_:)`` does.
    ///
    /// - Throws: `DecodingError.dataCorrupted` for a formula ``parse(_:)`` refuses.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let response = try container.decode(String.self, forKey: .response)
        let terms = try container.decode([String].self, forKey: .terms)
        do {
            self = try ModelFormula.parse("\(response) ~ \(terms.joined(separator: " + "))")
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.message))
        }
        guard self.response == response, self.terms == terms else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "formula is not canonical"))
        }
    }

    private enum CodingKeys: String, CodingKey { case response, terms }
}

extension Substring {
    /// The text without leading and trailing spaces.
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
