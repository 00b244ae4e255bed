import ArgumentParser
import Foundation
import Paillier
import Primitives
import VaultAggregation
import VaultAudit
import VaultAuditor
import VaultModel
import VaultPolicy
import VaultStore

/// `eduvault vault`: create, fill and inspect a vault.
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Create a vault, ingest schools' encrypted batches, and check its health.",
        discussion: """
            A vault is a directory with vault.sqlite (ciphertexts, the school registry, the audit log) and \
            descriptor.json (the public facts a school needs to prepare batches). The vault never holds a \
            decryption key, a score or a student id.
            """,
        subcommands: [VaultInit.self, VaultIngest.self, VaultStatusCommand.self, VaultCheck.self, VaultPurge.self,
                      VaultCheckpoint.self]
    )
}

/// `eduvault vault init`.
struct VaultInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new vault in DIR under the bureau's public key and a policy.",
        discussion: """
            Writes DIR/vault.sqlite and DIR/descriptor.json. The descriptor carries the public key, its key id, the \
            score schema and the policy's id, version and SHA-256; hand it to every school (it holds no secret). \
            The policy is --policy, else Policies/default.yaml in the current directory, else the built-in copy of \
            that file. Keys below the policy's KEY-MIN (2048 bits) are refused; --insecure-test-key admits them by \
            storing a TEST-ONLY variant of the policy, for tests only. An existing vault is never overwritten.

            With --threshold (the threshold.json of `eduvault keys ceremony`, for the same key as --public-key) the \
            descriptor and the log record the custody: the parties, the threshold, the ceremony id and the SHA-256 \
            of the verification keys. A policy with rule DECRYPT-QUORUM refuses a key held by fewer parties or with a \
            lower threshold than it names, including a single bureau key.
            """
    )

    @OptionGroup var vault: VaultDirectoryOption

    @Option(
        help: ArgumentHelp("The bureau's public key (python-paillier JWK JSON, e.g. public.json).", valueName: "file"))
    var publicKey: String

    @Option(
        help: ArgumentHelp(
            "The policy YAML (default: Policies/default.yaml, else the built-in copy).", valueName: "file"))
    var policy: String?

    @Option(
        help: ArgumentHelp(
            "The threshold key (threshold.json from `eduvault keys ceremony`) when the key is held by a quorum.",
            valueName: "file"))
    var threshold: String?

    @Flag(help: "Accept a key below the policy's KEY-MIN. Test fixtures only; never for real data.")
    var insecureTestKey = false

    func run() async throws {
        var (policyBytes, policySource) = try PolicySource.load(policy)
        var rules = try PolicySource.parse(policyBytes, source: policySource)
        let keyData = try Files.read(publicKey, what: "public key", limit: 1 << 20)
        let jwk = try PublicKeyFile.jwk(from: keyData, path: publicKey)
        let key: PublicKey
        do { key = try PaillierJSON.decodePublicKey(keyData, allowInsecureSize: true) } catch {
            throw CLIError("\(publicKey): \(error.message)")
        }
        if key.bitCount < rules.minKeyBits {
            guard insecureTestKey else {
                throw CLIError(
                    "the key has \(key.bitCount) bits; policy rule KEY-MIN (\(rules.id) v\(rules.version)) requires at "
                        + "least \(rules.minKeyBits); generate one with `eduvault keys generate` (3072 bits by default)"
                )
            }
            policyBytes = try PolicySource.testOnlyVariant(of: policyBytes, bits: key.bitCount)
            policySource = "TEST-ONLY variant of \(policySource)"
            rules = try PolicySource.parse(policyBytes, source: policySource)
            Terminal.note(
                "WARNING: TEST-ONLY key (\(key.bitCount) bits, below KEY-MIN). This vault runs under policy "
                    + "'\(rules.id)' and must never hold real student data.")
        }
        var custody: Custody?
        if let threshold {
            let data = try Files.read(threshold, what: "threshold key", limit: ThresholdJSON.maxFileBytes)
            let thresholdKey: ThresholdPublicKey
            do { thresholdKey = try ThresholdJSON.decode(data, allowInsecureSize: true) } catch {
                throw CLIError("\(threshold): \(error.message)")
            }
            guard thresholdKey.publicKey.keyID == key.keyID else {
                throw CLIError("\(threshold) is for key \(thresholdKey.publicKey.keyID), not \(key.keyID) of --public-key; "
                               + "give the public.json and threshold.json of one ceremony")
            }
            custody = Custody(threshold: thresholdKey.threshold, parties: thresholdKey.parties.map(\.name),
                              ceremony: thresholdKey.ceremonyID,
                              verificationKeysSHA256: Hex.encode(thresholdKey.verificationKeysDigest))
        }
        if let quorum = rules.decryptQuorum,
           !quorum.admits(threshold: custody?.threshold ?? 1, parties: custody?.parties.count ?? 1)
        {
            let held = custody.map { "is held by \($0.summary)" } ?? "has a single holder (one bureau key)"
            throw CLIError("the key \(held); policy rule DECRYPT-QUORUM (\(rules.id) v\(rules.version)) requires "
                           + "\(quorum.requirement): deal one with `eduvault keys ceremony` and pass --threshold")
        }
        let schema: Schema
        do { schema = try Schema() } catch { throw CLIError("the default schema is invalid: \(error.message)") }
        try VaultSupport.checkLayout(schema, fits: key)
        let vaultID = try VaultSupport.newVaultID()
        let descriptor: Descriptor
        do {
            descriptor = try Descriptor(
                vaultID: vaultID, publicKey: jwk, keyID: key.keyID, keyBits: key.bitCount,
                schema: schema, policy: rules.reference, custody: custody)
        } catch { throw CLIError("cannot describe the vault: \(error.description)") }
        let created: Vault
        do { created = try Vault.create(directory: vault.url, descriptor: descriptor, policyBytes: policyBytes) } catch
        {
            throw CLIError("cannot create the vault: \(error.description)")
        }
        print("Created vault \(descriptor.vaultID) in \(vault.path)")
        print("  key:        \(descriptor.keyID) (\(descriptor.keyBits) bits)")
        print("  custody:    \(descriptor.custody.map { "\($0.summary), ceremony \($0.ceremony)" } ?? "one bureau key")")
        print("  policy:     \(rules.id) v\(rules.version) sha256 \(rules.sha256.prefix(16))… (\(policySource))")
        print("  descriptor: \(created.directory.appendingPathComponent(Vault.descriptorFileName).path)")
        print("Next: register schools with `eduvault school add --vault \(vault.path) --id ID --keys-out FILE`.")
    }
}

