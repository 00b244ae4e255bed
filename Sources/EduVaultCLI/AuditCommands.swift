import ArgumentParser
import Foundation
import Primitives
import VaultAudit
import VaultApp
import VaultAuditor
import VaultClient
import VaultModel
import VaultStore

/// `eduvault audit`: what an auditor runs, trusting nothing but the vault's pinned log key.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Export a vault's log and data, verify them against the pinned log key, cosign, and report.",
        subcommands: [
            AuditExportCommand.self, AuditVerifyCommand.self, AuditReportCommand.self, AuditKeygenCommand.self,
            AuditCosignCommand.self,
        ]
    )
}

/// Exit codes of `audit verify` and `audit report`.
enum AuditExit {
    /// A check failed: the data or the log does not match what was signed.
    static let failed: Int32 = 1
    /// Proof of misbehaviour: a rollback or a fork of the log.
    static let misbehaviour: Int32 = 3
}

struct AuditExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write everything an auditor needs into a new directory.",
        discussion: """
            Writes the log entries (JSONL), every signed checkpoint and cosignature, the vault's tables (schools, \
            releases, atoms, purges) and every batch's stored records and leaves, from one consistent snapshot. The \
            auditor checks it with `eduvault audit verify --export DIR`, trusting only the vault's log key.
            """
    )

    @Option(help: "The vault directory.") var vault: String
    @Option(help: "A new (or empty) directory to write the export into.") var out: String

    func run() async throws {
        let opened = try openVault(vault)
        let summary: Vault.AuditExportSummary
        do {
            summary = try opened.exportAudit(to: URL(fileURLWithPath: out)) { Terminal.note("  " + $0) }
        } catch { throw CLIError("export failed: \(error.message)") }
        print(
            "exported \(summary.entries) log entries, \(summary.checkpoints) checkpoints, \(summary.batches) batches "
                + "(\(summary.records) records) and \(summary.releases) releases to \(out)")
        if let key = opened.descriptor.logKey { print("log key (pin this): \(key)") }
    }
}

/// Where `audit verify` and `audit report` read from, and what they trust.
struct AuditInputOptions: ParsableArguments {
    @Option(help: "An export directory written by `eduvault audit export`.") var export: String?
    @Option(help: "Verify a vault directory in place instead of an export (the operator's own check).") var vault:
        String?
    @Option(help: "The vault's pinned log key: the verifier key text (name+hash+base64) or a file holding it.")
    var logKey: String
    @Option(help: "The auditor's state file: the last verified checkpoint (created on first use, advanced on success).")
    var state: String?
    @Option(help: ArgumentHelp(
        "Also re-derive every batch's record root from its stored records, read from RECORDS.",
        discussion: "With --export: an export directory (usually the same one). With --vault: that vault directory. "
            + "With --server: the server's URL (the same as --with-records). Anything else is refused.",
        valueName: "dir-or-url"))
    var records: String?
    @Option(help: "Verify a live vault service instead (with --identity, an auditor's key).") var server: String?
    @Option(help: "With --server: your key file (`member keygen`).") var identity: String?
    @Option(help: "With --server: trust this PEM certificate.") var caCert: String?
    @Flag(help: "With --server: also fetch every batch's stored records and re-derive their roots.") var withRecords = false

    func pinnedKey() throws -> NoteVerifierKey { try PinnedLogKey.parse(logKey) }

    func loadState() throws -> AuditorState? {
        guard let state, FileManager.default.fileExists(atPath: state) else { return nil }
        do {
            return try JSONDecoder().decode(
                AuditorState.self, from: try Files.read(state, what: "state", limit: 1 << 20))
        } catch {
            throw CLIError("the state file \(state) is not an auditor state written by `eduvault audit verify`")
        }
    }

