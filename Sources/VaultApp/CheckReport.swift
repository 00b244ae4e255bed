import Foundation
import VaultAggregation
import VaultAudit
import VaultAuditor
import VaultModel
import VaultStore

/// The result of `vault check`: problems (the vault is damaged when there is any), the lines of a healthy report,
/// and notes.
public struct CheckReport: Sendable {
    public var problems: [String]
    public var lines: [String]
    public var warnings: [String]
    public var vaultID: String
}

extension VaultService {
    /// SQLite integrity and foreign keys, atoms, the descriptor against its stored copy, the auditor's verifier on
    /// the vault's own database with its own log key, and a rebuild of the linear audit from the release history.
    ///
    /// - Throws: `AppError` only when the checks cannot run; damage is reported in `problems`.
    public func check() throws(AppError) -> CheckReport {
        let report: IntegrityReport
        do { report = try vault.integrityCheck() } catch { throw AppError(.unavailable, "the checks could not run: \(error.description)") }
        var problems: [String] = []
        if report.sqliteIntegrity != ["ok"] {
            problems.append("SQLite integrity_check found \(report.sqliteIntegrity.count) problem(s)")
        }
        if report.foreignKeyViolations > 0 { problems.append("\(report.foreignKeyViolations) foreign-key violation(s)") }
        if report.atomProblems > 0 {
            problems.append("\(report.atomProblems) record(s) or atom(s) disagree (edited records or atom counts)")
        }
        let descriptorURL = vault.directory.appendingPathComponent(Vault.descriptorFileName)
        do {
            let onDisk = try Descriptor.read(from: descriptorURL)
            if onDisk != vault.descriptor { problems.append("descriptor.json differs from the descriptor stored in the database") }
        } catch {
            problems.append("descriptor.json is unreadable (\(error.message))")
        }
        guard let logKey = vault.descriptor.logKey, let key = try? NoteVerifierKey(encoded: logKey) else {
            throw AppError(.unavailable, "vault \(vault.descriptor.vaultID) has no log key in its descriptor")
        }
        let source = vault.auditSource
        let audit: AuditReport
        do { audit = try AuditVerifier(logKey: key).verify(source, records: source) } catch {
            throw AppError(.unavailable, "the log could not be verified: \(error)")
        }
        for problem in audit.problems.prefix(5) { problems.append(problem.message) }
        if audit.problems.count > 5 { problems.append("\(audit.problems.count - 5) more log problem(s)") }
        let disclosure: DisclosureAuditReport
        do { disclosure = try DisclosureAudit.check(vault) } catch {
            throw AppError(.unavailable, "the release history cannot be checked: \(error.message)")
        }
        if disclosure.storedStateMatches == false {
            problems.append("the stored LIN-AUDIT state differs from the one rebuilt from the release history")
        }
        // Label and result, aligned after the longest label.
        var rows: [(label: String, text: String)] = [
            ("sqlite integrity", "ok"), ("foreign keys", "ok"),
            ("atoms", "ok (every record in its atom, atom sizes exact)"), ("descriptor.json", "ok (matches the database)"),
        ]
        for check in audit.checks {
            rows.append((check.name, check.detail == "ok" || check.detail.isEmpty ? "ok" : "ok (\(check.detail))"))
        }
        rows.append(("audit chain", "ok (\(audit.entries) entries)"))
        rows.append(("checkpoint", "size \(audit.checkpointSize), root \(audit.root) (signed by \(key.name))"))
        let state = disclosure.storedStateMatches == true ? "stored state matches the rebuild"
            : "rebuilt from the history (no current stored state)"
        rows.append(("LIN-AUDIT", "\(disclosure.linearAuditEnabled ? "on" : "off"), \(disclosure.releases) release(s), rank "
                     + "\(disclosure.rank) over \(disclosure.atoms) atoms, \(state)"))
        if disclosure.violations.isEmpty {
            rows.append(("release history", "ok (no combination of released cells determines a total of fewer than k records)"))
        }
        // Labels up to "signed checkpoint" line up; a longer one (a verifier check's sentence) is followed by one space.
        let lines = rows.map { row in
            row.label.count <= 17 ? (row.label + ":").padding(toLength: 19, withPad: " ", startingAt: 0) + row.text
                : row.label + ": " + row.text
        }
        var warnings: [String] = []
        if !disclosure.violations.isEmpty {
            let shown = disclosure.violations.prefix(5).map { "release \($0.releaseID.prefix(12)) at log index \($0.logIndex)" }
            warnings.append("warning: \(disclosure.violations.count) released cell(s) made a total of fewer than k records "
                            + "derivable when released (made while LIN-AUDIT was off or before it existed): "
                            + shown.joined(separator: ", ") + (disclosure.violations.count > 5 ? ", …" : ""))
        }
        if !audit.retention.isEmpty {
            warnings.append("note: \(audit.retention.count) batch(es) are past the policy's retention; see `eduvault vault purge`")
        }
        return CheckReport(problems: problems, lines: lines, warnings: warnings, vaultID: vault.descriptor.vaultID)
    }
}
