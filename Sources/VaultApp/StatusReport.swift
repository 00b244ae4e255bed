import Foundation
import VaultAggregation
import VaultAudit
public import VaultModel
import VaultPolicy
import VaultStore

/// A vault's status: what `vault status --json` prints and `GET /v1/status` returns. Counts only: no score,
/// pseudonym, ciphertext or key.
public struct StatusReport: Codable, Sendable, Equatable {
    public struct Key: Codable, Sendable, Equatable {
        public var id: String
        public var bits: Int
    }
    public struct School: Codable, Sendable, Equatable {
        public var id: String
        public var attributes: [String: String]
        public var records: Int
        public var registered: String
    }
    public struct Count: Codable, Sendable, Equatable {
        public var school: String
        public var subject: String
        public var records: Int
    }
    public struct Audit: Codable, Sendable, Equatable {
        public var entries: Int64
        public var byKind: [String: Int]
        enum CodingKeys: String, CodingKey {
            case entries
            case byKind = "by_kind"
        }
    }
    public struct Disclosure: Codable, Sendable, Equatable {
        public var k: Int
        public var releases: Int
        public var linearAudit: Bool
        public var rank: Int?
        public var atoms: Int?
        /// ρ spent, total and per release, decimal strings, under a DP policy.
        public var privacySpent: String?
        public var privacyBudget: String?
        public var privacyPerRelease: String?
        enum CodingKeys: String, CodingKey {
            case k, releases, rank, atoms
            case linearAudit = "lin_audit"
            case privacySpent = "privacy_rho_spent"
            case privacyBudget = "privacy_rho_total"
            case privacyPerRelease = "privacy_rho_per_release"
        }
    }

    /// A numeric covariate the schema declares, bounds as decimals at the schema's scale.
    public struct Covariate: Codable, Sendable, Equatable {
        public var name: String
        public var min: String
        public var max: String
    }

    public var vaultID: String
    public var key: Key
    /// The schema's covariates and the ciphertexts each record carries; absent without covariates.
    public var covariates: [Covariate]?
    public var ciphertextsPerRecord: Int?
    /// The key's custody; absent for one bureau key.
    public var custody: Custody?
    public var policy: PolicyReference
    public var schools: [School]
    public var records: [Count]
    public var totalRecords: Int
    public var batches: Int
    public var audit: Audit
    public var fileBytes: Int64
    public var disclosure: Disclosure

    enum CodingKeys: String, CodingKey {
        case key, custody, policy, schools, records, batches, audit, disclosure, covariates
        case vaultID = "vault_id"
        case ciphertextsPerRecord = "ciphertexts_per_record"
        case totalRecords = "total_records"
        case fileBytes = "file_bytes"
    }
}

extension VaultService {
    /// The vault's status.
    public func status() throws(AppError) -> StatusReport {
        let status: VaultStatus
        var byKind: [String: Int] = [:]
        do {
            status = try vault.status()
            try vault.forEachAuditEntry { byKind[$0.kind.rawValue, default: 0] += 1 }
        } catch { throw AppError(.unavailable, "cannot read the vault's status: \(error.description)") }
        var perSchool: [String: Int] = [:]
        for count in status.recordCounts { perSchool[count.schoolID, default: 0] += count.count }
        let policy = try? vault.policy().policy
        let audit = (try? vault.auditState()).flatMap { $0 }.flatMap { try? LinearAudit(serialized: $0.bytes) }
        let dp = policy?.differentialPrivacy
        let disclosure = StatusReport.Disclosure(
            k: policy?.minCellSize ?? 0, releases: status.releaseCount, linearAudit: policy?.linearAudit ?? true,
            rank: audit?.rank, atoms: audit?.atomCount,
            privacySpent: dp.map { _ in Policy.DifferentialPrivacy.decimal(nano: status.privacySpentNano) },
            privacyBudget: dp.map { Policy.DifferentialPrivacy.decimal(nano: $0.rhoTotalNano) },
            privacyPerRelease: dp.map { Policy.DifferentialPrivacy.decimal(nano: $0.rhoPerReleaseNano) })
        let schema = vault.descriptor.schema
        let covariates = schema.covariates.map {
            StatusReport.Covariate(name: $0.name, min: schema.formatScore($0.min), max: schema.formatScore($0.max))
        }
        let perRecord = try? schema.momentLayout(keyBits: vault.descriptor.keyBits).ciphertextCount
        return StatusReport(
            vaultID: status.vaultID, key: .init(id: status.keyID, bits: status.keyBits),
            covariates: covariates.isEmpty ? nil : covariates, ciphertextsPerRecord: covariates.isEmpty ? nil : perRecord,
            custody: vault.descriptor.custody, policy: status.policy,
            schools: status.schools.map {
                .init(id: $0.id.rawValue, attributes: $0.attributes, records: perSchool[$0.id.rawValue] ?? 0,
                      registered: $0.registered)
            },
            records: status.recordCounts.map { .init(school: $0.schoolID, subject: $0.subject, records: $0.count) },
            totalRecords: status.recordCounts.reduce(0) { $0 + $1.count }, batches: status.batchCount,
            audit: .init(entries: status.auditEntryCount, byKind: byKind), fileBytes: status.fileBytes,
            disclosure: disclosure)
    }

