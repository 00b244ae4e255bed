public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Primitives
public import VaultAggregation
public import VaultApp
public import VaultModel

/// A client of `eduvault serve`: every request signed by the caller's key (RFC 9421, see `HTTPMessageSignature`),
/// over URLSession (FoundationNetworking: no extra build time), or libcurl directly when a private CA is given.
///
/// `Sendable`: immutable after init; URLSession is thread-safe.
public final class VaultHTTPClient: @unchecked Sendable {
    // @unchecked: URLSession is documented thread-safe but not marked Sendable on Linux; every other field is a let
    // of a Sendable type.
    public let baseURL: URL
    let identity: Identity
    let session: URLSession
    /// A PEM file to trust for TLS (`--ca-cert`): such requests go through libcurl (`CurlTransport`).
    let caFile: String?

    /// The largest response body read (a release or a page of entries is far smaller).
    static let maxResponseBytes = 256 << 20

    /// - Parameters:
    ///   - server: `http://host:port` or `https://host:port`.
    ///   - caCertificate: a PEM file with the server's self-signed certificate or its CA.
    /// - Throws: `.badRequest` for a malformed URL, or a CA file FoundationNetworking cannot use.
    public init(server: String, identity: Identity, caCertificate: URL? = nil) throws(AppError) {
        var text = server
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil, url.query == nil, url.user == nil, url.password == nil
        else { throw AppError(.badRequest, "--server must look like http://127.0.0.1:8443 or https://vault.example:8443") }
        baseURL = url
        self.identity = identity
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 300
        configuration.timeoutIntervalForResource = 900
        configuration.httpMaximumConnectionsPerHost = 64
        if let caCertificate {
            guard let data = FileManager.default.contents(atPath: caCertificate.path), data.count < 1 << 20,
                  String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----")
            else { throw AppError(.badRequest, "--ca-cert \(caCertificate.path) is not a PEM certificate file") }
            caFile = caCertificate.path
        } else {
            caFile = nil
        }
        session = URLSession(configuration: configuration)
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

    /// Sends a request and waits for the whole response.
    /// Whether a request goes through libcurl directly: with a private CA (URLSession cannot be told one), and for large
    /// bodies (batches), where FoundationNetworking's upload path costs about 30 ms of system CPU per megabyte on the
    /// client (measured: 0.20 s against 0.02 s for six 0.8 MB batches), which on a shared machine slows the vault too.
    func usesCurl(_ request: URLRequest) -> String? {
        if let caFile { return caFile }
        return (request.httpBody?.count ?? 0) > Self.largeBody ? "" : nil
    }

    /// Bodies above this go through libcurl directly.
    static let largeBody = 64 << 10

    func send(_ request: URLRequest) async throws(AppError) -> Response {
        if let caFile = usesCurl(request) {
            let result: Result<Response, AppError> = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(returning: CurlTransport.perform(request, caFile: caFile, timeoutSeconds: 900,
                                                                         maxBytes: Self.maxResponseBytes))
                }
            }
            return try result.get()
        }
        let result: Result<Response, AppError> = await withCheckedContinuation { continuation in
            session.dataTask(with: request) { data, response, error in
                continuation.resume(returning: Self.response(data, response, error))
            }.resume()
        }
        return try result.get()
    }

    /// Sends a request from synchronous code (the auditor's verifier reads its source synchronously).
    func sendBlocking(_ request: URLRequest) throws(AppError) -> Response {
        if let caFile = usesCurl(request) {
            return try CurlTransport.perform(request, caFile: caFile, timeoutSeconds: 900, maxBytes: Self.maxResponseBytes).get()
        }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            box.result = Self.response(data, response, error)
            done.signal()
        }.resume()
        done.wait()
        return try (box.result ?? .failure(AppError(.unavailable, "no response"))).get()
    }

    static func response(_ data: Data?, _ response: URLResponse?, _ error: (any Error)?) -> Result<Response, AppError> {
        if let error {
            return .failure(AppError(.unavailable, "cannot reach the server: \(error.localizedDescription)"))
        }
        guard let http = response as? HTTPURLResponse else { return .failure(AppError(.unavailable, "no HTTP response")) }
        let body = data ?? Data()
        guard body.count <= maxResponseBytes else { return .failure(AppError(.unavailable, "the response is too large")) }
        return .success(Response(status: http.statusCode, body: body,
                                 contentType: http.value(forHTTPHeaderField: "Content-Type")))
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

/// A result written by a URLSession callback and read after the semaphore.
final class ResultBox: @unchecked Sendable {
    // @unchecked: written once before `signal()`, read after `wait()`.
    var result: Result<VaultHTTPClient.Response, AppError>?
}