    /// Runs the verifier on the chosen input.
    func verify() throws -> AuditReport {
        let verifier = AuditVerifier(logKey: try pinnedKey(), state: try loadState())
        do {
            if let server {
                guard export == nil, vault == nil else { throw CLIError("give exactly one of --export, --vault or --server") }
                if let records, Self.normalizedURL(records) != Self.normalizedURL(server) {
                    throw CLIError("with --server, --records takes the server's URL (\(server)) or use --with-records; "
                        + "to check an export's records, use --export DIR --records DIR")
                }
                let client = try RemoteOptions(server: server, identity: identity, caCert: caCert).client()
                let source: HTTPAuditSource
                do { source = try HTTPAuditSource(client: client) } catch { throw CLIError(error.message) }
                return try verifier.verify(source, records: withRecords || records != nil ? source : nil)
            }
            guard !withRecords else { throw CLIError("--with-records goes with --server; use --records DIR otherwise") }
            switch (export, vault) {
            case (let export?, nil):
                let source = try ExportDirectory(URL(fileURLWithPath: export))
                let records = try self.records.map { try ExportDirectory(URL(fileURLWithPath: $0)) }
                return try verifier.verify(source, records: records)
            case (nil, let vault?):
                if let records, Self.normalizedPath(records) != Self.normalizedPath(vault) {
                    throw CLIError("with --vault, --records takes that vault directory (\(vault)): records are read "
                        + "from the vault itself")
                }
                let opened = try openVault(vault)
                let source = opened.auditSource
                return try verifier.verify(source, records: records == nil ? nil : source)
            default:
                throw CLIError("give exactly one of --export DIR or --vault DIR")
            }
        } catch let error as CLIError {
            throw error
        } catch let error as ExportError {
            throw CLIError(error.message)
        } catch let error as AppError {
            throw CLIError(error.message)
        } catch {
            throw CLIError("the vault could not be read for verification: \(error)")
        }
    }

    /// A server URL compared without a trailing slash and with its scheme and host in lower case.
    static func normalizedURL(_ text: String) -> String {
        var text = text
        while text.hasSuffix("/") { text.removeLast() }
        guard var components = URLComponents(string: text) else { return text }
        components.scheme = components.scheme?.lowercased()
        components.host = components.host?.lowercased()
        return components.string ?? text
    }

    /// A directory compared by its standardized absolute path.
    static func normalizedPath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Saves the new state after a passing verification.
    func advance(_ report: AuditReport) throws {
        guard let state, let next = report.newState else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try Files.write(try encoder.encode(next), to: state, mode: 0o644, overwrite: true, what: "auditor state")
    }
}

struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a vault's log, checkpoints, batches, releases and (with --records) stored data.",
        discussion: """
            Trusts only --log-key. Recomputes the log's hash chain and Merkle tree, checks every signed checkpoint, \
            proves the log still extends the checkpoint in --state (then advances it), re-checks every batch \
            signature against the school keys registered in the log, every release against the policy in force at \
            its time, the vault's tables against the log, and with --records every batch's record root. Exit 0: \
            every check passed; 1: a check failed (each problem is named by batch and entry); 3: proof of \
            misbehaviour (a rollback or a fork), printed as the two signed checkpoints.

            Example: eduvault audit verify --export audit/ --records audit/ --log-key vault.logkey --state auditor.state
            """
    )

    @OptionGroup var input: AuditInputOptions
    @Flag(help: "Print the whole report as JSON.") var json = false

    func run() async throws {
        let report = try input.verify()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            AuditPrinter.print(report)
        }
        try input.advance(report)
        switch report.verdict {
        case .pass: return
        case .fail: throw ExitCode(AuditExit.failed)
        case .misbehaviour: throw ExitCode(AuditExit.misbehaviour)
        }
    }
}

