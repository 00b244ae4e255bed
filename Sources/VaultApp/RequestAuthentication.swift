import Foundation
import Primitives
public import VaultStore

/// What the service reads of a request before its body: the method, where it was sent, and the headers a
/// signature depends on, each with every value it was given (so a repeated header is seen, not merged).
///
/// The HTTP layer fills it from what the connection delivered; the fuzz target `service-signature` fills it from
/// bytes. Both then call the same `RequestAuthenticator.authenticate`.
public struct RequestHead: Sendable, Equatable {
    /// The method as sent (`GET`, `POST`).
    public var method: String
    /// `http` or `https`: what the server knows of its own listener (HTTP/1 requests carry none).
    public var scheme: String
    /// Every Host the request carries: the authority first, then any further `Host` fields. Exactly one is accepted.
    public var hosts: [String]
    /// The request target as sent: path and query (`/v1/log/entries?start=1`).
    public var target: String
    /// Every `Signature-Input`, `Signature` and `Content-Digest` value, in order.
    public var signatureInput: [String]
    public var signature: [String]
    public var contentDigest: [String]
    /// The size of the whole header section (names, values, separators), for the 431 limit.
    public var headerBytes: Int

    public init(method: String, scheme: String, hosts: [String], target: String, signatureInput: [String],
                signature: [String], contentDigest: [String], headerBytes: Int) {
        self.method = method
        self.scheme = scheme
        self.hosts = hosts
        self.target = target
        self.signatureInput = signatureInput
        self.signature = signature
        self.contentDigest = contentDigest
        self.headerBytes = headerBytes
    }

    /// The `@target-uri` the signature covers: `scheme://authority` and the target as sent.
    public var targetURI: String { "\(scheme)://\(hosts.first ?? "")\(target)" }
}

/// A request whose signature verified.
public struct AuthenticatedRequest: Sendable, Equatable {
    /// The signer: a registered, unrevoked principal.
    public var principal: Principal
    /// The body's SHA-256 as the signed `Content-Digest` states it (the body is checked against it as it arrives).
    public var digest: [UInt8]
    /// The signature as parsed.
    public var signature: HTTPMessageSignature.Parsed
}

/// Why a request is refused before its route runs.
public enum RequestRefusal: Error, Sendable, Equatable {
    /// Not signed, or not by a known, current key (401; the failure's metric label says why).
    case unauthenticated(HTTPMessageSignature.Failure)
    /// Malformed (400), a header section too large (431), or the vault cannot record the nonce (503).
    case refused(AppError)
}

/// Request authentication (RFC 9421), once, for the server and the fuzz target.
///
/// Order: header section size → Host → signature headers → `Content-Digest` → `created` window → key id → revoked →
/// signature over exactly the covered components → nonce (recorded only once the signature verified, so an
/// unauthenticated caller cannot fill the nonce journal).
public struct RequestAuthenticator: Sendable {
    /// The largest header section read (all names and values); past it 431.
    public static let maxHeaderSectionBytes = 16 << 10
    /// The longest authority (`Host`) accepted.
    public static let maxAuthorityBytes = 300
    /// The longest request target accepted.
    public static let maxTargetBytes = 8 << 10

    /// The principal a key id names (revoked ones included), or nil; throws `AppError` when the store fails.
    public let principal: @Sendable (String) throws(AppError) -> Principal?
    /// Nonces seen within the signature window.
    public let nonces: NonceJournal
    /// Whether this vault answers to a well-formed authority (`host[:port]`, as sent).
    public let acceptsAuthority: @Sendable (String) -> Bool

    /// - Parameter authorities: the names this vault is reached by (`serve --authority`), compared case-insensitively;
    ///   a request signed for another vault's name is refused even when the same key is registered here. Empty: any
    ///   well-formed name (the fuzz target and tests of other checks).
    public init(nonces: NonceJournal, authorities: [String] = [],
                principal: @escaping @Sendable (String) throws(AppError) -> Principal?) {
        let names = Set(authorities.map { $0.lowercased() })
        self.init(nonces: nonces, acceptsAuthority: { names.isEmpty || names.contains($0.lowercased()) }, principal: principal)
    }

    /// - Parameter acceptsAuthority: whether a request's Host names this vault (the server's names can change once it
    ///   knows the port it listens on).
    public init(nonces: NonceJournal, acceptsAuthority: @escaping @Sendable (String) -> Bool,
                principal: @escaping @Sendable (String) throws(AppError) -> Principal?) {
        self.nonces = nonces
        self.acceptsAuthority = acceptsAuthority
        self.principal = principal
    }

