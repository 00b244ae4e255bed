import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOSSL
import Primitives
import ServiceLifecycle
import Synchronization
import UnixSignals
import VaultAggregation
public import VaultApp
import VaultAudit
import VaultModel
public import VaultStore

/// The request context: the authenticated principal and the body the signature covers.
public struct VaultRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The principal whose signature verified (nil on unsigned routes).
    public var principal: Principal?
    /// The SHA-256 the signed `Content-Digest` states.
    var signedDigest: [UInt8]?
    /// The route the request matched.
    var route: RouteSpec?
    /// The collected body of a small request (already checked against the signed digest).
    var body: ByteBuffer?
    /// Shared with the outer middleware for the log line.
    var notesBox: RequestNotes?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { 64 << 10 }
}

/// Everything the handlers share.
final class ServerContext: Sendable {
    let service: VaultService
    let configuration: ServerConfiguration
    let metrics = ServiceMetrics()
    /// Request authentication, with the nonces seen within the signature window.
    let authenticator: RequestAuthenticator
    let limiter: RateLimiter
    /// The Host names requests must carry.
    let names: ServerNames
    let shutdown: ShutdownFlag
    let logger: Logger
    /// Where uploads are written while they arrive (inside the vault directory, so on the same disk).
    let incoming: URL
    /// Clock override for tests (Unix seconds).
    let now: @Sendable () -> Int64

    /// - Throws: `.unavailable` when the vault's nonce journal cannot be read or written.
    init(service: VaultService, configuration: ServerConfiguration, logger: Logger, shutdown: ShutdownFlag,
         now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) throws(AppError) {
        self.shutdown = shutdown
        self.service = service
        self.configuration = configuration
        self.logger = logger
        self.now = now
        limiter = RateLimiter(perMinute: configuration.ratePerMinute, burst: configuration.burst)
        // Seen nonces are journalled in the vault directory, so a request captured before a restart stays refused.
        let nonces = try NonceJournal(directory: service.vault.directory, now: now())
        let names = ServerNames(configuration)
        self.names = names
        authenticator = RequestAuthenticator(nonces: nonces, acceptsAuthority: { names.accepts($0) }) { id throws(AppError) in
            try service.principal(id: id)
        }
        incoming = service.vault.directory.appendingPathComponent("incoming", isDirectory: true)
    }
}

