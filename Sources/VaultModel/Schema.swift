import Primitives

/// How scores and per-record attributes are represented in a vault.
///
/// Scores are fixed-point integers: with `scale` 1 a score of 87.5 is stored as 875. Each score fills `slotCount`
/// plaintext slots of `slotBits` bits: slot 0 holds x and slot 1 holds x², so one decryption of a sum gives Σx and
/// Σx². `minScore` must be ≥ 0 so that every slot value is non-negative.
///
/// Values are validated on construction and on decoding, so a `Schema` in hand is always consistent.
public struct Schema: Sendable, Codable, Equatable {
    /// A per-record attribute the schema declares, with an optional list of allowed values.
    public struct Attribute: Sendable, Codable, Equatable {
        /// The attribute (and CSV column) name, `[a-z0-9_-]{1,32}`.
        public let name: String
        /// The allowed values; `nil` means any token `[A-Za-z0-9_.-]{1,64}`.
        public let allowedValues: [String]?

        /// Declares an attribute.
        public init(name: String, allowedValues: [String]? = nil) {
            self.name = name
            self.allowedValues = allowedValues
        }

        enum CodingKeys: String, CodingKey {
            case name
            case allowedValues = "allowed_values"
        }
    }

    /// The most subjects, attributes, or allowed values of one attribute a schema may list (every record is checked
    /// against these lists; a real schema has a handful).
    public static let maxListed = 256

    /// Decimal places kept in the fixed-point encoding (0...6).
    public let scale: Int
    /// The lowest allowed score, as a fixed-point integer (≥ 0).
    public let minScore: Int
    /// The highest allowed score, as a fixed-point integer.
    public let maxScore: Int
    /// Bits per plaintext slot.
    public let slotBits: Int
    /// Number of slots per score: 1 (x) or 2 (x and x²).
    public let slotCount: Int
    /// Allowed subjects (lower-case tokens); `nil` accepts any token `[a-z0-9_-]{1,32}`.
    public let subjects: [String]?
    /// The per-record attributes a record may carry.
    public let attributes: [Attribute]
    /// The per-record numeric covariates (empty for a schema without them), in declaration order; see ``Covariate``.
    public let covariates: [Covariate]

    /// The default attributes: `grade` and `term` (free tokens), `sex` (F, M), `residence` (urban, rural).
    public static let defaultAttributes: [Attribute] = [
        Attribute(name: "grade"),
        Attribute(name: "term"),
        Attribute(name: "sex", allowedValues: ["F", "M"]),
        Attribute(name: "residence", allowedValues: ["urban", "rural"]),
    ]

    /// Makes and validates a schema.
    ///
    /// - Throws: `ModelError.invalidSchema` naming the inconsistency.
    public init(
        scale: Int = 1, minScore: Int = 0, maxScore: Int = 1000, slotBits: Int = 96, slotCount: Int = 2,
        subjects: [String]? = nil, attributes: [Attribute] = Schema.defaultAttributes, covariates: [Covariate] = []
    ) throws(ModelError) {
        self.scale = scale
        self.minScore = minScore
        self.maxScore = maxScore
        self.slotBits = slotBits
        self.slotCount = slotCount
        self.subjects = subjects
        self.attributes = attributes
        self.covariates = covariates
        try validate()
    }

    /// The default schema: one decimal place, 0.0–100.0, two 96-bit slots, default attributes.
    public static var standard: Schema {
        get throws(ModelError) { try Schema() }
    }

    enum CodingKeys: String, CodingKey {
        case scale, subjects, attributes, covariates
        case minScore = "min_score"
        case maxScore = "max_score"
        case slotBits = "slot_bits"
        case slotCount = "slot_count"
    }

