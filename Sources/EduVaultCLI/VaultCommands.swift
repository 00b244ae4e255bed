import ArgumentParser
import Foundation
import Paillier
import Primitives
import VaultAggregation
import VaultAudit
import VaultApp
import VaultAuditor
import VaultClient
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
                      VaultCheckpoint.self, VaultThreshold.self]
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
            of the verification keys, and the vault keeps threshold.json (public) to check the partial decryptions \
            parties post to the service (`release share --server`). A policy with rule DECRYPT-QUORUM refuses a key \
            held by fewer parties or with a lower threshold than it names, including a single bureau key.

            Numeric covariates (a prior score, study hours, absences…) for regression models are declared here, \
            with --covariate NAME:MIN:MAX (repeatable; bounds at the score's scale, e.g. prior_score:0:100) or in a \
            YAML schema file (--schema FILE; format in the README). Score CSVs then carry one column per covariate, \
            and each record carries its products (x, x², x·y, x_j·x_k) in further ciphertexts.
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

    @Option(
        name: .customLong("covariate"),
        help: ArgumentHelp(
            "A numeric covariate NAME:MIN:MAX (repeatable; at most 8; MIN ≥ 0; the score's scale).",
            valueName: "name:min:max"))
    var covariates: [String] = []

    @Option(
        help: ArgumentHelp(
            "A YAML schema file: scale, score bounds, subjects, attributes, covariates (see the README).",
            valueName: "file"))
    var schema: String?

    @Flag(help: "Accept a key below the policy's KEY-MIN. Test fixtures only; never for real data.")
    var insecureTestKey = false

    func validate() throws {
        guard schema == nil || covariates.isEmpty else {
            throw ValidationError("declare covariates either with --covariate or in the --schema file, not both")
        }
    }

    /// The schema of the new vault: the schema file, or the default schema with the --covariate flags.
    func makeSchema() throws -> Schema {
        if let schema {
            let bytes = try Files.read(schema, what: "schema file", limit: SchemaFile.maxFileBytes)
            do { return try SchemaFile.parse(Array(bytes)) } catch { throw CLIError("\(schema): \(error.message)") }
        }
        let scale = 1
        var declared: [Schema.Covariate] = []
        for flag in covariates {
            do { declared.append(try SchemaFile.covariate(flag: flag, scale: scale)) } catch {
                throw CLIError(error.message)
            }
        }
        do { return try Schema(covariates: declared) } catch { throw CLIError("the schema is invalid: \(error.message)") }
    }

    func run() async throws {
        var (policyBytes, policySource) = try PolicySource.load(policy)
        var rules = try PolicySource.parse(policyBytes, source: policySource)
        let keyData = try Files.read(publicKey, what: "public key", limit: 1 << 20)
        let jwk = try PublicKeyFile.jwk(from: keyData, path: publicKey)
        let key: PublicKey
        do {
            key = try PaillierJSON.decodePublicKey(keyData, allowInsecureSize: true)
            try key.checkModulusStructure()
        } catch {
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
        var thresholdFile: Data?
        if let threshold {
            let data = try Files.read(threshold, what: "threshold key", limit: ThresholdJSON.maxFileBytes)
            thresholdFile = data
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
        let schema = try makeSchema()
        try VaultSupport.checkLayout(schema, fits: key)
        let vaultID = try VaultSupport.newVaultID()
        let descriptor: Descriptor
        do {
            descriptor = try Descriptor(
                vaultID: vaultID, publicKey: jwk, keyID: key.keyID, keyBits: key.bitCount,
                schema: schema, policy: rules.reference, custody: custody)
        } catch { throw CLIError("cannot describe the vault: \(error.description)") }
        let created: Vault
        do {
            created = try Vault.create(directory: vault.url, descriptor: descriptor, policyBytes: policyBytes,
                                       thresholdKey: thresholdFile.map { Array($0) })
        } catch {
            throw CLIError("cannot create the vault: \(error.description)")
        }
        print("Created vault \(descriptor.vaultID) in \(vault.path)")
        print("  key:        \(descriptor.keyID) (\(descriptor.keyBits) bits)")
        print("  custody:    \(descriptor.custody.map { "\($0.summary), ceremony \($0.ceremony)" } ?? "one bureau key")")
        print("  policy:     \(rules.id) v\(rules.version) sha256 \(rules.sha256.prefix(16))… (\(policySource))")
        if !schema.covariates.isEmpty, let layout = try? schema.momentLayout(keyBits: key.bitCount) {
            print("  covariates: \(VaultSupport.covariateSummary(schema)) (\(layout.products.count) products, "
                  + "\(layout.ciphertextCount) ciphertexts a record)")
        }
        print("  descriptor: \(created.directory.appendingPathComponent(Vault.descriptorFileName).path)")
        print("Next: register schools with `eduvault school add --vault \(vault.path) --id ID --public-key F.pub` (F from `school keygen`).")
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
        let service = try vault.service()
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
                receipt = try service.ingest(batchAt: url, progress: { progress.advance() })
            } catch {
                progress.finish()
                if error.code == .keyTooSmall { throw CLIError(error.message) }
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

/// `eduvault vault status`.
struct VaultStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a vault's key, policy, schools, record counts and audit log length.",
        discussion: "Counts only: no score, pseudonym or ciphertext is printed. --json gives the same as one object."
    )

    @Option(name: .customLong("vault"), help: ArgumentHelp("The vault directory (holds vault.sqlite and descriptor.json).", valueName: "dir"))
    var path: String?

    @OptionGroup var remote: RemoteOptions

    @Flag(help: "Print one JSON object instead of tables.")
    var json = false

    func validate() throws {
        guard (path == nil) != (remote.server == nil) else {
            throw ValidationError("give --vault DIR, or --server URL with --identity F")
        }
    }

    func run() async throws {
        let report: StatusReport
        let location: String
        if let path {
            let service = try VaultDirectoryOption(path: path).service()
            do { report = try service.status() } catch { throw CLIError(error.message) }
            location = path
        } else {
            let client = try remote.client()
            do { report = try await client.status() } catch { throw CLIError(error.message) }
            location = client.baseURL.absoluteString
        }
        if json {
            try VaultSupport.printJSON(report)
            return
        }
        for line in report.text(location: location) { print(line) }
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
        let service = try vault.service()
        let report: CheckReport
        do { report = try service.check() } catch { throw CLIError(error.message) }
        guard report.problems.isEmpty else {
            throw CLIError("vault \(report.vaultID) is damaged: " + report.problems.joined(separator: "; "))
        }
        for line in report.lines { print(line) }
        for warning in report.warnings { Terminal.note(warning) }
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

/// `eduvault vault threshold`: store threshold.json in a threshold vault made before the vault kept it.
struct VaultThreshold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threshold",
        abstract: "Store the threshold key (threshold.json) in a threshold vault that does not hold it yet.",
        discussion: """
            The service checks every partial decryption a party posts (`release share --server`) against the \
            threshold key's verification keys. `vault init --threshold` stores threshold.json in the vault; a vault \
            made before it did records only the SHA-256 of the verification keys. This command stores the file once, \
            after checking that its key id, ceremony id, parties, threshold and verification keys are exactly the \
            custody the descriptor and the log recorded, with a threshold.stored audit entry. Storing the same file \
            again changes nothing; another file is refused. The file is public: it holds no share.

            Example: eduvault vault threshold --vault vault custody/threshold.json
            """
    )

    @OptionGroup var vault: VaultDirectoryOption

    @Argument(help: ArgumentHelp("threshold.json from `eduvault keys ceremony`.", valueName: "file"))
    var threshold: String

    func run() async throws {
        let data = try Files.read(threshold, what: "threshold key", limit: ThresholdJSON.maxFileBytes)
        let service: VaultService
        do { service = try VaultService(vault: try vault.open()) } catch let error as AppError { throw CLIError(error.message) }
        let stored: Bool
        do { stored = try service.storeThresholdKey(data) } catch { throw CLIError("\(threshold): \(error.message)") }
        let custody = service.vault.descriptor.custody.map { "\($0.summary), ceremony \($0.ceremony)" } ?? ""
        print(stored ? "Stored \(threshold) in vault \(service.vault.descriptor.vaultID) (\(custody)); logged as threshold.stored"
              : "Vault \(service.vault.descriptor.vaultID) already holds this threshold.json (\(custody)); nothing changed")
    }
}
