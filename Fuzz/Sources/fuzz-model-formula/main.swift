// Model formulas (`eduvault analyze --model`, and the formula inside a model release).
//
// Path: ModelFormula.parse (the statistics' parser), and ModelSpec's parse of the command-line forms.
// Properties: a formula that parses has a response and distinct terms, none equal to the response; its canonical
// text parses back to the same formula; the command line accepts exactly what the parser accepts, with the same
// terms in the same order.
import Foundation
import FuzzDriver
import FuzzSupport
import VaultAggregation
import VaultStatistics

Fuzz.run { data in
    guard let text = String(validating: data, as: UTF8.self) else { return }
    let parsed = try? ModelFormula.parse(text)
    let spec = try? ModelSpec(model: text, whereClauses: [], random: nil, contrast: nil)
    Fuzz.require((parsed == nil) == (spec == nil), "the command line and the parser disagree on a formula")
    guard let formula = parsed else { return }
    Fuzz.require(!formula.terms.isEmpty && Set(formula.terms).count == formula.terms.count, "duplicate or no terms")
    Fuzz.require(!formula.terms.contains(formula.response), "a term equals the response")
    Fuzz.require((try? ModelFormula.parse(formula.text)) == formula, "the canonical text parses differently")
    if let spec { Fuzz.require((try? ModelFormula.parse(spec.formula)) == formula, "the spec changed the formula") }
}