/// `eduvault serve`: the vault as a network service on Hummingbird 2.
public enum VaultServer {
    /// Builds the application (the router, its middlewares and the server), for `run` and for tests.
    ///
    /// - Parameter now: the clock signatures are judged by (tests move it).
    public static func application(
        service: VaultService, configuration: ServerConfiguration, logger: Logger = Logger(label: "eduvault.http"),
        now: (@Sendable () -> Int64)? = nil, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws(AppError) -> some ApplicationProtocol {
        try makeApplication(service: service, configuration: configuration, logger: logger, now: now,
                            shutdown: ShutdownFlag(), onListening: onListening)
    }

    static func makeApplication(
        service: VaultService, configuration: ServerConfiguration, logger: Logger, now: (@Sendable () -> Int64)?,
        shutdown: ShutdownFlag, onListening: @escaping @Sendable (Int) async -> Void
    ) throws(AppError) -> some ApplicationProtocol {
        try configuration.validate()
        let server: ServerContext
        if let now {
            server = try ServerContext(service: service, configuration: configuration, logger: logger, shutdown: shutdown, now: now)
        } else {
            server = try ServerContext(service: service, configuration: configuration, logger: logger, shutdown: shutdown)
        }
        // Uploads cut short by a crash leave only files here; nothing of them reached the database.
        try? FileManager.default.removeItem(at: server.incoming)
        do { try FileManager.default.createDirectory(at: server.incoming, withIntermediateDirectories: true) } catch {
            throw AppError(.unavailable, "cannot create \(server.incoming.path)")
        }
        let router = Router(context: VaultRequestContext.self)
        router.add(middleware: OuterMiddleware(server: server))
        router.add(middleware: AuthenticationMiddleware(server: server))
        Handlers(server: server).register(on: router)

        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [CloseAfterResponse()],
                                               idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))
        let serverBuilder: HTTPServerBuilder
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
                let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
                serverBuilder = try .tls(.http1(configuration: http1), tlsConfiguration: tls)
            } catch {
                throw AppError(.badRequest, "cannot load the TLS certificate or key (PEM files expected)")
            }
        } else {
            serverBuilder = .http1(configuration: http1)
        }
        let app = Application(
            router: router, server: serverBuilder,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "eduvault",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                server.names.listening(on: port)
                await onListening(port)
            },
            logger: logger)
        return app
    }

    /// Runs the service until SIGTERM or SIGINT, then drains in-flight requests and returns.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public static func run(
        service: VaultService, configuration: ServerConfiguration,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws(AppError) {
        var logger = Logger(label: "eduvault.http")
        logger.logLevel = .info
        let shutdown = ShutdownFlag()
        let app = try makeApplication(service: service, configuration: configuration, logger: logger, now: nil,
                                      shutdown: shutdown, onListening: onListening)
        do {
            // The watcher comes last, so graceful shutdown reaches it first: it raises the flag (503 for new
            // requests), returns, and then the server drains what is in flight.
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: app),
                           .init(service: ShutdownWatcher(flag: shutdown), successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            throw listenError(error, configuration) ?? AppError(.unavailable, "the server stopped: \(error)")
        }
    }

    /// One line for a failure to listen (the port is taken, a privileged port, an address not on this machine); nil
    /// for any other error.
    static func listenError(_ error: any Error, _ configuration: ServerConfiguration) -> AppError? {
        guard let io = error as? IOError else { return nil }
        let reason: String
        switch io.errnoCode {
        case EADDRINUSE: reason = "the address is already in use"
        case EACCES: reason = "permission denied (ports below 1024 need privileges)"
        case EADDRNOTAVAIL: reason = "the address is not one of this machine's"
        default: return nil
        }
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return AppError(.unavailable, "cannot listen on \(host):\(configuration.port): \(reason)")
    }

    /// Runs the service in this process on `configuration`'s address (port 0: a free port) while `body` runs with the
    /// bound port, then shuts it down gracefully (`eduvault demo --over-http`, benchmarks). Logs only warnings.
    public static func withServer<T: Sendable>(
        service: VaultService, configuration: ServerConfiguration, _ body: (Int) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "eduvault.http")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try makeApplication(service: service, configuration: configuration, logger: logger, now: nil,
                                      shutdown: ShutdownFlag(), onListening: { port in
                                          continuation.yield(port)
                                          continuation.finish()
                                      })
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                do { try await group.run() } catch {
                    continuation.finish()
                    throw listenError(error, configuration) ?? error
                }
                return nil
            }
            var port = 0
            for await bound in ports { port = bound }
            guard port != 0 else {
                // The server stopped before listening: its error (e.g. the port is taken) is the one to report.
                try await tasks.waitForAll()
                throw AppError(.unavailable, "the server stopped before it listened")
            }
            do {
                let result = try await body(port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// Sets up swift-log for a server process: one line per message on standard error.
    public static func bootstrapLogging() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
    }
}

/// The Host names the server answers to: `--authority`'s, or else its own (`ServerConfiguration.ownAuthorities`),
/// known once it listens when the port is 0. Until then no name is accepted.
final class ServerNames: Sendable {
    let configuration: ServerConfiguration
    let names: Mutex<Set<String>>

    init(_ configuration: ServerConfiguration) {
        self.configuration = configuration
        if !configuration.authorities.isEmpty {
            names = Mutex(Set(configuration.authorities.map { $0.lowercased() }))
        } else if configuration.port != 0 {
            names = Mutex(Set(configuration.ownAuthorities(port: configuration.port)))
        } else {
            names = Mutex([])
        }
    }

    /// The server is listening on `port`: without `--authority` its own names now carry that port.
    func listening(on port: Int) {
        guard configuration.authorities.isEmpty, port != 0 else { return }
        names.withLock { $0 = Set(configuration.ownAuthorities(port: port)) }
    }

    /// Whether a request's Host (already checked well-formed) names this server, compared case-insensitively.
    func accepts(_ authority: String) -> Bool {
        let name = authority.lowercased()
        return names.withLock { $0.contains(name) }
    }
}

/// Sets the shutdown flag when graceful shutdown begins, so requests arriving meanwhile get 503.
struct ShutdownWatcher: Service {
    let flag: ShutdownFlag
    func run() async throws {
        try? await gracefulShutdown()
        flag.set()
    }
}
