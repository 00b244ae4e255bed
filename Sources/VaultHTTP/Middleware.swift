import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
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
        /// Whole seconds until the rate limiter has a token for the principal (429's Retry-After).
        var retryAfter: Int?
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
        case 431: "Request Header Fields Too Large"
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
        if Self.closesConnection.contains(Int(response.status.code)) {
            // A refused request says nothing good about its client: close the connection rather than hold it open
            // (idle keep-alive connections would otherwise fill --max-connections).
            response.headers[.connection] = "close"
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

    /// The statuses after which the server closes the connection (`Connection: close`): refusals before or instead of
    /// any work (400, 401, 403, 404, 405, 413, 429, 431), the request timeout (408) and shutting down (503 sets it
    /// itself).
    static let closesConnection: Set<Int> = [400, 401, 403, 404, 405, 408, 413, 429, 431]

    static func response(for error: AppError, notes: RequestNotes, server: ServerContext) -> Response {
        if let rule = error.rule {
            notes.values.withLock { $0.rule = rule }
            server.metrics.refused(rule: rule)
        }
        var headers: HTTPFields = [:]
        if error.code == .rateLimited {
            headers[.retryAfter] = String(notes.values.withLock { $0.retryAfter } ?? 1)
        }
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
    /// A `Host` field left among the fields: the first became the authority, any further one stays here.
    static let host = HTTPField.Name("Host")!  // safe: a valid token
}

/// Request authentication (RFC 9421), authorization (the policy's ROLES rule), the per-principal rate limit and the
/// body limits, for every route that names an action.
///
/// Authentication is `RequestAuthenticator` (VaultApp), the code the fuzz target `service-signature` runs: header
/// section size (431), one well-formed Host (400), then the signature (401). Then rate limit → ROLES → declared size →
/// body (small requests are collected here and checked against the signed digest; batches are streamed and checked by
/// their handler).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = VaultRequestContext
    let server: ServerContext

    func fail(_ failure: HTTPMessageSignature.Failure) -> AppError {
        server.metrics.authenticationFailed(failure.metric)
        return AppError(.unauthorized, failure.reason)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let spec = context.route, let action = spec.action else { return try await next(request, context) }
        // The server knows its own scheme; HTTP/1 requests carry none (the test client says "http").
        let scheme = server.configuration.usesTLS ? "https" : (request.head.scheme ?? "http")
        let head = RequestHead(
            method: request.method.rawValue, scheme: scheme,
            hosts: (request.head.authority.map { [$0] } ?? []) + request.headers[values: .host],
            target: request.uri.description, signatureInput: request.headers[values: .signatureInput],
            signature: request.headers[values: .signature], contentDigest: request.headers[values: .contentDigest],
            headerBytes: request.headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 4 })
        let authenticated: AuthenticatedRequest
        do throws(RequestRefusal) { authenticated = try server.authenticator.authenticate(head, now: server.now()) } catch {
            switch error {
            case .unauthenticated(let failure): throw fail(failure)
            case .refused(let refusal): throw refusal
            }
        }
        let principal = authenticated.principal
        let digest = authenticated.digest
        context.notes.values.withLock { $0.principal = principal.id }
        if let wait = server.limiter.take(principal.id) {
            let seconds = RateLimiter.retryAfter(wait)
            context.notes.values.withLock { $0.retryAfter = seconds }
            throw AppError(.rateLimited, "too many requests from this principal; retry in \(seconds) s")
        }
        try await server.service.authorize(principal, action, route: spec.pattern)

        let limit =
            switch spec.body {
            case .batch: server.configuration.maxBatchBytes
            case .partial: server.configuration.maxPartialBytes
            case .small: server.configuration.maxRequestBytes
            }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw AppError(.tooLarge, "the request body is larger than \(limit) bytes")
        }
        var context = context
        context.principal = principal
        context.signedDigest = digest
        if spec.body != .batch {
            let body = try await BodyReader.collect(request.body, limit: limit, timeout: server.configuration.requestTimeoutSeconds)
            do throws(HTTPMessageSignature.Failure) {
                try RequestAuthenticator.checkBody(body.readableBytesView, digest: digest)
            } catch { throw fail(error) }
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

/// Closes the connection once a response that says `Connection: close` has been written (refusals, the request
/// timeout, shutting down), so a client that was refused cannot keep a connection, and a slot of --max-connections,
/// idle. Hummingbird itself closes only when the request asked for it.
final class CloseAfterResponse: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart
    /// Whether the response being written asked to close.
    var closing = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.status.code >= 200 {
                closing = head.headerFields[values: .connection].contains { $0.lowercased() == "close" }
            }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closing else { return context.write(data, promise: promise) }
            // Close once the last byte is handed to the socket (not before: the client must read the answer).
            let written = context.eventLoop.makePromise(of: Void.self)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { result in
                promise?.completeWith(result)
                bound.value.close(promise: nil)
            }
            context.writeAndFlush(data, promise: written)
        }
    }
}
