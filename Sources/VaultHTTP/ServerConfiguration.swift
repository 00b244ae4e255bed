import Foundation
public import VaultApp

/// How `eduvault serve` runs: where it listens, TLS, and its limits.
public struct ServerConfiguration: Sendable {
    /// The address to bind (loopback by default).
    public var host = "127.0.0.1"
    /// The port (0: an ephemeral port, reported once listening).
    public var port = 8443
    /// PEM certificate chain and private key for TLS.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Serve plain HTTP on a non-loopback address (refused otherwise).
    public var insecurePlainHTTP = false
    /// The largest batch body (`--max-batch-mb`).
    public var maxBatchBytes = 64 << 20
    /// The largest body of every other request (a query is a few hundred bytes).
    public var maxRequestBytes = 64 << 10
    /// The largest posted partial decryption (`POST /v1/releases/{id}/shares`): about 4 KB per unit of 15 cells at
    /// 3072 bits, so 4 MiB holds a release of some 15 000 cells.
    public var maxPartialBytes = 4 << 20
    /// The longest a client may take to send its request body; past it the request gets 408 and the connection
    /// closes. A client trickling bytes holds only its own connection meanwhile.
    public var requestTimeoutSeconds = 120
    /// A connection that sends nothing for this long is closed.
    public var idleTimeoutSeconds = 30
    /// Connections served at once; further connections wait in the listen backlog.
    public var maxConnections = 256
    /// Requests per principal per minute (token bucket), and the most requests a principal may send at once
    /// (the bucket's size; see `burst`).
    public var ratePerMinute = 1200
    public var rateBurst = 120
    /// The `host[:port]` names clients reach this vault by (`--authority`, repeatable). A request whose Host is
    /// another name is refused (400): a request signed for another vault, by a key registered in both, cannot be
    /// replayed here. Empty: the server's own names once it listens (`ownAuthorities(port:)`); a non-loopback
    /// address then needs `--authority` (`validate()`).
    public var authorities: [String] = []

    /// The bucket size the rate limiter uses: `rateBurst`, but never more than `ratePerMinute`, so a limit below the
    /// default burst takes effect from the first minute (`--rate-limit 5`: the 6th request at once gets 429).
    public var burst: Int { max(1, min(rateBurst, ratePerMinute)) }

    public init() {}

    /// Parses `--listen HOST:PORT` (`[::1]:8443` for IPv6).
    public mutating func setListen(_ text: String) throws(AppError) {
        let host: Substring, port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw AppError(.badRequest, "--listen takes HOST:PORT, e.g. 127.0.0.1:8443") }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw AppError(.badRequest, "--listen takes HOST:PORT, e.g. 127.0.0.1:8443")
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let number = Int(port), (0...65535).contains(number) else {
            throw AppError(.badRequest, "--listen takes HOST:PORT with a port 0–65535, e.g. 127.0.0.1:8443")
        }
        self.host = String(host)
        self.port = number
    }

    /// Whether the host is a loopback address.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The names a server without `--authority` answers to once it listens on `port`: its listen address with that
    /// port and, on loopback, `localhost`, `127.0.0.1` and `[::1]` with that port (lower-case). On the scheme's default
    /// port (80 for HTTP, 443 for HTTPS) each name also without the port, as clients then send it.
    public func ownAuthorities(port: Int) -> [String] {
        let listen = host.contains(":") ? "[\(host)]" : host
        var hosts = [listen.lowercased()]
        if isLoopback { hosts += ["localhost", "127.0.0.1", "[::1]"].filter { $0 != hosts[0] } }
        var names = hosts.map { "\($0):\(port)" }
        if port == (usesTLS ? 443 : 80) { names += hosts }
        return names
    }

    /// Whether TLS is configured.
    public var usesTLS: Bool { tlsCertificate != nil }

    /// Refuses a non-loopback address without TLS (unless `insecurePlainHTTP`), and half a TLS configuration.
    public func validate() throws(AppError) {
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw AppError(.badRequest, "give both --tls-cert and --tls-key, or neither")
        }
        if !isLoopback && !usesTLS && !insecurePlainHTTP {
            throw AppError(.badRequest,
                "refusing to serve \(host) without TLS: give --tls-cert F --tls-key F (or --insecure-plain-http if a "
                    + "TLS proxy in front of the vault terminates TLS)")
        }
        guard authorities.allSatisfy(RequestAuthenticator.isAuthority) else {
            throw AppError(.badRequest, "--authority takes host[:port], e.g. vault.example:8443")
        }
        // On loopback the server's own names are the names clients use; on another address (0.0.0.0, a LAN address
        // behind a proxy) they usually are not, and guessing would either refuse every client or accept any name.
        if !isLoopback && authorities.isEmpty {
            throw AppError(.badRequest,
                "serving \(host) needs --authority HOST[:PORT]: pass the names clients use to reach the vault "
                    + "(requests signed for another name are refused)")
        }
        guard maxBatchBytes > 0, maxConnections > 0, ratePerMinute > 0, requestTimeoutSeconds > 0 else {
            throw AppError(.badRequest, "limits must be positive")
        }
    }
}
