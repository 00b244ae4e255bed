import ArgumentParser
import BigNum
import Foundation
import Paillier
import Primitives
import VaultApp
import VaultModel
import VaultStore

/// `eduvault school`: register schools and prepare their encrypted batches.
struct SchoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "school",
        abstract: "Make a school's keys, register the school with a vault, and encrypt its scores into a signed batch.",
        discussion: """
            `keygen` runs at the school: it makes the school's signing key and pseudonym key (kept by the school, \
            mode 0600) and a public part F.pub. `add --public-key F.pub` runs at the vault: it registers the \
            school's public facts and public key; no secret ever reaches the vault. `encrypt` runs at the school: \
            it turns a score CSV into a batch file that holds no student id and no readable score.
            """,
        subcommands: [SchoolKeygen.self, SchoolAdd.self, SchoolEncrypt.self, SchoolUpload.self]
    )
}

/// `eduvault school add`.
/// `eduvault school keygen`: secrets are made where they are used.
struct SchoolKeygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "At the school: make the school's signing and pseudonym keys (F, mode 0600) and their public part F.pub.",
        discussion: """
            F holds the school's Ed25519 signing key and its HMAC pseudonym key: keep it at the school, it signs \
            batches in the school's name and links pseudonyms to student ids. Send F.pub to the vault operator, who \
            registers the school with `eduvault school add --public-key F.pub`.

            Example: eduvault school keygen --school GS-R01 --descriptor descriptor.json --out GS-R01.keys
            """
    )

    @Option(help: "The school id, [A-Za-z0-9_-]{1,64}.") var school: String
    @Option(help: "The vault's descriptor.json (names the vault the keys are for).") var descriptor: String
    @Option(help: "Where to write the secret keys (F.pub gets the public part).") var out: String

    func run() async throws {
        let schoolID: SchoolID
        do { schoolID = try SchoolID(school) } catch { throw CLIError("--school: \(error.message)") }
        let described: Descriptor
        do { described = try Descriptor.decode(try Files.read(descriptor, what: "descriptor", limit: Descriptor.maxFileBytes)) }
        catch let error as ModelError { throw CLIError("the descriptor is invalid: \(error.message)") }
        let keys: SchoolKeys
        let publicPart: SchoolPublicKeys
        do {
            keys = try SchoolKeys.generate(schoolID: schoolID, vaultID: described.vaultID)
            publicPart = try SchoolPublicKeys(keys)
        } catch { throw CLIError("cannot generate the school's keys: \(error.message)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try Files.write([
            AtomicFile.Entry(try encoder.encode(keys) + Data([10]), to: URL(fileURLWithPath: out), mode: 0o600),
            AtomicFile.Entry(try encoder.encode(publicPart) + Data([10]), to: URL(fileURLWithPath: out + ".pub")),
        ], what: "the school's keys")
        print("school \(schoolID): keys in \(out) (mode 0600; keep them at the school), public part in \(out).pub")
        print("Next: send \(out).pub to the vault operator: eduvault school add --vault DIR --id \(schoolID) --public-key \(out).pub")
    }
}

