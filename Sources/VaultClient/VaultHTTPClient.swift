public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Primitives
public import VaultAggregation
public import VaultApp
public import VaultModel

/// A client of `eduvault serve`: every request signed by the caller's key (RFC 9421, see `HTTPMessageSignature`),
/// sent through libcurl (`CurlTransport`), which blocks the calling thread without spinning while the server is slow.
///
/// `Sendable`: immutable after init; the handle pool is thread-safe.
public final class VaultHTTPClient: Sendable {
    public let baseURL: URL
    let identity: Identity
    /// A PEM file to trust for TLS (`--ca-cert`); empty: the system trust store.
    let caFile: String
    /// libcurl handles kept for their open connections.
    let pool = CurlTransport.Pool()
    /// Connect, stall and total timeouts (tests shorten them).
    let timeouts: CurlTransport.Timeouts

    /// The largest response body read (a release or a page of entries is far smaller).
    static let maxResponseBytes = 256 << 20

    /// - Parameters:
    ///   - server: `http://host:port` or `https://host:port`.
    ///   - caCertificate: a PEM file with the server's self-signed certificate or its CA.
    /// - Throws: `.badRequest` for a malformed URL, or a CA file FoundationNetworking cannot use.
    public convenience init(server: String, identity: Identity, caCertificate: URL? = nil) throws(AppError) {
        try self.init(server: server, identity: identity, caCertificate: caCertificate, timeouts: .init())
    }

    init(server: String, identity: Identity, caCertificate: URL?, timeouts: CurlTransport.Timeouts) throws(AppError) {
        var text = server
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil, url.query == nil, url.user == nil, url.password == nil
        else { throw AppError(.badRequest, "--server must look like http://127.0.0.1:8443 or https://vault.example:8443") }
        baseURL = url
        self.identity = identity
        self.timeouts = timeouts
        if let caCertificate {
            guard let data = FileManager.default.contents(atPath: caCertificate.path), data.count < 1 << 20,
                  String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----")
            else { throw AppError(.badRequest, "--ca-cert \(caCertificate.path) is not a PEM certificate file") }
            caFile = caCertificate.path
        } else {
            caFile = ""
        }
    }

