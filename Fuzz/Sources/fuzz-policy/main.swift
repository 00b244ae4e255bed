// Policy files (`vault init --policy`, and the copy every vault stores and re-reads): YAML rule sets.
//
// Path: Policy.parse, as `vault init` and Vault.policy() do.
// Properties: parsing is deterministic and hashes exactly the bytes given; every numeric rule is within its
// stated range; the parsed rules written back as YAML parse to the same rules.
import Foundation
import FuzzDriver
import FuzzSupport
import Primitives
import VaultPolicy

func json(_ text: String) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    guard let data = try? encoder.encode(text) else { fatalError("a String always encodes") }  // safe: total
    return String(decoding: data, as: UTF8.self)
}

/// The policy as YAML (flow style, every string double-quoted).
func render(_ p: Policy) -> String {
    let roles = p.roles.keys.sorted().map { role in
        json(role) + ": [" + (p.roles[role] ?? []).sorted().map(json).joined(separator: ", ") + "]"
    }.joined(separator: ", ")
    return """
        id: \(json(p.id))
        version: \(p.version)
        rules:
          - {id: "K-MIN", min_cell_size: \(p.minCellSize)}
          - {id: "COMP-SUPP", enabled: \(p.complementarySuppression)}
          - {id: "DIFF-GUARD", enabled: \(p.differencingGuard), threshold: \(p.differencingThreshold)}
          - {id: "ATTR-ALLOW", attributes: [\(p.allowedAttributes.sorted().map(json).joined(separator: ", "))]}
          - {id: "KEY-MIN", min_key_bits: \(p.minKeyBits)}
          - {id: "RETENTION", retention_days: \(p.retentionDays)}
          - {id: "ROLES", roles: {\(roles)}}

        """
}

func sameRules(_ a: Policy, _ b: Policy) -> Bool {
    a.id == b.id && a.version == b.version && a.minCellSize == b.minCellSize
        && a.complementarySuppression == b.complementarySuppression && a.differencingGuard == b.differencingGuard
        && a.differencingThreshold == b.differencingThreshold && a.allowedAttributes == b.allowedAttributes
        && a.minKeyBits == b.minKeyBits && a.retentionDays == b.retentionDays && a.roles == b.roles
}

Fuzz.run { data in
    let bytes = Array(data)
    guard let policy = try? Policy.parse(bytes) else { return }
    Fuzz.require(policy.sha256 == Hex.encode(SHA256.hash(bytes)), "the policy hash does not cover exactly its bytes")
    Fuzz.require(!policy.id.isEmpty && policy.version >= 1 && policy.minCellSize >= 1 && policy.differencingThreshold >= 1
                     && policy.minKeyBits >= 1 && policy.retentionDays >= 1, "a rule outside its range")
    guard let twice = try? Policy.parse(bytes) else { return Fuzz.require(false, "parsing is not deterministic") }
    Fuzz.require(twice == policy, "parsing the same bytes twice gave two policies")
    let yaml = render(policy)
    guard let again = try? Policy.parse(Array(yaml.utf8)) else {
        return Fuzz.require(false, "the rules written back do not parse:\n\(yaml)")
    }
    Fuzz.require(sameRules(again, policy), "parse → write → parse changed the rules:\n\(yaml)")
}