/// Reading the JWK of a public key file as written (python-paillier form).
enum PublicKeyFile {
    /// The JWK members of a public key file, refusing private key files.
    ///
    /// - Throws: `CLIError` for a private key file or a file that is not a python-paillier public key.
    static func jwk(from data: Data, path: String) throws -> PaillierPublicJWK {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CLIError("\(path) is not valid JSON (expected a python-paillier public key)")
        }
        let ops = object["key_ops"] as? [String] ?? []
        guard object["pub"] == nil, object["p"] == nil, !ops.contains("decrypt") else {
            throw CLIError(
                "\(path) is a private key; give the public key (public.json): the vault must never hold the private key"
            )
        }
        guard let n = object["n"] as? String, !n.isEmpty else {
            throw CLIError("\(path) has no modulus \"n\"; is it a python-paillier public key?")
        }
        let kid = object["kid"] as? String ?? "EduVault public key"
        return PaillierPublicJWK(
            kty: object["kty"] as? String ?? "DAJ", alg: object["alg"] as? String ?? "PAI-GN1",
            keyOps: ops.isEmpty ? ["encrypt"] : ops, n: n, kid: kid)
    }
}

/// `eduvault vault ingest`.
struct VaultIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Verify and store schools' batch files, printing a receipt for each.",
        discussion: """
            Each batch is checked completely — registered school, this vault, this key and schema, every \
            ciphertext (0 < c < n², gcd(c, n) = 1, exact width), the content hash and the school's signature — and \
            stored in one transaction with its audit entry: all of it or nothing. Sending a batch again is harmless \
            and prints "already stored". At the first refused batch the command stops with one error line and a \
            non-zero exit; batches before it stay stored, the refusal is written to the audit log.
            """
    )

    @OptionGroup var vault: VaultDirectoryOption

    @Argument(help: ArgumentHelp("Batch files made by `eduvault school encrypt`.", valueName: "batch"))
    var batches: [String]

    @Flag(help: "Print each receipt as one JSON line (batch_id, school_id, record_count, content_hash, log_index, …).")
    var json = false

    func validate() throws {
        guard !batches.isEmpty else { throw ValidationError("give at least one batch file") }
    }

    func run() async throws {
        let opened = try vault.open()
        let rules: Policy
        do { rules = try opened.policy().policy } catch { throw CLIError("cannot read the vault's policy: \(error)") }
        guard opened.descriptor.keyBits >= rules.minKeyBits else {
            throw CLIError("the vault's key is below its own policy's KEY-MIN; the vault is damaged")
        }
        // The vault's own stored policy admitted this key size (a TEST-ONLY policy for fixture keys).
        let key = try VaultSupport.paillierKey(of: opened.descriptor, allowInsecureSize: true)
        var stored = 0
        for path in batches {
            let url = URL(fileURLWithPath: path)
            let name = url.lastPathComponent
            guard FileManager.default.isReadableFile(atPath: url.path) else {
                throw CLIError("batch file not found or unreadable: \(path)\(earlierNote(stored))")
            }
            let total = (try? BatchReader(url: url).header.records) ?? 0
            let progress = ProgressBar("Ingesting \(name)", total: total)
            let receipt: Receipt
            do {
                // Width and 0 < c < n² per ciphertext; gcd(c, n) = 1 once for the whole batch (see
                // CiphertextBatchValidator): one Montgomery product per record instead of a gcd.
                let validator = CiphertextBatchValidator(key: key)
                receipt = try opened.ingest(
                    batchAt: url,
                    validateCiphertext: { bytes in
                        try validator.check(bytes)
                        progress.advance()
                    },
                    finishValidation: validator.finish)
            } catch {
                progress.finish()
                if error.isBatchRefusal {
                    throw CLIError(
                        "batch \(name) refused (\(error.code.rawValue)): \(error.description); nothing from it was "
                            + "stored\(earlierNote(stored))")
                }
                let hint = error.code == .database ? " (disk full, a file-size limit or no write permission?)" : ""
                throw CLIError(
                    "could not ingest \(name): \(error.description)\(hint); nothing from it was stored"
                        + earlierNote(stored))
            }
            progress.finish()
            stored += 1
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(receipt), as: UTF8.self))
                continue
            }
            let state = receipt.alreadyStored ? "already stored" : "stored"
            print(
                "\(state): \(name)  batch \(receipt.batchID.prefix(16))…  school \(receipt.schoolID)  "
                    + "records \(receipt.recordCount)  log #\(receipt.logIndex)")
        }
    }

    private func earlierNote(_ stored: Int) -> String {
        stored == 0 ? "" : " (the \(stored) batch\(stored == 1 ? "" : "es") before it stay stored)"
    }
}

