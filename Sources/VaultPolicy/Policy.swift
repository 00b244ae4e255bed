public import Foundation
import Primitives
public import VaultModel
import Yams

/// An error loading a policy. Messages name the rule and field at fault.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// The file cannot be read.
        case io
        /// The file is not YAML or not a mapping.
        case malformedYAML
        /// A required field or rule is missing.
        case missingField
        /// A field has the wrong type or an invalid value.
        case invalidValue
        /// A rule id is not one this version knows.
        case unknownRule
        /// A rule id appears twice.
        case duplicateRule
    }

    /// The machine-readable reason.
    public var code: Code
    /// A one-line message.
    public var message: String

    /// Makes an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// A versioned, hashed rule set (`Policies/*.yaml`). Each rule has an id that reports cite.
///
/// This type only loads, validates and exposes the rules; the aggregation layer enforces them.
public struct Policy: Sendable, Equatable {
    /// The rule ids this version understands.
    public enum RuleID: String, Sendable, CaseIterable {
        /// Minimum cohort size per released cell.
        case minCellSize = "K-MIN"
        /// Complementary suppression.
        case complementarySuppression = "COMP-SUPP"
        /// Differencing guard.
        case differencingGuard = "DIFF-GUARD"
        /// Allowed grouping attributes.
        case allowedAttributes = "ATTR-ALLOW"
        /// Minimum Paillier key size.
        case minKeyBits = "KEY-MIN"
        /// Retention period.
        case retention = "RETENTION"
        /// Role permissions.
        case roles = "ROLES"
        /// Linear query auditing over atoms (optional; on when absent).
        case linearAudit = "LIN-AUDIT"
        /// Differential privacy: discrete Gaussian noise within a zCDP budget (optional; off when absent).
        case differentialPrivacy = "DP"
        /// Who must take part in a decryption: a minimum threshold and number of key holders (optional; absent = no
        /// requirement, so one bureau key is accepted).
        case decryptQuorum = "DECRYPT-QUORUM"
        /// Models: the least residual degrees of freedom a released model may have (optional; 10 when absent).
        case modelDF = "MODEL-DF"
        /// Models: refuse a saturated model or one whose categorical design is singular (optional; on when absent).
        case modelSaturated = "MODEL-SATURATED"
        /// Models: every level of a categorical term and every random group holds ≥ K-MIN records (optional; on
        /// when absent).
        case modelLevelK = "MODEL-LEVEL-K"
    }

    /// The rule id a refusal cites when a policy in differential-privacy mode (rule `DP`) is asked for a model: model
    /// releases carry exact block sums, which DP mode never releases.
    public static let modelDPRule = "MODEL-DP"
    /// The residual degrees of freedom `MODEL-DF` asks for when a policy does not say.
    public static let defaultModelMinDF = 10

    /// Rule `DECRYPT-QUORUM`: the least custody a vault's key may have. One bureau key counts as 1 of 1.
    public struct DecryptQuorum: Sendable, Equatable {
        /// The smallest threshold t accepted.
        public let minThreshold: Int
        /// The smallest number of parties l accepted.
        public let minParties: Int

        /// Makes a rule.
        public init(minThreshold: Int, minParties: Int) {
            self.minThreshold = minThreshold
            self.minParties = minParties
        }

        /// Whether a key that `threshold` of `parties` holders must use together satisfies the rule.
        public func admits(threshold: Int, parties: Int) -> Bool {
            threshold >= minThreshold && parties >= minParties
        }

        /// The rule in words, for refusals: `a threshold key of at least 2 of 3 parties`.
        public var requirement: String { "a threshold key of at least \(minThreshold) of \(minParties) parties" }
    }

    /// The rule id a refusal cites when a release would exceed the zCDP budget (configured in rule `DP`).
    public static let privacyBudgetRule = "DP-BUDGET"

    /// Rule `DP`: zero-concentrated differential privacy for released sums.
    public struct DifferentialPrivacy: Sendable, Equatable {
        /// The total zCDP budget ρ of the vault, in units of 10⁻⁹ (exact: no floating-point accumulation).
        public let rhoTotalNano: Int64
        /// The ρ each release spends, in units of 10⁻⁹.
        public let rhoPerReleaseNano: Int64