enum AuditPrinter {
    static func print(_ report: AuditReport) {
        Swift.print("log \(report.origin): \(report.entries) entries, checkpoint size \(report.checkpointSize)")
        for check in report.checks {
            Swift.print("  \(check.passed ? "ok  " : "FAIL") \(check.name): \(check.detail)")
        }
        for problem in report.problems.prefix(50) {
            Swift.print("  - [\(problem.check)] \(problem.message)")
        }
        if report.problems.count > 50 { Swift.print("  … \(report.problems.count - 50) more") }
        if let m = report.misbehaviour {
            Swift.print("\nPROOF OF MISBEHAVIOUR (\(m.kind)): the vault signed both of these checkpoints.")
            Swift.print(
                "--- checkpoint verified earlier ---\n\(m.earlier)--- checkpoint now ---\n\(m.later)", terminator: "")
        }
        Swift.print("verdict: \(report.verdict.rawValue)")
    }
}

struct AuditReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML compliance report (and optionally JSON) from a verification.",
        discussion: """
            Runs the same checks as `audit verify` and writes one HTML page with no external assets: the verdict, \
            policy versions and hashes, schools and their keys, batches and records per school per month, releases \
            and refusals per rule, key sizes, records past the policy's retention, and every check.
            """
    )

    @OptionGroup var input: AuditInputOptions
    @Option(help: "The HTML file to write.") var out: String
    @Option(name: .customLong("json"), help: "Also write the report as JSON here.") var jsonOut: String?
    @Flag(help: "Replace existing output files.") var force = false

    func run() async throws {
        let report = try input.verify()
        try Files.write(Data(ComplianceReport.html(report).utf8), to: out, overwrite: force, what: "report")
        if let jsonOut {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            try Files.write(try encoder.encode(report), to: jsonOut, overwrite: force, what: "report JSON")
        }
        print("report written to \(out): verdict \(report.verdict.rawValue)")
        try input.advance(report)
        switch report.verdict {
        case .pass: return
        case .fail: throw ExitCode(AuditExit.failed)
        case .misbehaviour: throw ExitCode(AuditExit.misbehaviour)
        }
    }
}

struct AuditKeygenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a witness key for cosigning checkpoints: F (0600) and its public verifier key F.pub."
    )

    @Option(help: "The witness's name, e.g. auditor.example/eduvault.") var name: String
    @Option(help: "Where to write the private key (F.pub gets the verifier key).") var out: String

    func run() async throws {
        guard !name.isEmpty, name.count <= 128, !name.contains("+"), !name.contains(where: \.isWhitespace) else {
            throw CLIError("--name must be 1–128 characters without spaces or '+'")
        }
        let privateKey = try Ed25519.PrivateKey()
        let signer = NoteSigner(name: name, privateKey: privateKey)
        try Files.write([
            AtomicFile.Entry(Data(LogKey.encode(name: name, privateKey: privateKey).utf8), to: URL(fileURLWithPath: out),
                             mode: 0o600),
            AtomicFile.Entry(Data((signer.cosignerKey.encoded + "\n").utf8), to: URL(fileURLWithPath: out + ".pub")),
        ], what: "the witness key")
        print("witness key written to \(out) (0600); give \(out).pub to bureaus that require cosignatures")
    }
}

