import Primitives
public import VaultModel
import Yams

/// The schema file `eduvault vault init --schema FILE` reads: a YAML mapping that declares the score scale and bounds,
/// subjects, per-record attributes and numeric covariates of a new vault.
///
/// ```yaml
/// scale: 1                 # decimal places of scores and covariates (0–6); default 1
/// min_score: 0             # decimals at that scale; defaults 0 and 100
/// max_score: 100
/// subjects: [math, chinese]          # optional; any subject token when absent
/// attributes:                        # optional; default grade, term, sex (F, M), residence (urban, rural)
///   - name: grade
///   - name: sex
///     allowed_values: [F, M]
/// covariates:                        # optional, at most 8
///   - {name: prior_score, min: 0, max: 100}
///   - {name: absences, min: 0, max: 93}
/// ```
///
/// Decoding is strict, as for policies: unknown keys are refused at every level; numbers are plain decimals (no YAML
/// 1.1 hex, octal or base-60 forms); bounds are parsed at the file's `scale` with the same fixed-point rules as
/// scores; the file is at most 64 KiB with at most ``Schema/maxListed`` subjects, attributes or values and
/// ``Schema/maxCovariates`` covariates; the result is validated as every `Schema` is. `slot_bits` (default 96) may be
/// given; slots per record stay two (x and x²) for ciphertext 0.
public enum SchemaFile {
    /// The largest schema file read: 64 KiB (a real one is a few hundred bytes).
    public static let maxFileBytes = 64 * 1024

    static let topKeys: Set<String> = ["scale", "min_score", "max_score", "slot_bits", "subjects", "attributes",
                                       "covariates"]

    /// Parses and validates a schema file.
    ///
    /// - Throws: `PolicyError` (`.malformedYAML`, `.invalidValue`, `.missingField`) naming the field at fault, never
    ///   echoing a value.
    public static func parse(_ bytes: [UInt8]) throws(PolicyError) -> Schema {
        guard bytes.count <= maxFileBytes else {
            throw PolicyError(.malformedYAML, "the schema file is larger than \(maxFileBytes / 1024) KiB")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PolicyError(.malformedYAML, "the schema file is not UTF-8 text")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw PolicyError(.malformedYAML, "the schema file is not valid YAML")
        }
        guard let root = node, let mapping = root.mapping else {
            throw PolicyError(.malformedYAML, "the schema file must be a YAML mapping")
        }
        try checkKeys(mapping, allowed: topKeys, in: "the schema file")
        let scale = try int(root["scale"], "scale", default: 1, range: 0...6)
        let minScore = try fixed(root["min_score"], "min_score", scale: scale, default: 0)
        let maxScore = try fixed(root["max_score"], "max_score", scale: scale, default: 100 * pow10(scale))
        let slotBits = try int(root["slot_bits"], "slot_bits", default: 96, range: 16...1024)
        var subjects: [String]?
        if let node = root["subjects"] {
            subjects = try strings(node, "subjects")
        }
        var attributes = Schema.defaultAttributes
        if let node = root["attributes"] {
            guard let items = node.sequence else { throw invalid("'attributes' must be a list") }
            guard items.count <= Schema.maxListed else {
                throw invalid("'attributes' lists more than \(Schema.maxListed) attributes")
            }
            attributes = []
            for item in items {
                guard let fields = item.mapping else { throw invalid("every attribute must be a mapping") }
                try checkKeys(fields, allowed: ["name", "allowed_values"], in: "an attribute")
                let name = try string(item["name"], "an attribute's 'name'")
                let allowed = try item["allowed_values"].map { (n: Node) throws(PolicyError) -> [String] in
                    try strings(n, "attribute '\(name)': 'allowed_values'")
                }
                attributes.append(Schema.Attribute(name: name, allowedValues: allowed))
            }
        }
        var covariates: [Schema.Covariate] = []
        if let node = root["covariates"] {
            guard let items = node.sequence else { throw invalid("'covariates' must be a list") }
            guard items.count <= Schema.maxCovariates else {
                throw invalid("a schema declares at most \(Schema.maxCovariates) covariates (the products per record "
                              + "grow quadratically with them)")
            }
            for item in items {
                guard let fields = item.mapping else { throw invalid("every covariate must be a mapping") }
                try checkKeys(fields, allowed: ["name", "min", "max"], in: "a covariate")
                let name = try string(item["name"], "a covariate's 'name'")
                guard Schema.isCovariateName(name) else { throw invalid("covariate names must match [a-z0-9_]{1,32}") }
                guard let minNode = item["min"], let maxNode = item["max"] else {
                    throw PolicyError(.missingField, "covariate '\(name)' needs 'min' and 'max'")
                }
                covariates.append(
                    Schema.Covariate(
                        name: name, min: try fixed(minNode, "covariate '\(name)': 'min'", scale: scale, default: 0),
                        max: try fixed(maxNode, "covariate '\(name)': 'max'", scale: scale, default: 0)))
            }
        }
        do {
            return try Schema(
                scale: scale, minScore: minScore, maxScore: maxScore, slotBits: slotBits, slotCount: 2,
                subjects: subjects, attributes: attributes, covariates: covariates)
        } catch {
            throw invalid(error.message)
        }
    }