/// The JSON shape of `vault status --json`.
struct StatusJSON: Encodable {
    struct Key: Encodable {
        var id: String
        var bits: Int
    }
    struct School: Encodable {
        var id: String
        var attributes: [String: String]
        var records: Int
        var registered: String
    }
    struct Count: Encodable {
        var school: String
        var subject: String
        var records: Int
    }
    struct Audit: Encodable {
        var entries: Int64
        var byKind: [String: Int]
        enum CodingKeys: String, CodingKey {
            case entries
            case byKind = "by_kind"
        }
    }

    var vaultID: String
    var key: Key
    /// The key's custody; absent for one bureau key.
    var custody: Custody?
    var policy: PolicyReference
    var schools: [School]
    var records: [Count]
    var totalRecords: Int
    var batches: Int
    var audit: Audit
    var fileBytes: Int64
    var disclosure: Disclosure

    struct Disclosure: Encodable {
        var k: Int
        var releases: Int
        var linearAudit: Bool
        var rank: Int?
        var atoms: Int?
        /// ρ spent and total, decimal strings, under a DP policy.
        var privacySpent: String?
        var privacyBudget: String?
        enum CodingKeys: String, CodingKey {
            case k, releases, rank, atoms
            case linearAudit = "lin_audit"
            case privacySpent = "privacy_rho_spent"
            case privacyBudget = "privacy_rho_total"
        }
    }

