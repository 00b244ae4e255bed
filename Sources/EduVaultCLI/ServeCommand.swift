import ArgumentParser
import Foundation
import VaultApp
import VaultHTTP
import VaultModel
import VaultStore

/// `eduvault serve`: the vault as a network service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the vault as an HTTP service (signed requests, per-role access from the policy).",
        discussion: """
            Listens on loopback by default; a non-loopback address needs --tls-cert and --tls-key (or \
            --insecure-plain-http behind a TLS proxy). Every /v1 request must be signed with a registered key (RFC \
            9421, ed25519); what each role may do comes from the policy's ROLES rule. SIGTERM or SIGINT drains \
            in-flight requests, then exits 0. One log line per request on standard error; metrics at /metrics, the \
            API description at /openapi.yaml.

            Requests are bound to this server by their Host, which the signature covers: a request signed for another \
            vault is refused (400) even when its key is registered here too. Without --authority the server answers \
            only to its own names: its listen address with the port it listens on and, on loopback, also localhost, \
            127.0.0.1 and [::1] with that port. A non-loopback address needs --authority with the names clients use \
            (e.g. --authority vault.example:8443).

            Rate limit: each principal has a token bucket of --rate-limit requests a minute; at most min(120, \
            --rate-limit) requests at once (the burst). Past it 429 with Retry-After: the seconds until the next \
            request is allowed. Refused requests (400, 401, 403, 404, 405, 408, 413, 429, 431) close the connection.

            Example: eduvault serve --vault v --listen 127.0.0.1:8443
            """
    )

    @OptionGroup var vault: VaultDirectoryOption
    @Option(help: "HOST:PORT to listen on (port 0: any free port, printed once listening).") var listen = "127.0.0.1:8443"
    @Option(help: "PEM certificate chain for TLS.") var tlsCert: String?
    @Option(help: "PEM private key for TLS.") var tlsKey: String?
    @Flag(help: "Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).") var insecurePlainHttp = false
    @Option(help: "The largest batch upload, in MB.") var maxBatchMb = 64
    @Option(help: "Requests per principal per minute; the burst is min(120, this).") var rateLimit = 1200
    @Option(help: "Connections served at once.") var maxConnections = 256
    @Option(help: "Seconds a client may take to send its request.") var requestTimeout = 120
    @Option(name: .customLong("authority"),
            help: ArgumentHelp("HOST[:PORT] clients reach the vault by (repeatable); requests with another Host are refused.",
                               discussion: "Default: the listen address (on loopback also localhost, 127.0.0.1 and "
                                   + "[::1]) with the bound port. Required on a non-loopback address."))
    var authorities: [String] = []

    func run() async throws {
        var configuration = ServerConfiguration()
        do { try configuration.setListen(listen) } catch { throw CLIError(error.message) }
        configuration.tlsCertificate = tlsCert
        configuration.tlsKey = tlsKey
        configuration.insecurePlainHTTP = insecurePlainHttp
        guard (1...4096).contains(maxBatchMb) else { throw CLIError("--max-batch-mb must be 1–4096") }
        configuration.maxBatchBytes = maxBatchMb << 20
        configuration.ratePerMinute = rateLimit
        configuration.maxConnections = maxConnections
        configuration.requestTimeoutSeconds = requestTimeout
        configuration.authorities = authorities
        do { try configuration.validate() } catch { throw CLIError(error.message) }
        let service = try vault.service()
        VaultServer.bootstrapLogging()
        let scheme = configuration.usesTLS ? "https" : "http"
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        do {
            try await VaultServer.run(service: service, configuration: configuration) { port in
                // Written unbuffered: scripts and tests read the port from this line.
                FileHandle.standardOutput.write(
                    Data("eduvault serving vault \(service.vault.descriptor.vaultID) on \(scheme)://\(host):\(port)\n".utf8))
            }
        } catch { throw CLIError(error.message) }
        print("eduvault stopped: in-flight requests drained")
    }
}