    /// A response.
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var contentType: String?
    }

    /// Builds and signs a request for `path` (starting with `/`) and optional query items.
    func request(_ method: String, _ path: String, query: [URLQueryItem] = [], body: Data = Data(),
                 contentType: String? = nil) throws(AppError) -> URLRequest {
        guard var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false) else {
            throw AppError(.badRequest, "the server URL is malformed")
        }
        components.percentEncodedPath = (components.percentEncodedPath) + path
        if !query.isEmpty { components.queryItems = query }
        guard let url = components.url else { throw AppError(.badRequest, "the request URL is malformed") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        let headers: HTTPMessageSignature.Headers
        do {
            headers = try HTTPMessageSignature.sign(method: method, targetURI: url.absoluteString, body: body,
                                                    keyID: identity.keyID, key: identity.key)
        } catch { throw AppError(.badRequest, "cannot sign the request: \(error.message)") }
        request.setValue(headers.contentDigest, forHTTPHeaderField: "Content-Digest")
        request.setValue(headers.signatureInput, forHTTPHeaderField: "Signature-Input")
        request.setValue(headers.signature, forHTTPHeaderField: "Signature")
        request.setValue("application/json, application/problem+json, text/plain", forHTTPHeaderField: "Accept")
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if !body.isEmpty || method == "POST" {
            request.httpBody = body
            // libcurl otherwise waits for a "100 Continue" before sending a large body.
            request.setValue("", forHTTPHeaderField: "Expect")
        }
        return request
    }

    /// Sends a request and waits for the whole response, on a thread outside Swift's cooperative pool (libcurl blocks
    /// the thread it runs on).
    func send(_ request: URLRequest) async throws(AppError) -> Response {
        let result: Result<Response, AppError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread { [self] in
                continuation.resume(returning: CurlTransport.perform(request, caFile: caFile, timeouts: timeouts,
                                                                     maxBytes: Self.maxResponseBytes, pool: pool))
            }
        }
        return try result.get()
    }

    /// Sends a request from synchronous code (the auditor's verifier reads its source synchronously), blocking the
    /// calling thread.
    func sendBlocking(_ request: URLRequest) throws(AppError) -> Response {
        try CurlTransport.perform(request, caFile: caFile, timeouts: timeouts, maxBytes: Self.maxResponseBytes, pool: pool).get()
    }

    /// The error a non-2xx response carries (RFC 9457 problem details).
    static func problem(_ response: Response) -> AppError {
        ServiceAnswer.problem(status: response.status, body: response.body)
    }

    func expect<T: Decodable>(_ type: T.Type, _ response: Response, _ statuses: Set<Int> = [200]) throws(AppError) -> T {
        try ServiceAnswer.decode(T.self, status: response.status, body: response.body, statuses: statuses)
    }

    // MARK: - Use cases

    /// Uploads a batch file: its receipt, and whether it was stored now (201) or already (200).
    public func upload(batch: URL, maxBytes: Int = 1 << 30) async throws(AppError) -> (receipt: Receipt, stored: Bool) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: batch.path),
              let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw AppError(.badRequest, "batch file not found or unreadable: \(batch.path)") }
        guard size <= maxBytes, let data = FileManager.default.contents(atPath: batch.path) else {
            throw AppError(.badRequest, "cannot read the batch file \(batch.path)")
        }
        let response = try await send(try request("POST", "/v1/batches", body: data, contentType: "application/octet-stream"))
        let receipt = try expect(Receipt.self, response, [200, 201])
        return (receipt, response.status == 201)
    }

    /// A receipt the caller's school holds.
    public func receipt(id: String) async throws(AppError) -> Receipt {
        try expect(Receipt.self, try await send(try request("GET", "/v1/receipts/\(id)")))
    }

    /// Asks a query; the release's JSON (exactly the bytes the vault stored).
    public func query(_ query: Query) async throws(AppError) -> Data {
        let body = try ServiceRequest.encode(query)
        let response = try await send(try request("POST", "/v1/queries", body: body, contentType: "application/json"))
        guard response.status == 201 || response.status == 200 else { throw Self.problem(response) }
        return response.body
    }

    /// Asks for a model; the model release's JSON (exactly the bytes the vault stored).
    public func analyze(_ spec: ModelSpec) async throws(AppError) -> Data {
        let body: Data
        do { body = try JSONEncoder().encode(spec) } catch { throw AppError(.badRequest, "the model cannot be encoded") }
        let response = try await send(try request("POST", "/v1/models", body: body, contentType: "application/json"))
        guard response.status == 201 || response.status == 200 else { throw Self.problem(response) }
        return response.body
    }

    /// A stored release's JSON.
    public func release(id: String) async throws(AppError) -> Data {
        let response = try await send(try request("GET", "/v1/releases/\(id)"))
        guard response.status == 200 else { throw Self.problem(response) }
        return response.body
    }

    /// Posts a party's partial decryption of release `id`: the vault's receipt, and whether it stored it now (201)
    /// or already held the same partial (200).
    public func postShare(releaseID id: String, partial: Data) async throws(AppError) -> (receipt: ShareReceipt, stored: Bool) {
        let response = try await send(try request("POST", "/v1/releases/\(id)/shares", body: partial,
                                                  contentType: "application/json"))
        let receipt = try expect(ShareReceipt.self, response, [200, 201])
        return (receipt, response.status == 201)
    }

    /// The partial decryptions posted for release `id` (checked by ``ServiceAnswer/shares(status:body:release:)``).
    public func shares(releaseID id: String) async throws(AppError) -> ReleaseShares {
        let response = try await send(try request("GET", "/v1/releases/\(id)/shares"))
        return try ServiceAnswer.shares(status: response.status, body: response.body, release: id)
    }

    /// The vault's status.
    public func status() async throws(AppError) -> StatusReport {
        try expect(StatusReport.self, try await send(try request("GET", "/v1/status")))
    }

    /// The latest signed checkpoint.
    public func checkpoint() async throws(AppError) -> String {
        let response = try await send(try request("GET", "/v1/log/checkpoint"))
        guard response.status == 200 else { throw Self.problem(response) }
        return String(decoding: response.body, as: UTF8.self)
    }
}