    enum CodingKeys: String, CodingKey {
        case key, custody, policy, schools, records, batches, audit, disclosure
        case vaultID = "vault_id"
        case totalRecords = "total_records"
        case fileBytes = "file_bytes"
    }
}

/// `eduvault vault status`.
struct VaultStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a vault's key, policy, schools, record counts and audit log length.",
        discussion: "Counts only: no score, pseudonym or ciphertext is printed. --json gives the same as one object."
    )

    @OptionGroup var vault: VaultDirectoryOption

    @Flag(help: "Print one JSON object instead of tables.")
    var json = false

    func run() async throws {
        let opened = try vault.open()
        let status: VaultStatus
        var byKind: [String: Int] = [:]
        do {
            status = try opened.status()
            try opened.forEachAuditEntry { byKind[$0.kind.rawValue, default: 0] += 1 }
        } catch { throw CLIError("cannot read the vault's status: \(error.description)") }
        var perSchool: [String: Int] = [:]
        for count in status.recordCounts { perSchool[count.schoolID, default: 0] += count.count }
        let total = status.recordCounts.reduce(0) { $0 + $1.count }
        let policy = try? opened.policy().policy
        let audit = (try? opened.auditState()).flatMap { $0 }.flatMap { try? LinearAudit(serialized: $0.bytes) }
        let disclosure = StatusJSON.Disclosure(
            k: policy?.minCellSize ?? 0, releases: status.releaseCount, linearAudit: policy?.linearAudit ?? true,
            rank: audit?.rank, atoms: audit?.atomCount,
            privacySpent: policy?.differentialPrivacy.map { _ in Policy.DifferentialPrivacy.decimal(nano: status.privacySpentNano) },
            privacyBudget: policy?.differentialPrivacy.map { Policy.DifferentialPrivacy.decimal(nano: $0.rhoTotalNano) })
        if json {
            try VaultSupport.printJSON(
                StatusJSON(
                    vaultID: status.vaultID, key: .init(id: status.keyID, bits: status.keyBits),
                    custody: opened.descriptor.custody, policy: status.policy,
                    schools: status.schools.map {
                        .init(
                            id: $0.id.rawValue, attributes: $0.attributes, records: perSchool[$0.id.rawValue] ?? 0,
                            registered: $0.registered)
                    },
                    records: status.recordCounts.map {
                        .init(school: $0.schoolID, subject: $0.subject, records: $0.count)
                    },
                    totalRecords: total, batches: status.batchCount,
                    audit: .init(entries: status.auditEntryCount, byKind: byKind), fileBytes: status.fileBytes,
                    disclosure: disclosure))
            return
        }
        print("Vault \(status.vaultID)  (\(vault.path))")
        print("  key:     \(status.keyID), \(status.keyBits) bits\(status.keyBits < 2048 ? "  (TEST-ONLY)" : "")")
        print("  custody: \(opened.descriptor.custody?.summary ?? "one bureau key")")
        print("  policy:  \(status.policy.id) v\(status.policy.version), sha256 \(status.policy.sha256)")
        let batches = "\(status.batchCount) batch\(status.batchCount == 1 ? "" : "es")"
        print("  storage: \(VaultSupport.humanBytes(status.fileBytes)) on disk, \(batches), \(total) records")
        let refused = byKind[AuditKind.batchRefused.rawValue] ?? 0
        print("  audit:   \(status.auditEntryCount) entries\(refused > 0 ? " (\(refused) refused batches)" : "")")
        if let policy {
            var line = "  disclosure: K-MIN k = \(policy.minCellSize), \(status.releaseCount) release"
                + (status.releaseCount == 1 ? "" : "s")
            if policy.linearAudit {
                line += ", LIN-AUDIT on" + (audit.map { " (released span: rank \($0.rank) over \($0.atomCount) atoms)" } ?? "")
            } else {
                line += ", LIN-AUDIT off"
            }
            print(line)
            if let dp = policy.differentialPrivacy {
                let left = max(0, dp.rhoTotalNano - status.privacySpentNano)
                print("  privacy budget (zCDP ρ): \(Policy.DifferentialPrivacy.decimal(nano: status.privacySpentNano)) of "
                      + "\(Policy.DifferentialPrivacy.decimal(nano: dp.rhoTotalNano)) spent, "
                      + "\(left == 0 ? "0" : Policy.DifferentialPrivacy.decimal(nano: left)) left "
                      + "(\(left / dp.rhoPerReleaseNano) more release\(left / dp.rhoPerReleaseNano == 1 ? "" : "s") at ρ = "
                      + "\(Policy.DifferentialPrivacy.decimal(nano: dp.rhoPerReleaseNano)))")
            }
        }
        print("")
        if status.schools.isEmpty {
            print("No schools registered yet (`eduvault school add`).")
        } else {
            print("Schools")
            print("  " + VaultSupport.pad("id", 16) + VaultSupport.pad("records", 10) + "attributes")
            for school in status.schools {
                let attributes = school.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                print(
                    "  " + VaultSupport.pad(school.id.rawValue, 16)
                        + VaultSupport.pad(String(perSchool[school.id.rawValue] ?? 0), 10)
                        + attributes.joined(separator: " "))
            }
        }
        if !status.recordCounts.isEmpty {
            print("")
            print("Records by school and subject")
            print("  " + VaultSupport.pad("school", 16) + VaultSupport.pad("subject", 16) + "records")
            for count in status.recordCounts {
                print(
                    "  " + VaultSupport.pad(count.schoolID, 16) + VaultSupport.pad(count.subject, 16) + "\(count.count)"
                )
            }
        }
    }
}