        /// Makes a rule (values in units of 10⁻⁹).
        public init(rhoTotalNano: Int64, rhoPerReleaseNano: Int64) {
            self.rhoTotalNano = rhoTotalNano
            self.rhoPerReleaseNano = rhoPerReleaseNano
        }

        /// A ρ in units of 10⁻⁹ as a decimal string (`0.05`).
        public static func decimal(nano: Int64) -> String {
            let whole = nano / 1_000_000_000, fraction = nano % 1_000_000_000
            guard fraction != 0 else { return String(whole) }
            var digits = String(fraction)
            digits = String(repeating: "0", count: 9 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            return "\(whole).\(digits)"
        }
    }

    /// Policy id, e.g. `eduvault-default`.
    public let id: String
    /// Policy version (positive).
    public let version: Int
    /// Lower-case hex SHA-256 of the file bytes.
    public let sha256: String
    /// `K-MIN`: smallest number of records a released cell may have.
    public let minCellSize: Int
    /// `COMP-SUPP`: whether complementary suppression is on.
    public let complementarySuppression: Bool
    /// `DIFF-GUARD`: whether the differencing guard is on.
    public let differencingGuard: Bool
    /// `DIFF-GUARD`: the smallest allowed symmetric difference between a cell and an earlier one
    /// (`threshold: k` resolves to `minCellSize`).
    public let differencingThreshold: Int
    /// `ATTR-ALLOW`: attributes a query may group by.
    public let allowedAttributes: Set<String>
    /// `KEY-MIN`: smallest accepted Paillier modulus, in bits.
    public let minKeyBits: Int
    /// `RETENTION`: days records are kept.
    public let retentionDays: Int
    /// `ROLES`: role name → permitted actions.
    public let roles: [String: Set<String>]
    /// `LIN-AUDIT`: whether releases are audited as linear algebra over atoms (on unless the policy turns it off).
    public let linearAudit: Bool
    /// `DP`: differential privacy, when the policy asks for it.
    public let differentialPrivacy: DifferentialPrivacy?
    /// `DECRYPT-QUORUM`: the least custody of the vault's key, when the policy asks for one.
    public let decryptQuorum: DecryptQuorum?
    /// `MODEL-DF`: the smallest residual degrees of freedom (n − columns of X) a released model may have.
    public let modelMinDF: Int
    /// `MODEL-SATURATED`: whether saturated or singular categorical designs are refused.
    public let modelRefusesSaturated: Bool
    /// `MODEL-LEVEL-K`: whether every level of a categorical term and every random group must hold ≥ `minCellSize`
    /// records.
    public let modelLevelK: Bool

    /// Whether `role` may perform `action` under `ROLES`.
    public func permits(role: String, action: String) -> Bool { roles[role]?.contains(action) ?? false }

    /// Loads and validates a policy file.
    ///
    /// - Throws: `PolicyError`.
    public static func load(from url: URL) throws(PolicyError) -> Policy {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PolicyError(.io, "cannot read the policy file \(url.lastPathComponent)")
        }
        return try parse(Array(data))
    }

    /// The largest policy file read: 1 MiB (the default policy is about 1 KB).
    public static let maxFileBytes = 1 << 20

    /// Parses and validates policy bytes (UTF-8 YAML).
    ///
    /// - Throws: `PolicyError`.
    public static func parse(_ bytes: [UInt8]) throws(PolicyError) -> Policy {
        guard bytes.count <= maxFileBytes else {
            throw PolicyError(.malformedYAML, "the policy file is larger than \(maxFileBytes / 1024) KiB")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PolicyError(.malformedYAML, "the policy file is not UTF-8 text")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw PolicyError(.malformedYAML, "the policy file is not valid YAML")
        }
        guard let root = node, root.mapping != nil else {
            throw PolicyError(.malformedYAML, "the policy file must be a YAML mapping")
        }
        let sha = Hex.encode(SHA256.hash(bytes))
        return try Policy(root: root, sha256: sha)
    }

