import ArgumentParser
import Foundation
import VaultApp
import VaultClient
import VaultModel

/// `--server URL --identity F [--ca-cert F]`: talk to `eduvault serve` instead of a vault directory.
struct RemoteOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The vault service, e.g. http://127.0.0.1:8443 (`eduvault serve`).", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("Your key file: a member key (`member keygen`) or a school's keys (`school keygen`).",
                               valueName: "file"))
    var identity: String?

    @Option(help: ArgumentHelp("Trust this PEM certificate (a self-signed server certificate or its CA).", valueName: "file"))
    var caCert: String?

    /// A signing client for `--server`, with the key from `--identity` (or `keys`, for `school upload --keys`).
    func client(keys: String? = nil) throws -> VaultHTTPClient {
        guard let server else { throw CLIError("give --server URL") }
        guard let path = keys ?? identity else { throw CLIError("give --identity F (your key file) to sign requests") }
        let identity: Identity
        do { identity = try Identity.load(try Files.read(path, what: "key", limit: 64 << 10)) } catch let error as AppError {
            throw CLIError("\(path): \(error.message)")
        }
        do { return try VaultHTTPClient(server: server, identity: identity, caCertificate: caCert.map { URL(fileURLWithPath: $0) }) }
        catch { throw CLIError(error.message) }
    }
}

/// `eduvault school upload`: send batches to the service, signed with the school's key.
struct SchoolUpload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "At the school: upload batch files to the vault service and print the receipts.",
        discussion: """
            Each request is signed with the school's signing key from its keys file (RFC 9421, keyid = school id); \
            the service accepts only batches signed for that school. Uploading a batch again is harmless: the \
            service answers with the original receipt ("already stored").

            Example: eduvault school upload --server https://vault.example:8443 --keys GS-R01.keys.json GS-R01.batch
            """
    )

    @Option(help: ArgumentHelp("The vault service URL.", valueName: "url")) var server: String
    @Option(help: ArgumentHelp("The school's keys file (from `school keygen`).", valueName: "file")) var keys: String
    @Option(help: ArgumentHelp("Trust this PEM certificate (self-signed server).", valueName: "file")) var caCert: String?
    @Flag(help: "Print each receipt as one JSON line.") var json = false
    @Argument(help: ArgumentHelp("Batch files made by `eduvault school encrypt`.", valueName: "batch")) var batches: [String]

    func validate() throws {
        guard !batches.isEmpty else { throw ValidationError("give at least one batch file") }
    }

    func run() async throws {
        let client = try RemoteOptions(server: server, identity: keys, caCert: caCert).client()
        var sent = 0
        for path in batches {
            let name = URL(fileURLWithPath: path).lastPathComponent
            let result: (receipt: Receipt, stored: Bool)
            do { result = try await client.upload(batch: URL(fileURLWithPath: path)) } catch {
                let earlier = sent == 0 ? "" : " (the \(sent) batch\(sent == 1 ? "" : "es") before it are stored)"
                throw CLIError("batch \(name): \(error.message)\(earlier)")
            }
            sent += 1
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(result.receipt), as: UTF8.self))
                continue
            }
            let receipt = result.receipt
            print("\(result.stored ? "stored" : "already stored"): \(name)  batch \(receipt.batchID.prefix(16))…  school "
                  + "\(receipt.schoolID)  records \(receipt.recordCount)  log #\(receipt.logIndex)")
        }
    }
}

extension RemoteOptions {
    init(server: String?, identity: String?, caCert: String?) {
        self.init()
        self.server = server
        self.identity = identity
        self.caCert = caCert
    }
}

/// `eduvault release fetch`: a stored release from the service, and optionally the partial decryptions posted for it.
struct ReleaseFetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch a release the vault stored, by id, from the vault service.",
        discussion: """
            With --partials DIR (threshold vaults) the command also fetches the partial decryptions the parties \
            posted (`release share --server`; GET /v1/releases/ID/shares, which needs the ROLES action \
            release.decrypt) and writes each as DIR/PARTY.partial.json; then `release decrypt --threshold \
            threshold.json RELEASE DIR/*.partial.json` checks every proof again and decrypts.

            Example: eduvault release fetch --server URL --identity bureau.key 3f2a… --out release.json --partials partials/
            """
    )

    @OptionGroup var remote: RemoteOptions
    @Argument(help: "The release id.") var id: String
    @Option(help: "Where to write the release (JSON).") var out: String
    @Option(help: ArgumentHelp("Also write the posted partial decryptions as DIR/PARTY.partial.json.", valueName: "dir"))
    var partials: String?
    @Flag(help: "Replace existing files.") var force = false

    func run() async throws {
        let client = try remote.client()
        let data: Data
        do { data = try await client.release(id: id) } catch { throw CLIError(error.message) }
        let shares: ReleaseShares?
        if partials != nil {
            do { shares = try await client.shares(releaseID: id) } catch { throw CLIError("partials of \(id): \(error.message)") }
        } else {
            shares = nil
        }
        try Files.write(data, to: out, overwrite: force, what: "release")
        print("release \(id) written to \(out) (\(data.count) bytes)")
        guard let partials, let shares else { return }
        try Files.ensureDirectory(partials)
        for share in shares.partials {
            let path = (partials as NSString).appendingPathComponent("\(share.party).partial.json")
            try Files.write(Data(share.partial.utf8), to: path, overwrite: force, what: "partial decryption")
            print("partial decryption of \(share.party) written to \(path) (log #\(share.logIndex))")
        }
        if shares.partials.isEmpty { print("no partial decryptions have been posted for release \(id) yet") }
    }
}