/// `eduvault vault check`.
struct VaultCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a vault's health: SQLite integrity, the signed log against the stored data, the linear audit.",
        discussion: """
            Runs PRAGMA integrity_check and foreign_key_check, compares descriptor.json with the copy inside the \
            database, then runs the auditor's verifier (`eduvault audit verify`) against the vault's own database \
            with its log key: hash chain, Merkle tree and signed checkpoints, batch signatures, releases against the \
            policy, tables against the log, and every batch's record root re-derived from the stored records. Finally \
            it rebuilds the linear audit from the release history. Exits non-zero with one error line if anything is \
            broken; run it after a crash, a restore or a disk problem. (It checks the operator's own copy: an \
            auditor verifies an export against a pinned key and a state file instead.)
            """
    )

    @OptionGroup var vault: VaultDirectoryOption

    func run() async throws {
        let opened = try vault.open()
        let report: IntegrityReport
        do { report = try opened.integrityCheck() } catch { throw CLIError("the checks could not run: \(error.description)") }
        var problems: [String] = []
        if report.sqliteIntegrity != ["ok"] {
            problems.append("SQLite integrity_check found \(report.sqliteIntegrity.count) problem(s)")
        }
        if report.foreignKeyViolations > 0 {
            problems.append("\(report.foreignKeyViolations) foreign-key violation(s)")
        }
        if report.atomProblems > 0 {
            problems.append("\(report.atomProblems) record(s) or atom(s) disagree (edited records or atom counts)")
        }
        let descriptorURL = opened.directory.appendingPathComponent(Vault.descriptorFileName)
        do {
            let onDisk = try Descriptor.read(from: descriptorURL)
            if onDisk != opened.descriptor {
                problems.append("descriptor.json differs from the descriptor stored in the database")
            }
        } catch {
            problems.append("descriptor.json is unreadable (\(error.message))")
        }
        // The auditor's verifier, on the vault's own database, with the vault's own log key.
        guard let logKey = opened.descriptor.logKey, let key = try? NoteVerifierKey(encoded: logKey) else {
            throw CLIError("vault \(opened.descriptor.vaultID) has no log key in its descriptor")
        }
        let source = opened.auditSource
        let audit: AuditReport
        do { audit = try AuditVerifier(logKey: key).verify(source, records: source) } catch {
            throw CLIError("the log could not be verified: \(error)")
        }
        for problem in audit.problems.prefix(5) { problems.append(problem.message) }
        if audit.problems.count > 5 { problems.append("\(audit.problems.count - 5) more log problem(s)") }
        let disclosure: DisclosureAuditReport
        do { disclosure = try DisclosureAudit.check(opened) } catch {
            throw CLIError("the release history cannot be checked: \(error.message)")
        }
        if disclosure.storedStateMatches == false {
            problems.append("the stored LIN-AUDIT state differs from the one rebuilt from the release history")
        }
        guard problems.isEmpty else {
            throw CLIError("vault \(opened.descriptor.vaultID) is damaged: " + problems.joined(separator: "; "))
        }
        print("sqlite integrity: ok")
        print("foreign keys:     ok")
        print("atoms:            ok (every record in its atom, atom sizes exact)")
        print("descriptor.json:  ok (matches the database)")
        for check in audit.checks { print("\((check.name + ":").padding(toLength: 17, withPad: " ", startingAt: 0)) ok (\(check.detail))") }
        print("audit chain:      ok (\(audit.entries) entries)")
        print("checkpoint:       size \(audit.checkpointSize), root \(audit.root) (signed by \(key.name))")
        let state = disclosure.storedStateMatches == true ? "stored state matches the rebuild"
            : "rebuilt from the history (no current stored state)"
        print("LIN-AUDIT:        \(disclosure.linearAuditEnabled ? "on" : "off"), \(disclosure.releases) release(s), rank "
              + "\(disclosure.rank) over \(disclosure.atoms) atoms, \(state)")
        if disclosure.violations.isEmpty {
            print("release history:  ok (no combination of released cells determines a total of fewer than k records)")
        } else {
            let shown = disclosure.violations.prefix(5).map { "release \($0.releaseID.prefix(12)) at log index \($0.logIndex)" }
            Terminal.note("warning: \(disclosure.violations.count) released cell(s) made a total of fewer than k records "
                          + "derivable when released (made while LIN-AUDIT was off or before it existed): "
                          + shown.joined(separator: ", ") + (disclosure.violations.count > 5 ? ", …" : ""))
        }
        if !audit.retention.isEmpty {
            Terminal.note("note: \(audit.retention.count) batch(es) are past the policy's retention; see `eduvault vault purge`")
        }
    }
}