    private init(root: Node, sha256: String) throws(PolicyError) {
        self.sha256 = sha256
        id = try Fields.string(root, "id", in: "the policy")
        version = try Fields.int(root, "version", in: "the policy", minimum: 1)
        guard let rules = root["rules"]?.sequence else {
            throw PolicyError(.missingField, "the policy needs a 'rules' list")
        }
        var byID: [RuleID: Node] = [:]
        for rule in rules {
            guard rule.mapping != nil else { throw PolicyError(.invalidValue, "every rule must be a mapping") }
            let name = try Fields.string(rule, "id", in: "a rule")
            guard let ruleID = RuleID(rawValue: name) else {
                let known = RuleID.allCases.map(\.rawValue).joined(separator: ", ")
                throw PolicyError(.unknownRule, "unknown rule id '\(name)'; known rules are \(known)")
            }
            guard byID[ruleID] == nil else { throw PolicyError(.duplicateRule, "rule \(name) appears twice") }
            byID[ruleID] = rule
        }
        func rule(_ id: RuleID) throws(PolicyError) -> Node {
            guard let node = byID[id] else {
                throw PolicyError(.missingField, "the policy must define rule \(id.rawValue)")
            }
            return node
        }
        let kMin = try rule(.minCellSize)
        minCellSize = try Fields.int(kMin, "min_cell_size", in: "rule K-MIN", minimum: 1)
        complementarySuppression = try Fields.bool(try rule(.complementarySuppression), "enabled", in: "rule COMP-SUPP")
        let diff = try rule(.differencingGuard)
        differencingGuard = try Fields.bool(diff, "enabled", in: "rule DIFF-GUARD")
        if let threshold = diff["threshold"] {
            if let value = Fields.integer(threshold) {
                guard value >= 1 else { throw PolicyError(.invalidValue, "rule DIFF-GUARD: 'threshold' must be ≥ 1") }
                differencingThreshold = value
            } else if threshold.string == "k" {
                differencingThreshold = minCellSize
            } else {
                throw PolicyError(.invalidValue, "rule DIFF-GUARD: 'threshold' must be a positive integer or 'k'")
            }
        } else {
            differencingThreshold = minCellSize
        }
        allowedAttributes = Set(try Fields.strings(try rule(.allowedAttributes), "attributes", in: "rule ATTR-ALLOW"))
        minKeyBits = try Fields.int(try rule(.minKeyBits), "min_key_bits", in: "rule KEY-MIN", minimum: 1)
        retentionDays = try Fields.int(try rule(.retention), "retention_days", in: "rule RETENTION", minimum: 1)
        let rolesRule = try rule(.roles)
        guard let mapping = rolesRule["roles"]?.mapping else {
            throw PolicyError(.missingField, "rule ROLES needs a 'roles' mapping of role → list of actions")
        }
        var roles: [String: Set<String>] = [:]
        for (key, value) in mapping {
            guard let role = key.string, !role.isEmpty else {
                throw PolicyError(.invalidValue, "rule ROLES: role names must be strings")
            }
            guard let actions = value.sequence, let names = Optional(actions.compactMap(\.scalar?.string)),
                names.count == actions.count
            else { throw PolicyError(.invalidValue, "rule ROLES: role '\(role)' must list actions as strings") }
            roles[role] = Set(names)
        }
        self.roles = roles
        if let rule = byID[.linearAudit] {
            linearAudit = try Fields.bool(rule, "enabled", in: "rule LIN-AUDIT")
        } else {
            linearAudit = true
        }
        if let rule = byID[.differentialPrivacy], try Fields.bool(rule, "enabled", in: "rule DP") {
            let total = try Fields.nano(rule, "rho_total", in: "rule DP")
            let perRelease = try Fields.nano(rule, "rho_per_release", in: "rule DP")
            guard perRelease <= total else {
                throw PolicyError(.invalidValue, "rule DP: 'rho_per_release' must not exceed 'rho_total'")
            }
            differentialPrivacy = DifferentialPrivacy(rhoTotalNano: total, rhoPerReleaseNano: perRelease)
        } else {
            differentialPrivacy = nil
        }
        if let rule = byID[.decryptQuorum] {
            let minThreshold = try Fields.int(rule, "min_threshold", in: "rule DECRYPT-QUORUM", minimum: 1)
            let minParties = try Fields.int(rule, "min_parties", in: "rule DECRYPT-QUORUM", minimum: 1)
            guard minParties >= minThreshold, minParties <= 32 else {
                throw PolicyError(.invalidValue, "rule DECRYPT-QUORUM: 'min_parties' must be at least 'min_threshold' "
                                  + "and at most 32")
            }
            decryptQuorum = DecryptQuorum(minThreshold: minThreshold, minParties: minParties)
        } else {
            decryptQuorum = nil
        }
        if let rule = byID[.modelDF] {
            modelMinDF = try Fields.int(rule, "min_df_resid", in: "rule MODEL-DF", minimum: 1)
        } else {
            modelMinDF = Self.defaultModelMinDF
        }
        if let rule = byID[.modelSaturated] {
            modelRefusesSaturated = try Fields.bool(rule, "enabled", in: "rule MODEL-SATURATED")
        } else {
            modelRefusesSaturated = true
        }
        if let rule = byID[.modelLevelK] {
            modelLevelK = try Fields.bool(rule, "enabled", in: "rule MODEL-LEVEL-K")
        } else {
            modelLevelK = true
        }
    }