struct AuditCosignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cosign",
        abstract: "Cosign the checkpoint you last verified (C2SP tlog-cosignature) and hand it to the vault.",
        discussion: """
            Cosigns the checkpoint in --state, which `audit verify` wrote after every check passed. With --vault the \
            cosignature is stored in that vault (served with its checkpoint); with --out the cosigned checkpoint \
            (the vault's signed note with your cosignature line added) is written to a file for the operator.

            The operator stores such a file with `eduvault audit cosign --vault DIR --add FILE`: the checkpoint must \
            be one the vault signed and the line a well-formed tlog-cosignature. With --witness (the witness's .pub \
            key) the cosignature must also verify; without, it is stored unverified (bureaus verify cosignatures \
            with the witness keys they trust, `release decrypt --witness`).

            Examples:
              eduvault audit cosign --state auditor.state --identity witness.key --out cosigned.txt
              eduvault audit cosign --vault vault/ --add cosigned.txt --witness witness.key.pub
            """
    )

    @Option(help: "The auditor's state file (from a passing `audit verify`).") var state: String?
    @Option(help: "The witness key file (from `eduvault audit keygen`).") var identity: String?
    @Option(help: "Store the cosignature in this vault directory.") var vault: String?
    @Option(help: "Write the cosigned checkpoint to this file.") var out: String?
    @Option(help: "With --vault: store the cosignature in this file (written by `audit cosign --out`).") var add: String?
    @Option(help: "With --add: the witness's public key (F.pub from `audit keygen`); its cosignature must verify.")
    var witness: String?

    func run() async throws {
        if let add {
            guard let vault, state == nil, identity == nil, out == nil else {
                throw CLIError("--add FILE goes with --vault DIR (and optionally --witness F.pub) only")
            }
            try store(add, in: vault)
            return
        }
        guard witness == nil else { throw CLIError("--witness goes with --add") }
        guard let state, let identity else { throw CLIError("give --state FILE and --identity F (or --vault DIR --add FILE)") }
        guard vault != nil || out != nil else { throw CLIError("give --vault DIR or --out FILE") }
        guard let stateData = try? Files.read(state, what: "state", limit: 1 << 20),
            let saved = try? JSONDecoder().decode(AuditorState.self, from: stateData)
        else { throw CLIError("\(state) is not an auditor state; run `eduvault audit verify --state \(state)` first") }
        let signer: NoteSigner
        do {
            signer = try LogKey.decode(
                String(decoding: try Files.read(identity, what: "witness key", limit: 4096), as: UTF8.self))
        } catch { throw CLIError("\(identity) is not a witness key from `eduvault audit keygen`") }
        let checkpoint: Checkpoint
        let note: SignedNote
        do {
            note = try SignedNote(parsing: saved.checkpoint)
            checkpoint = try Checkpoint(parsing: note.text)
        } catch { throw CLIError("the state's checkpoint does not parse") }
        let signature = try Cosignature.sign(
            checkpoint: checkpoint, timestamp: UInt64(Date().timeIntervalSince1970),
            witness: signer)
        let line = signature.line
        if let out {
            // The vault's own signature (its key is named by the origin) and this cosignature: no other witness's.
            let vaultLines = note.signatures.filter { Array($0.name.utf8) == Array(checkpoint.origin.utf8) }.map(\.line)
            let cosigned = note.text + "\n" + (vaultLines + [line]).map { $0 + "\n" }.joined()
            try Files.write(Data(cosigned.utf8), to: out, what: "cosigned checkpoint")
        }
        if let vault {
            let opened = try openVault(vault)
            do { try opened.addCosignature(size: checkpoint.size, witness: signer.cosignerKey, line: line) } catch {
                throw CLIError(error.message)
            }
        }
        print("cosigned checkpoint of size \(checkpoint.size) as \(signer.name)")
    }

    /// The operator's side: stores the cosignature(s) in `file` in `vault`.
    func store(_ file: String, in vault: String) throws {
        let text = String(decoding: try Files.read(file, what: "cosigned checkpoint", limit: SignedNote.maxNoteBytes), as: UTF8.self)
        var key: CosignerVerifierKey?
        if let witness {
            let encoded = FileManager.default.fileExists(atPath: witness)
                ? String(decoding: try Files.read(witness, what: "witness key", limit: 4096), as: UTF8.self) : witness
            do { key = try CosignerVerifierKey(encoded: encoded.trimmingCharacters(in: .whitespacesAndNewlines)) } catch {
                throw CLIError("--witness is not a witness public key (the .pub file from `audit keygen`)")
            }
        }
        let opened = try openVault(vault)
        let stored: (size: Int64, witnesses: [String])
        do { stored = try opened.addCosignatures(note: text, witness: key) } catch {
            throw CLIError("\(file): \(error.message)")
        }
        let how = key == nil ? " (not verified: no --witness key given)" : " (verified)"
        print("stored the cosignature of \(stored.witnesses.joined(separator: ", ")) for the checkpoint of size \(stored.size)\(how)")
    }
}