    /// The schema as a schema file that ``parse(_:)`` reads back to an equal `Schema` (every string quoted, bounds
    /// as decimals at the schema's scale).
    ///
    /// - Precondition: `schema.slotCount` is 2 (what a schema file declares).
    public static func encode(_ schema: Schema) -> String {
        func quoted(_ text: String) -> String { "\"" + text + "\"" }  // tokens: no quote, backslash or control
        var lines = [
            "scale: \(schema.scale)",
            "min_score: \(schema.formatScore(schema.minScore))",
            "max_score: \(schema.formatScore(schema.maxScore))",
            "slot_bits: \(schema.slotBits)",
        ]
        if let subjects = schema.subjects {
            lines.append("subjects: [" + subjects.map(quoted).joined(separator: ", ") + "]")
        }
        lines.append(schema.attributes.isEmpty ? "attributes: []" : "attributes:")
        for attribute in schema.attributes {
            lines.append("  - name: \(quoted(attribute.name))")
            if let allowed = attribute.allowedValues {
                lines.append("    allowed_values: [" + allowed.map(quoted).joined(separator: ", ") + "]")
            }
        }
        if !schema.covariates.isEmpty {
            lines.append("covariates:")
            for covariate in schema.covariates {
                lines.append("  - name: \(quoted(covariate.name))")
                lines.append("    min: \(schema.formatScore(covariate.min))")
                lines.append("    max: \(schema.formatScore(covariate.max))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses one `--covariate NAME:MIN:MAX` flag (MIN and MAX decimals at `scale`, like scores).
    ///
    /// - Throws: `.invalidValue` naming the covariate; the schema validates the rest (bounds, collisions).
    public static func covariate(flag: String, scale: Int) throws(PolicyError) -> Schema.Covariate {
        let parts = flag.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw invalid("--covariate takes NAME:MIN:MAX, e.g. prior_score:0:100")
        }
        let name = parts[0]
        guard Schema.isCovariateName(name) else { throw invalid("covariate names must match [a-z0-9_]{1,32}") }
        func bound(_ text: String, _ which: String) throws(PolicyError) -> Int {
            do { return try Schema.parseFixedPoint(text, scale: scale) } catch {
                throw invalid("covariate '\(name)': \(which) \(error.message)")
            }
        }
        return Schema.Covariate(name: name, min: try bound(parts[1], "MIN"), max: try bound(parts[2], "MAX"))
    }

    // MARK: - Fields

    private static func invalid(_ message: String) -> PolicyError { PolicyError(.invalidValue, message) }

    private static func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { value, _ in value * 10 } }

    private static func checkKeys(_ mapping: Node.Mapping, allowed: Set<String>, in place: String) throws(PolicyError) {
        var seen = Set<String>()
        for key in mapping.keys {
            guard let name = key.scalar?.string, allowed.contains(name) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw invalid("\(place) has an unknown key; known keys are \(known)")
            }
            guard seen.insert(name).inserted else { throw invalid("\(place): '\(name)' appears twice") }
        }
    }

    private static func scalarText(_ node: Node) -> String? {
        guard let scalar = node.scalar else { return nil }
        return scalar.string
    }

    private static func int(_ node: Node?, _ key: String, default value: Int, range: ClosedRange<Int>)
        throws(PolicyError) -> Int
    {
        guard let node else { return value }
        guard let scalar = node.scalar, scalar.style == .plain || scalar.style == .any else {
            throw invalid("'\(key)' must be a plain integer")
        }
        let digits = Array(scalar.string.utf8)
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let parsed = Int(scalar.string), range.contains(parsed)
        else { throw invalid("'\(key)' must be an integer from \(range.lowerBound) to \(range.upperBound)") }
        return parsed
    }

    private static func fixed(_ node: Node?, _ key: String, scale: Int, default value: Int) throws(PolicyError) -> Int {
        guard let node else { return value }
        guard let text = scalarText(node), text.utf8.count <= 32 else {
            throw invalid("\(key) must be a decimal number")
        }
        do { return try Schema.parseFixedPoint(text, scale: scale) } catch {
            throw invalid("\(key) \(error.message)")
        }
    }

    private static func string(_ node: Node?, _ key: String) throws(PolicyError) -> String {
        guard let node else { throw PolicyError(.missingField, "\(key) is missing") }
        guard let text = scalarText(node), !text.isEmpty, text.utf8.count <= 64 else {
            throw invalid("\(key) must be a non-empty string of at most 64 bytes")
        }
        return text
    }

    private static func strings(_ node: Node, _ key: String) throws(PolicyError) -> [String] {
        guard let items = node.sequence else { throw invalid("\(key) must be a list") }
        guard items.count <= Schema.maxListed else { throw invalid("\(key) lists more than \(Schema.maxListed) items") }
        var out: [String] = []
        for item in items {
            guard let text = scalarText(item), !text.isEmpty, text.utf8.count <= 64 else {
                throw invalid("\(key) must list non-empty strings of at most 64 bytes")
            }
            out.append(text)
        }
        return out
    }
}