    /// The policy reference a descriptor carries.
    public var reference: PolicyReference { PolicyReference(id: id, version: version, sha256: sha256) }
}

/// Typed field access with clear errors.
private enum Fields {
    static func string(_ node: Node, _ key: String, in place: String) throws(PolicyError) -> String {
        guard let field = node[key] else { throw PolicyError(.missingField, "\(place) needs '\(key)'") }
        guard let scalar = field.scalar, !scalar.string.isEmpty else {
            throw PolicyError(.invalidValue, "\(place): '\(key)' must be a non-empty string")
        }
        return scalar.string
    }

    static func int(_ node: Node, _ key: String, in place: String, minimum: Int) throws(PolicyError) -> Int {
        guard let field = node[key] else { throw PolicyError(.missingField, "\(place) needs '\(key)'") }
        guard let value = integer(field) else {
            throw PolicyError(.invalidValue, "\(place): '\(key)' must be an integer")
        }
        guard value >= minimum else { throw PolicyError(.invalidValue, "\(place): '\(key)' must be ≥ \(minimum)") }
        return value
    }

    /// A plain decimal integer (`-12`, `+7`, `2048`), read without Yams's YAML 1.1 integer forms: its sexagesimal
    /// parser (`1:2:3`) traps on overflow, and a policy has no use for octal, hex or base 60. `nil` for anything
    /// else, including a value that does not fit an `Int`.
    static func integer(_ node: Node) -> Int? {
        guard let scalar = node.scalar, scalar.style == .plain || scalar.style == .any else { return nil }
        let text = scalar.string
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.utf8.dropFirst() : text.utf8[...]
        guard !digits.isEmpty, digits.count <= 20, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(text)
    }

    static func bool(_ node: Node, _ key: String, in place: String) throws(PolicyError) -> Bool {
        guard let field = node[key] else { throw PolicyError(.missingField, "\(place) needs '\(key)'") }
        guard let value = field.bool else {
            throw PolicyError(.invalidValue, "\(place): '\(key)' must be true or false")
        }
        return value
    }

    /// A positive decimal with at most 9 places (e.g. `0.05`), in units of 10⁻⁹, at most 10⁶.
    static func nano(_ node: Node, _ key: String, in place: String) throws(PolicyError) -> Int64 {
        guard let field = node[key] else { throw PolicyError(.missingField, "\(place) needs '\(key)'") }
        let invalid = PolicyError(.invalidValue, "\(place): '\(key)' must be a positive decimal such as 0.05 "
                                  + "(at most 9 decimal places, at most 1000000)")
        guard let text = field.scalar?.string, field.bool == nil, !text.isEmpty, text.count <= 20 else { throw invalid }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              let wholeValue = Int64(whole), wholeValue <= 1_000_000
        else { throw invalid }
        var fractionValue: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.count <= 9, fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let digits = Int64(fraction)
            else { throw invalid }
            fractionValue = digits
            for _ in fraction.count..<9 { fractionValue *= 10 }
        }
        let value = wholeValue * 1_000_000_000 + fractionValue
        guard value > 0 else { throw invalid }
        return value
    }

    static func strings(_ node: Node, _ key: String, in place: String) throws(PolicyError) -> [String] {
        guard let field = node[key] else { throw PolicyError(.missingField, "\(place) needs '\(key)'") }
        guard let items = field.sequence else { throw PolicyError(.invalidValue, "\(place): '\(key)' must be a list") }
        var result: [String] = []
        for item in items {
            guard let scalar = item.scalar, !scalar.string.isEmpty else {
                throw PolicyError(.invalidValue, "\(place): '\(key)' must list non-empty strings")
            }
            result.append(scalar.string)
        }
        return result
    }
}