    /// Decodes and validates a schema.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            scale: c.decode(Int.self, forKey: .scale),
            minScore: c.decode(Int.self, forKey: .minScore),
            maxScore: c.decode(Int.self, forKey: .maxScore),
            slotBits: c.decode(Int.self, forKey: .slotBits),
            slotCount: c.decode(Int.self, forKey: .slotCount),
            subjects: c.decodeIfPresent([String].self, forKey: .subjects),
            attributes: c.decode([Attribute].self, forKey: .attributes),
            covariates: c.decodeIfPresent([Covariate].self, forKey: .covariates) ?? []
        )
    }

    /// Encodes the schema. `covariates` is written only when there are some, so a schema without covariates
    /// encodes byte for byte as before covariates existed (same canonical JSON, same ``schemaHash``): existing
    /// vaults, descriptors and batches stay valid.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scale, forKey: .scale)
        try c.encode(minScore, forKey: .minScore)
        try c.encode(maxScore, forKey: .maxScore)
        try c.encode(slotBits, forKey: .slotBits)
        try c.encode(slotCount, forKey: .slotCount)
        try c.encodeIfPresent(subjects, forKey: .subjects)
        try c.encode(attributes, forKey: .attributes)
        if !covariates.isEmpty { try c.encode(covariates, forKey: .covariates) }
    }

    private func validate() throws(ModelError) {
        func fail(_ message: String) -> ModelError { ModelError(.invalidSchema, message) }
        guard (0...6).contains(scale) else { throw fail("scale must be between 0 and 6 decimal places") }
        guard minScore >= 0 else { throw fail("min_score must be at least 0") }
        guard minScore <= maxScore else { throw fail("min_score must not exceed max_score") }
        guard maxScore <= 1_000_000_000 else { throw fail("max_score must be at most 10^9 (fixed point)") }
        guard (1...2).contains(slotCount) else { throw fail("slot_count must be 1 (x) or 2 (x and x²)") }
        guard (16...1024).contains(slotBits) else { throw fail("slot_bits must be between 16 and 1024") }
        let largest = slotCount == 2 ? maxScore * maxScore : maxScore
        guard slotBits >= 64 || largest < (1 << slotBits) else {
            throw fail("slot_bits is too small for max_score\(slotCount == 2 ? " squared" : "")")
        }
        guard attributes.count <= Self.maxListed, (subjects?.count ?? 0) <= Self.maxListed,
              attributes.allSatisfy({ ($0.allowedValues?.count ?? 0) <= Self.maxListed })
        else { throw fail("a schema lists at most \(Self.maxListed) subjects, attributes, or values of one attribute") }
        if let subjects {
            guard !subjects.isEmpty else { throw fail("subjects, when given, must list at least one subject") }
            guard subjects.allSatisfy(Tokens.isSubject) else { throw fail("subjects must match [a-z0-9_-]{1,32}") }
            guard Set(subjects).count == subjects.count else { throw fail("subjects are listed twice") }
        }
        var names = Set<String>()
        for attribute in attributes {
            guard Tokens.isSubject(attribute.name) else {
                throw fail("attribute names must match [a-z0-9_-]{1,32}")
            }
            guard !["student_id", "subject", "score"].contains(attribute.name) else {
                throw fail("attribute '\(attribute.name)' collides with a required CSV column")
            }
            // `school` names the school in every query (--by school, --where school=…); a record attribute of that
            // name could never be selected.
            guard attribute.name != "school" else {
                throw fail("attribute 'school' is reserved for the school a record comes from; choose another name")
            }
            guard names.insert(attribute.name).inserted else {
                throw fail("attribute '\(attribute.name)' is listed twice")
            }
            if let allowed = attribute.allowedValues {
                guard !allowed.isEmpty, allowed.allSatisfy(Tokens.isAttributeValue) else {
                    throw fail("allowed values of '\(attribute.name)' must be non-empty tokens [A-Za-z0-9_.-]{1,64}")
                }
            }
        }
        try validateCovariates(attributeNames: names)
    }

    // MARK: Scores

    /// Parses a decimal score into its fixed-point integer.
    ///
    /// Accepts optional surrounding spaces, an optional sign, digits, and at most `scale` decimals
    /// (`"87.5"` → 875 at scale 1; `"87"` → 870).
    ///
    /// - Throws: `.nonNumericScore` for anything that is not a decimal number, `.tooManyDecimals` when more than
    ///   `scale` decimals are given, `.scoreOutOfRange` outside `minScore...maxScore`. Messages never echo the text.
    public func parseScore(_ text: String) throws(ModelError) -> Int {
        let value: Int
        do { value = try Schema.parseFixedPoint(text, scale: scale) } catch {
            throw error.code == .scoreOutOfRange ? outOfRange() : ModelError(error.code, "score " + error.message)
        }
        guard (minScore...maxScore).contains(value) else { throw outOfRange() }
        return value
    }

    /// Parses decimal text into a fixed-point integer at `scale` decimals, without a range check beyond 15
    /// significant digits (so the result always fits an `Int`).
    ///
    /// Accepts optional surrounding spaces, an optional sign, digits, and at most `scale` decimals.
    ///
    /// - Throws: `.nonNumericScore` ("is not a decimal number"), `.tooManyDecimals` ("has more than N decimal
    ///   places"), `.scoreOutOfRange` (more than 15 significant digits). Messages never echo the text and start
    ///   with a verb so a caller can prefix what the value is.
    public static func parseFixedPoint(_ text: String, scale: Int) throws(ModelError) -> Int {
        var bytes = Array(text.utf8)[...]
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes.removeFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes.removeLast() }
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            bytes.removeFirst()
        }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts.first ?? []
        let fraction = parts.count > 1 ? parts[1] : []
        guard !whole.isEmpty || !fraction.isEmpty, whole.allSatisfy(Tokens.isDigit),
            fraction.allSatisfy(Tokens.isDigit),
            parts.count == 1 || !fraction.isEmpty
        else {
            throw ModelError(.nonNumericScore, "is not a decimal number")
        }
        guard fraction.count <= scale else {
            throw ModelError(.tooManyDecimals, "has more than \(scale) decimal place\(scale == 1 ? "" : "s")")
        }
        let significant = whole.drop { $0 == UInt8(ascii: "0") }
        guard significant.count + scale <= 15 else { throw ModelError(.scoreOutOfRange, "is out of range") }
        var value = 0
        for digit in whole { value = value * 10 + Int(digit - UInt8(ascii: "0")) }
        for index in 0..<scale {
            let digit = index < fraction.count ? Int(fraction[fraction.startIndex + index] - UInt8(ascii: "0")) : 0
            value = value * 10 + digit
        }
        return negative ? -value : value
    }

    private func outOfRange() -> ModelError {
        ModelError(.scoreOutOfRange, "score is outside \(formatScore(minScore))–\(formatScore(maxScore))")
    }

    /// Formats a fixed-point integer as decimal text with exactly `scale` decimals (875 → "87.5").
    public func formatScore(_ value: Int) -> String {
        guard scale > 0 else { return String(value) }
        var divisor = 1
        for _ in 0..<scale { divisor *= 10 }
        let magnitude = value.magnitude
        let fraction = String(magnitude % UInt(divisor))
        let padded = String(repeating: "0", count: scale - fraction.count) + fraction
        return (value < 0 ? "-" : "") + String(magnitude / UInt(divisor)) + "." + padded
    }

    /// The largest value slot `slot` can hold for one record: `maxScore` for slot 0, `maxScore²` for slot 1;
    /// `nil` when `slot` is not below `slotCount`. The aggregation layer multiplies it by a record count to
    /// prove a sum cannot overflow its slot.
    public func maxSlotValue(slot: Int) -> Int? {
        switch slot {
        case 0 where slotCount >= 1: maxScore
        case 1 where slotCount >= 2: maxScore * maxScore
        default: nil
        }
    }

    // MARK: Subjects and attributes

    /// Lower-cases and checks a subject against the token rule and the allow-list.
    ///
    /// - Throws: `.invalidSubject`.
    public func normalizeSubject(_ text: String) throws(ModelError) -> String {
        let subject = Tokens.lowercased(text.trimmingASCIISpaces())
        guard Tokens.isSubject(subject) else {
            throw ModelError(.invalidSubject, "subject must match [a-z0-9_-]{1,32}")
        }
        if let subjects, !subjects.contains(subject) {
            throw ModelError(.invalidSubject, "subject '\(subject)' is not in the schema's subject list")
        }
        return subject
    }

    /// The declaration of attribute `name`, if the schema has one.
    public func attribute(named name: String) -> Attribute? {
        attributes.first { $0.name == name }
    }

    /// Checks one attribute value and returns it in canonical spelling (allowed values match case-insensitively
    /// and come back spelled as declared).
    ///
    /// - Throws: `.unknownAttribute` or `.attributeValueNotAllowed`; the message names the attribute, never the value
    ///   of a free attribute.
    public func normalizeAttribute(name: String, value: String) throws(ModelError) -> String {
        guard let attribute = attribute(named: name) else {
            throw ModelError(.unknownAttribute, "attribute '\(name)' is not declared by the schema")
        }
        let trimmed = value.trimmingASCIISpaces()
        if let allowed = attribute.allowedValues {
            let lowered = Tokens.lowercased(trimmed)
            guard let match = allowed.first(where: { Tokens.lowercased($0) == lowered }) else {
                throw ModelError(
                    .attributeValueNotAllowed,
                    "attribute '\(name)' must be one of \(allowed.joined(separator: ", "))")
            }
            return match
        }
        guard Tokens.isAttributeValue(trimmed) else {
            throw ModelError(.attributeValueNotAllowed, "attribute '\(name)' must match [A-Za-z0-9_.-]{1,64}")
        }
        return trimmed
    }

    /// Checks a whole attribute dictionary; returns it normalised.
    public func normalizeAttributes(_ attributes: [String: String]) throws(ModelError) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in attributes { result[name] = try normalizeAttribute(name: name, value: value) }
        return result
    }

    // MARK: Hashing

    /// The canonical JSON of the schema (sorted keys), the input of `schemaHash`.
    public func canonicalJSON() throws(ModelError) -> [UInt8] {
        try CanonicalJSON.encode(self)
    }

    /// Lower-case hex SHA-256 of `canonicalJSON()`; batches name the schema they were made for by this hash.
    public var schemaHash: String {
        get throws(ModelError) { Hex.encode(SHA256.hash(try canonicalJSON())) }
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var bytes = Array(utf8)[...]
        while let first = bytes.first, first == 32 || first == 9 { bytes.removeFirst() }
        while let last = bytes.last, last == 32 || last == 9 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