    /// The status, read off the cooperative pool.
    public func statusAsync() async throws(AppError) -> StatusReport {
        try await read { () throws(AppError) -> StatusReport in try self.status() }
    }
}

extension StatusReport {
    /// The text `vault status` prints (for a local vault and for `--server` alike).
    public func text(location: String) -> [String] {
        var out: [String] = []
        out.append("Vault \(vaultID)  (\(location))")
        out.append("  key:     \(key.id), \(key.bits) bits\(key.bits < 2048 ? "  (TEST-ONLY)" : "")")
        out.append("  custody: \(custody?.summary ?? "one bureau key")")
        out.append("  policy:  \(policy.id) v\(policy.version), sha256 \(policy.sha256)")
        if let covariates, !covariates.isEmpty {
            let list = covariates.map { "\($0.name) \($0.min)–\($0.max)" }.joined(separator: ", ")
            out.append("  covariates: \(list)"
                       + (ciphertextsPerRecord.map { " (\($0) ciphertexts a record)" } ?? ""))
        }
        let batchText = "\(batches) batch\(batches == 1 ? "" : "es")"
        out.append("  storage: \(Self.humanBytes(fileBytes)) on disk, \(batchText), \(totalRecords) records")
        let refused = audit.byKind[AuditKind.batchRefused.rawValue] ?? 0
        out.append("  audit:   \(audit.entries) entries\(refused > 0 ? " (\(refused) refused batches)" : "")")
        if disclosure.k > 0 {
            var line = "  disclosure: K-MIN k = \(disclosure.k), \(disclosure.releases) release"
                + (disclosure.releases == 1 ? "" : "s")
            if disclosure.linearAudit {
                line += ", LIN-AUDIT on"
                    + (disclosure.rank.map { " (released span: rank \($0) over \(disclosure.atoms ?? 0) atoms)" } ?? "")
            } else {
                line += ", LIN-AUDIT off"
            }
            out.append(line)
            if let spent = disclosure.privacySpent, let total = disclosure.privacyBudget,
               let per = disclosure.privacyPerRelease, let spentNano = Self.nano(spent), let totalNano = Self.nano(total),
               let perNano = Self.nano(per), perNano > 0 {
                let left = max(0, totalNano - spentNano)
                out.append("  privacy budget (zCDP ρ): \(spent) of \(total) spent, "
                           + "\(left == 0 ? "0" : Policy.DifferentialPrivacy.decimal(nano: left)) left "
                           + "(\(left / perNano) more release\(left / perNano == 1 ? "" : "s") at ρ = \(per))")
            }
        }
        out.append("")
        if schools.isEmpty {
            out.append("No schools registered yet (`eduvault school add`).")
        } else {
            out.append("Schools")
            out.append("  " + Self.pad("id", 16) + Self.pad("records", 10) + "attributes")
            for school in schools {
                let attributes = school.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                out.append("  " + Self.pad(school.id, 16) + Self.pad(String(school.records), 10)
                           + attributes.joined(separator: " "))
            }
        }
        if !records.isEmpty {
            out.append("")
            out.append("Records by school and subject")
            out.append("  " + Self.pad("school", 16) + Self.pad("subject", 16) + "records")
            for count in records {
                out.append("  " + Self.pad(count.school, 16) + Self.pad(count.subject, 16) + "\(count.records)")
            }
        }
        return out
    }

    static func nano(_ decimal: String) -> Int64? {
        let parts = decimal.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0, whole <= 1_000_000 else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            guard parts[1].count <= 9, let f = Int64(parts[1]) else { return nil }
            fraction = f
            for _ in parts[1].count..<9 { fraction *= 10 }
        }
        return whole * 1_000_000_000 + fraction
    }

    /// A byte count for people: `12.3 MB`.
    public static func humanBytes(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
