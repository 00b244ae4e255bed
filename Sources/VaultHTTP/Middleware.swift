import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Primitives
import Synchronization
import VaultApp
import VaultStore

/// What the inner layers tell the outer one about a request, for the log line and the metrics.
final class RequestNotes: Sendable {
    struct Values: Sendable {
        var principal: String?
        var rule: String?
        var bytes = 0
        /// Time spent receiving the body and in the use case (ingest, query), for the log line.
        var bodyMs: Double?
        var workMs: Double?
    }
    let values = Mutex(Values())
}

extension VaultRequestContext {
    /// Notes shared with the outer middleware (a reference: the context is copied on the way down).
    var notes: RequestNotes {
        get { notesBox ?? RequestNotes() }
        set { notesBox = newValue }
    }
}

/// RFC 9457 problem details with one line of text.
enum Problem {
    static func title(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        default: "Service Unavailable"
        }
    }

    static func response(_ error: AppError, extraHeaders: HTTPFields = [:], status: Int? = nil) -> Response {
        let code = status ?? error.status
        var object: [String: Any] = [
            "type": "https://eduvault.invalid/problems/\(error.code.rawValue)",
            "title": title(code),
            "status": code,
            "detail": error.message.replacingOccurrences(of: "\n", with: " "),
        ]
        if let rule = error.rule { object["rule"] = rule }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        var headers = extraHeaders
        headers[.contentType] = "application/problem+json"
        return Response(status: .init(code: code), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The outermost layer: shutdown (503), unknown routes (404/405), errors as problem details, one log line and the
/// metrics per request. Logs carry the method, the route pattern, the status, the principal id and the time — never
/// a path with an id, a query string, a header value or a body.
struct OuterMiddleware: RouterMiddleware {
    typealias Context = VaultRequestContext
    let server: ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        server.metrics.started()
        let method = request.method.rawValue
        let spec = RouteSpec.match(method: method, path: request.uri.path)
        let notes = RequestNotes()
        var response: Response
        if server.shutdown.isSet {
            response = Problem.response(AppError(.unavailable, "the vault is shutting down; retry in a moment"),
                                        extraHeaders: [.retryAfter: "5", .connection: "close"])
        } else if let spec {
            var context = context
            context.route = spec
            context.notes = notes
            do {
                response = try await next(request, context)
            } catch let error as AppError {
                response = Self.response(for: error, notes: notes, server: server)
            } catch let error as HTTPError {
                response = Problem.response(AppError(error.status.code == 413 ? .tooLarge : .badRequest,
                                                     error.status.code == 413 ? "the request body is too large" : "the request is malformed"))
            } catch {
                server.logger.error("request failed", metadata: ["route": .string(spec.pattern), "error": .string(String(describing: type(of: error)))])
                response = Problem.response(AppError(.unavailable, "the vault could not complete the request; nothing was stored"))
            }
        } else if RouteSpec.pathExists(request.uri.path) {
            response = Problem.response(AppError(.badRequest, "method \(method) is not allowed here"), status: 405)
            response.headers[.allow] = ["GET", "POST"].filter { RouteSpec.match(method: $0, path: request.uri.path) != nil }
                .joined(separator: ", ")
        } else {
            response = Problem.response(AppError(.notFound, "no such route"))
        }
        let seconds = (ContinuousClock.now - started).seconds
        let route = spec?.pattern ?? "unmatched"
        server.metrics.finished(method: method, route: route, status: Int(response.status.code), seconds: seconds)
        let values = notes.values.withLock { $0 }
        var metadata: Logger.Metadata = [
            "method": .string(method), "route": .string(route), "status": .stringConvertible(response.status.code),
            "ms": .string(String(format: "%.1f", seconds * 1000)), "principal": .string(values.principal ?? "-"),
        ]
        if let rule = values.rule { metadata["rule"] = .string(rule) }
        if values.bytes > 0 { metadata["bytes"] = .stringConvertible(values.bytes) }
        if let body = values.bodyMs { metadata["body_ms"] = .string(String(format: "%.1f", body)) }
        if let work = values.workMs { metadata["work_ms"] = .string(String(format: "%.1f", work)) }
        server.logger.info("request", metadata: metadata)
        return response
    }

    static func response(for error: AppError, notes: RequestNotes, server: ServerContext) -> Response {
        if let rule = error.rule {
            notes.values.withLock { $0.rule = rule }
            server.metrics.refused(rule: rule)
        }
        var headers: HTTPFields = [:]
        if error.code == .rateLimited { headers[.retryAfter] = "1" }
        if error.code == .timeout || error.code == .tooLarge { headers[.connection] = "close" }
        return Problem.response(error, extraHeaders: headers)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension HTTPField.Name {
    static let signatureInput = HTTPField.Name("Signature-Input")!  // safe: a valid token
    static let signature = HTTPField.Name("Signature")!  // safe: a valid token
    static let contentDigest = HTTPField.Name("Content-Digest")!  // safe: a valid token
}

/// Request authentication (RFC 9421), authorization (the policy's ROLES rule), the per-principal rate limit and the
/// body limits, for every route that names an action.
///
/// Order: signature headers → `created` window → key id → revoked → signature → nonce → rate limit → ROLES →
/// declared size → body (small requests are collected here and checked against the signed digest; batches are
/// streamed and checked by their handler).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = VaultRequestContext
    let server: ServerContext

    func fail(_ failure: HTTPMessageSignature.Failure) -> AppError {
        server.metrics.authenticationFailed(failure.metric)
        return AppError(.unauthorized, failure.reason)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let spec = context.route, let action = spec.action else { return try await next(request, context) }
        let parsed: HTTPMessageSignature.Parsed
        do throws(HTTPMessageSignature.Failure) {
            parsed = try HTTPMessageSignature.parse(signatureInput: request.headers[.signatureInput],
                                                    signature: request.headers[.signature])
        } catch { throw fail(error) }
        guard let digestHeader = request.headers[.contentDigest], let digest = HTTPMessageSignature.parseContentDigest(digestHeader)
        else { throw fail(.init("malformed", "the request needs a Content-Digest: sha-256=:…: header (RFC 9530)")) }
        let now = server.now()
        do throws(HTTPMessageSignature.Failure) { try HTTPMessageSignature.checkFreshness(parsed, now: now) } catch {
            throw fail(error)
        }
        guard let principal = try server.service.principal(id: parsed.keyID) else {
            throw fail(.init("unknown_key", "the signature's keyid names no registered principal"))
        }
        guard principal.revoked == nil else { throw fail(.init("revoked", "the signing key was revoked")) }
        guard let authority = request.head.authority, authority.utf8.count <= 300 else {
            throw AppError(.badRequest, "the request has no Host")
        }
        // The server knows its own scheme; HTTP/1 requests carry none (the test client says "http").
        let scheme = server.configuration.usesTLS ? "https" : (request.head.scheme ?? "http")
        let targetURI = "\(scheme)://\(authority)\(request.uri.description)"
        let publicKey: Ed25519.PublicKey
        do { publicKey = try Ed25519.PublicKey(rawRepresentation: principal.publicKey) } catch {
            throw fail(.init("unknown_key", "the principal's registered key is not usable"))
        }
        guard HTTPMessageSignature.verify(parsed, method: request.method.rawValue, targetURI: targetURI,
                                          contentDigest: digestHeader, publicKey: publicKey)
        else { throw fail(.init("bad_signature", "the signature does not verify over the method, the target URI and the Content-Digest")) }
        guard server.nonces.insert(keyID: principal.id, nonce: parsed.nonce, now: now,
                                   window: HTTPMessageSignature.maxAge + HTTPMessageSignature.maxSkewAhead)
        else { throw fail(.init("replayed", "this signature's nonce was already used; sign each request afresh")) }
        context.notes.values.withLock { $0.principal = principal.id }
        if server.limiter.take(principal.id) != nil {
            throw AppError(.rateLimited, "too many requests from this principal; slow down")
        }
        try await server.service.authorize(principal, action, route: spec.pattern)

        let limit = spec.body == .batch ? server.configuration.maxBatchBytes : server.configuration.maxRequestBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw AppError(.tooLarge, "the request body is larger than \(limit) bytes")
        }
        var context = context
        context.principal = principal
        context.signedDigest = digest
        if spec.body == .small {
            let body = try await BodyReader.collect(request.body, limit: limit, timeout: server.configuration.requestTimeoutSeconds)
            guard SHA256.hash(body.readableBytesView) == digest else {
                throw fail(.init("digest_mismatch", "the body does not match the signed Content-Digest"))
            }
            context.body = body
        }
        return try await next(request, context)
    }
}

/// Reading request bodies within a size limit and a deadline.
enum BodyReader {
    /// Collects at most `limit` bytes; 413 past it, 408 when the client takes longer than `timeout` seconds.
    static func collect(_ body: RequestBody, limit: Int, timeout: Int) async throws -> ByteBuffer {
        let deadline = ContinuousClock.now + .seconds(timeout)
        var collected = ByteBuffer()
        for try await chunk in body {
            guard collected.readableBytes + chunk.readableBytes <= limit else {
                throw AppError(.tooLarge, "the request body is larger than \(limit) bytes")
            }
            var chunk = chunk
            collected.writeBuffer(&chunk)
            guard ContinuousClock.now < deadline else {
                throw AppError(.timeout, "the request body took longer than \(timeout) s to arrive")
            }
        }
        return collected
    }
}