struct SchoolAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register a school from the public part of its keys (`school keygen` at the school).",
        discussion: """
            Registers the school's public attributes and its Ed25519 public key from F.pub, which the school made \
            with `eduvault school keygen`; the vault never sees the school's secrets. Attributes are public facts \
            used for grouping (region=rural|urban, province, county, …); names are lower-case tokens [a-z0-9_-], \
            values 1–128 printable characters.

            Migration: --keys-out FILE instead of --public-key generates the school's keys at the vault and writes \
            them to FILE (0600), as earlier versions did. Then the operator has held the secrets: prefer keygen.
            """
    )

    @OptionGroup var vault: VaultDirectoryOption

    @Option(help: ArgumentHelp("The school id, [A-Za-z0-9_-]{1,64} (e.g. GP).", valueName: "id"))
    var id: String

    @Option(
        name: .customLong("attr"),
        help: ArgumentHelp(
            "A public school attribute NAME=VALUE, repeatable (e.g. --attr region=rural --attr province=Gansu).",
            valueName: "name=value"))
    var attributes: [String] = []

    @Option(help: ArgumentHelp("The school's public key file (F.pub from `eduvault school keygen`).", valueName: "file"))
    var publicKey: String?

    @Option(help: ArgumentHelp("Legacy: generate the school's keys at the vault and write them here (0600).", valueName: "file"))
    var keysOut: String?

    @Flag(help: "With --keys-out: replace an existing keys file.")
    var force = false

    func run() async throws {
        let schoolID: SchoolID
        do { schoolID = try SchoolID(id) } catch { throw CLIError("--id: \(error.message)") }
        let parsed = try Self.parseAttributes(attributes)
        switch (publicKey, keysOut) {
        case let (publicKey?, nil):
            let opened = try vault.open()
            let part: SchoolPublicKeys
            do { part = try SchoolPublicKeys.decode(try Files.read(publicKey, what: "school public key", limit: 64 << 10)) }
            catch let error as ModelError { throw CLIError("\(publicKey): \(error.message)") }
            guard part.schoolID == schoolID else {
                throw CLIError("\(publicKey) is the public key of school \(part.schoolID), not \(schoolID)")
            }
            guard part.vaultID == opened.descriptor.vaultID else {
                throw CLIError("\(publicKey) was made for vault \(part.vaultID), not \(opened.descriptor.vaultID)")
            }
            do { try opened.registerSchool(id: schoolID, attributes: parsed, signingPublicKey: try part.publicKey()) } catch {
                throw CLIError("cannot register school \(schoolID): \(error)")
            }
            let shown = parsed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            print("Registered school \(schoolID) in vault \(opened.descriptor.vaultID)\(shown.isEmpty ? "" : " (\(shown))") "
                  + "from its public key; its secrets stay at the school")
        case let (nil, keysOut?):
            try legacyRegister(schoolID, parsed, keysOut: keysOut)
        default:
            throw CLIError("give --public-key F.pub (from `eduvault school keygen` at the school) or, for the legacy flow, --keys-out FILE")
        }
    }

    private func legacyRegister(_ schoolID: SchoolID, _ parsed: [String: String], keysOut: String) throws {
        let destination = URL(fileURLWithPath: keysOut)
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: destination.path) && !force {
            throw CLIError("keys file already exists: \(keysOut) (remove it or pass --force)")
        }
        let directory = destination.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("directory does not exist: \(directory.path)")
        }
        let opened = try vault.open()
        let keys: SchoolKeys
        let signingKey: Ed25519.PrivateKey
        do {
            keys = try SchoolKeys.generate(schoolID: schoolID, vaultID: opened.descriptor.vaultID)
            signingKey = try keys.signingKey()
        } catch { throw CLIError("cannot generate the school's keys: \(error.message)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        var data: Data
        do { data = try encoder.encode(keys) } catch { throw CLIError("cannot encode the school's keys") }
        data.append(UInt8(ascii: "\n"))
        // Stage the secrets beside the destination first (0600, synced), register, then commit them into place
        // (AtomicFile): a failed registration leaves no keys file, and a registered school always has its keys.
        let staged: AtomicFile.Staged
        do { staged = try AtomicFile.stage(data, for: destination, mode: 0o600) } catch {
            throw CLIError(error, what: "school keys")
        }
        do {
            try opened.registerSchool(id: schoolID, attributes: parsed, signingPublicKey: signingKey.publicKey)
        } catch {
            staged.discard()
            throw CLIError("cannot register school \(schoolID): \(error.description)")
        }
        let temporary = staged.temporary.path
        do { try staged.commit(overwrite: force, keepOnFailure: true) } catch {
            if error.code == .notDurable { throw CLIError(error, what: "school keys") }
            throw CLIError(
                "school \(schoolID) is registered but its keys could not be moved to \(keysOut) (\(error.reason)); they "
                    + "are in \(temporary) — move that file by hand")
        }
        let shown = parsed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print(
            "Registered school \(schoolID) in vault \(opened.descriptor.vaultID)\(shown.isEmpty ? "" : " (\(shown))")")
        print("  keys: \(keysOut) (mode 0600; secret: give it to the school only)")
    }

    /// Parses and checks `NAME=VALUE` pairs; `region` is canonicalised to `rural` or `urban`.
    static func parseAttributes(_ pairs: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "=") else {
                throw CLIError("--attr takes NAME=VALUE, e.g. --attr region=rural")
            }
            let name = String(pair[..<equals]).lowercased()
            let value = String(pair[pair.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            let nameOK =
                !name.isEmpty && name.utf8.count <= 32
                && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }
            guard nameOK else {
                throw CLIError("--attr: attribute names must match [a-z0-9_-]{1,32} (e.g. region, province, county)")
            }
            guard !value.isEmpty else { throw CLIError("--attr \(name): the value is empty") }
            guard result[name] == nil else { throw CLIError("--attr \(name) is given twice") }
            if name == "region" {
                let lowered = value.lowercased()
                guard lowered == "rural" || lowered == "urban" else {
                    throw CLIError("--attr region must be rural or urban")
                }
                result[name] = lowered
            } else {
                result[name] = value
            }
        }
        return result
    }
}