    /// Authenticates a request at `now` (Unix seconds).
    ///
    /// - Throws: `RequestRefusal`: `.unauthenticated` for every signature failure (401), `.refused` for a
    ///   malformed Host (400), an oversized header section or signature header (431), or a store failure (503).
    public func authenticate(_ head: RequestHead, now: Int64) throws(RequestRefusal) -> AuthenticatedRequest {
        func fail(_ metric: String, _ reason: String) -> RequestRefusal { .unauthenticated(.init(metric, reason)) }
        guard head.headerBytes <= Self.maxHeaderSectionBytes,
              (head.signatureInput + head.signature + head.contentDigest).allSatisfy({ $0.utf8.count <= HTTPMessageSignature.maxHeaderBytes })
        else { throw .refused(AppError(.headersTooLarge, "the request's header section is too large")) }
        guard head.hosts.count == 1, let authority = head.hosts.first, Self.isAuthority(authority) else {
            throw .refused(AppError(.badRequest, "the request needs exactly one Host of the form host[:port]"))
        }
        guard acceptsAuthority(authority) else {
            throw .refused(AppError(.badRequest, "the request's Host is not a name this server answers to (serve --authority)"))
        }
        guard Self.isTarget(head.target) else { throw .refused(AppError(.badRequest, "the request target is malformed")) }
        guard head.signatureInput.count <= 1, head.signature.count <= 1 else {
            throw fail("malformed", "the request carries more than one Signature-Input or Signature header")
        }
        let parsed: HTTPMessageSignature.Parsed
        do throws(HTTPMessageSignature.Failure) {
            parsed = try HTTPMessageSignature.parse(signatureInput: head.signatureInput.first, signature: head.signature.first)
        } catch { throw .unauthenticated(error) }
        guard head.contentDigest.count == 1, let digestHeader = head.contentDigest.first,
              let digest = HTTPMessageSignature.parseContentDigest(digestHeader)
        else { throw fail("malformed", "the request needs one Content-Digest: sha-256=:…: header (RFC 9530)") }
        do throws(HTTPMessageSignature.Failure) { try HTTPMessageSignature.checkFreshness(parsed, now: now) } catch {
            throw .unauthenticated(error)
        }
        let found: Principal?
        do { found = try principal(parsed.keyID) } catch { throw .refused(error) }
        guard let found else { throw fail("unknown_key", "the signature's keyid names no registered principal") }
        guard found.revoked == nil else { throw fail("revoked", "the signing key was revoked") }
        let publicKey: Ed25519.PublicKey
        do { publicKey = try Ed25519.PublicKey(rawRepresentation: found.publicKey) } catch {
            throw fail("unknown_key", "the principal's registered key is not usable")
        }
        guard HTTPMessageSignature.verify(parsed, method: head.method, targetURI: head.targetURI, contentDigest: digestHeader,
                                          publicKey: publicKey)
        else { throw fail("bad_signature", "the signature does not verify over the method, the target URI and the Content-Digest") }
        let fresh: Bool
        do {
            fresh = try nonces.insert(keyID: found.id, nonce: parsed.nonce, now: now,
                                      window: HTTPMessageSignature.maxAge + HTTPMessageSignature.maxSkewAhead)
        } catch { throw .refused(error) }
        guard fresh else { throw fail("replayed", "this signature's nonce was already used; sign each request afresh") }
        return AuthenticatedRequest(principal: found, digest: digest, signature: parsed)
    }

    /// Checks a collected body against the signed digest.
    public static func checkBody(_ body: some Sequence<UInt8>, digest: [UInt8]) throws(HTTPMessageSignature.Failure) {
        var hasher = SHA256Hasher()
        hasher.update(Array(body))
        guard hasher.finalize() == digest else {
            throw .init("digest_mismatch", "the body does not match the signed Content-Digest")
        }
    }

    /// Whether `text` is an authority this vault accepts: a registered name or IPv4 address (letters, digits,
    /// `-._~`), or an IPv6 address in brackets, then an optional `:port` of 1–5 digits. Nothing else: no userinfo
    /// (`@`), path, query or fragment characters, percent-encoding or spaces, so `scheme://authority/target` has one
    /// reading.
    public static func isAuthority(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= maxAuthorityBytes else { return false }
        var hostEnd: Int
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1 else { return false }
            guard bytes[1..<close].allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return false }
            hostEnd = close + 1
        } else {
            hostEnd = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
            guard hostEnd > 0, bytes[0..<hostEnd].allSatisfy({
                isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
                    || $0 == UInt8(ascii: "~")
            }) else { return false }
        }
        if hostEnd == bytes.count { return true }
        guard bytes[hostEnd] == UInt8(ascii: ":") else { return false }
        let port = bytes[(hostEnd + 1)...]
        return (1...5).contains(port.count) && port.allSatisfy(isDigit)
    }

    /// Whether `text` is an origin-form request target: `/`, then visible ASCII without `#`, at most
    /// `maxTargetBytes`.
    public static func isTarget(_ text: String) -> Bool {
        let bytes = text.utf8
        return bytes.first == UInt8(ascii: "/") && bytes.count <= maxTargetBytes
            && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "#") }
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    static func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102) }
    static func isAlphanumeric(_ b: UInt8) -> Bool { isDigit(b) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
}