/// `eduvault vault purge`: retention.
struct VaultPurge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete the records of batches received before a date (retention); the log still verifies.",
        discussion: """
            Deletes the stored records (ciphertexts, pseudonyms, attributes) of every batch received before --before, \
            one transaction and one `batch.purged` log entry per batch. The batch's record leaves stay, so an auditor \
            still re-derives its record root; its atoms stay as history for LIN-AUDIT. `vault status` and \
            `audit report` show what is past the policy's retention.

            Example: eduvault vault purge --vault v --before 2021-09-01
            """
    )

    @OptionGroup var vault: VaultDirectoryOption
    @Option(help: "Purge batches received before this date (YYYY-MM-DD or an ISO 8601 time).") var before: String
    @Flag(help: "Only say what would be purged.") var dryRun = false

    func run() async throws {
        let text = before.count == 10 ? before + "T00:00:00Z" : before
        guard let cutoff = Timestamp.parse(text) else { throw CLIError("--before must be a date such as 2021-09-01") }
        let opened = try vault.open()
        let summary: Vault.PurgeSummary
        do { summary = try opened.purge(before: cutoff, dryRun: dryRun) } catch { throw CLIError(error.message) }
        print((dryRun ? "would purge" : "purged") + " \(summary.records) records of \(summary.batches) batch(es) received "
              + "before \(Timestamp.format(cutoff))")
    }
}

/// `eduvault vault checkpoint`: the latest signed checkpoint, as a bureau or witness fetches it.
struct VaultCheckpoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the log's latest signed checkpoint with the witnesses' cosignatures (a C2SP signed note)."
    )

    @OptionGroup var vault: VaultDirectoryOption

    func run() async throws {
        let opened = try vault.open()
        guard let note = try opened.latestCheckpointNote() else { throw CLIError("the vault has no signed checkpoint yet") }
        print(note, terminator: "")
    }
}