/// `eduvault school encrypt`.
struct SchoolEncrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt a school's score CSV into a signed batch file for the vault.",
        discussion: """
            The CSV needs the columns student_id, subject and score; other columns must be attributes the vault's \
            schema declares (grade, term, sex, residence by default). Each student id is replaced by a keyed \
            pseudonym (HMAC-SHA-256 under the school's key), each score x is packed with x² and encrypted under the \
            bureau's public key from the descriptor, and the batch is signed with the school's key. The file is \
            checked completely before anything is encrypted; errors name the file, line and column, never a \
            student id or a score. If anything fails no output file is left behind.
            """
    )

    @Option(help: ArgumentHelp("The vault's descriptor.json (from the vault operator).", valueName: "file"))
    var descriptor: String

    @Option(help: ArgumentHelp("This school's id; must match the keys file.", valueName: "id"))
    var school: String

    @Option(help: ArgumentHelp("This school's secret keys file (from `eduvault school add`).", valueName: "file"))
    var keys: String

    @Option(help: ArgumentHelp("The score CSV (student_id, subject, score, attribute columns).", valueName: "csv"))
    var input: String

    @Option(help: ArgumentHelp("Where to write the batch file.", valueName: "batch"))
    var output: String

    @Flag(help: "Accept a vault key below 2048 bits (test vaults only).")
    var insecureTestKey = false

    @Flag(help: "Replace an existing output file.")
    var force = false

    func run() async throws {
        let description: Descriptor
        do { description = try Descriptor.read(from: URL(fileURLWithPath: descriptor)) } catch {
            throw CLIError("cannot read the descriptor \(descriptor): \(error.description)")
        }
        let keysData = try Files.read(keys, what: "school keys", limit: 64 * 1024)
        let schoolKeys: SchoolKeys
        do { schoolKeys = try JSONDecoder().decode(SchoolKeys.self, from: keysData) } catch {
            throw CLIError("\(keys) is not an EduVault school keys file (eduvault-school-keys/1)")
        }
        guard schoolKeys.schoolID.rawValue == school else {
            throw CLIError("the keys file belongs to school \(schoolKeys.schoolID), not --school \(school)")
        }
        guard schoolKeys.vaultID == description.vaultID else {
            throw CLIError(
                "the keys file is for vault \(schoolKeys.vaultID), the descriptor for vault \(description.vaultID)")
        }
        let inputURL = URL(fileURLWithPath: input)
        let outputURL = URL(fileURLWithPath: output)
        guard FileManager.default.isReadableFile(atPath: inputURL.path) else {
            throw CLIError("score file not found or unreadable: \(input)")
        }
        if FileManager.default.fileExists(atPath: outputURL.path) && !force {
            throw CLIError("output already exists: \(output) (remove it or pass --force)")
        }
        // Ctrl-C or SIGTERM from here on removes the half-written temporary file before exiting.
        let cleanup = InterruptCleanup(output: outputURL)
        defer { cleanup.cancel() }
        var progress: ProgressBar? = nil
        defer { progress?.finish() }
        let summary: BatchEncryption.Summary
        do {
            summary = try await BatchEncryption.encrypt(
                descriptor: description, keys: schoolKeys, input: inputURL, output: outputURL, overwrite: force,
                allowInsecureKey: insecureTestKey, counted: { progress = ProgressBar("Encrypting", total: $0) },
                progress: { progress?.advance(by: $0) })
        } catch { throw CLIError(error.message) }
        progress?.finish()
        let rows = summary.rows, subjects = summary.subjects, digest = summary.contentHash
        let seconds = summary.seconds
        let subjectList = subjects.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print(
            "Encrypted \(rows) records for school \(schoolKeys.schoolID) in " + String(format: "%.1f s", seconds)
                + " (" + String(format: "%.0f", Double(rows) / max(seconds, 0.001)) + " records/s)")
        print("  subjects:     \(subjectList)")
        print("  batch:        \(output)")
        print("  content hash: \(Hex.encode(digest))")
        print("  vault \(description.vaultID), key \(description.keyID) (\(description.keyBits) bits)")
    }
}
