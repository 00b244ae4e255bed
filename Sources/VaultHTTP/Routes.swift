import VaultApp

/// The service's routes: method, path pattern, the ROLES action a signed request needs, and its body limit.
///
/// The middlewares classify each request with this table (for authorization, body limits, metrics and the log),
/// and `VaultServer` registers one handler per entry: one table, no route outside it.
struct RouteSpec: Sendable, Equatable {
    enum Body: Sendable, Equatable {
        /// At most `maxRequestBytes`, collected before the handler.
        case small
        /// A batch: streamed to a file up to `maxBatchBytes`.
        case batch
        /// A partial decryption: collected before the handler, up to `maxPartialBytes`.
        case partial
    }
    var method: String
    var pattern: String
    /// nil for the unsigned routes (health, metrics, the OpenAPI document).
    var action: ServiceAction?
    var body: Body = .small

    static let all: [RouteSpec] = [
        RouteSpec(method: "POST", pattern: "/v1/batches", action: .batchUpload, body: .batch),
        RouteSpec(method: "GET", pattern: "/v1/receipts/{id}", action: .receiptRead),
        RouteSpec(method: "POST", pattern: "/v1/queries", action: .queryRequest),
        RouteSpec(method: "POST", pattern: "/v1/models", action: .modelRequest),
        RouteSpec(method: "GET", pattern: "/v1/releases/{id}", action: .releaseRead),
        RouteSpec(method: "POST", pattern: "/v1/releases/{id}/shares", action: .releaseShare, body: .partial),
        RouteSpec(method: "GET", pattern: "/v1/releases/{id}/shares", action: .releaseDecrypt),
        RouteSpec(method: "GET", pattern: "/v1/status", action: .statusRead),
        RouteSpec(method: "GET", pattern: "/v1/log/checkpoint", action: .logRead),
        RouteSpec(method: "GET", pattern: "/v1/log/entries", action: .logRead),
        RouteSpec(method: "GET", pattern: "/v1/log/proofs/inclusion", action: .logRead),
        RouteSpec(method: "GET", pattern: "/v1/log/proofs/consistency", action: .logRead),
        RouteSpec(method: "GET", pattern: "/v1/audit/tables", action: .logVerify),
        RouteSpec(method: "GET", pattern: "/v1/audit/records/{batch}", action: .logVerify),
        RouteSpec(method: "GET", pattern: "/v1/audit/leaves/{batch}", action: .logVerify),
        RouteSpec(method: "GET", pattern: "/healthz", action: nil),
        RouteSpec(method: "GET", pattern: "/metrics", action: nil),
        RouteSpec(method: "GET", pattern: "/openapi.yaml", action: nil),
    ]

    /// The route a request path matches (pattern segments `{x}` match one non-empty segment).
    static func match(method: String, path: String) -> RouteSpec? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return all.first { spec in
            guard spec.method == method else { return false }
            let parts = spec.pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard parts.count == segments.count else { return false }
            return zip(parts, segments).allSatisfy { part, segment in
                part.hasPrefix("{") ? !segment.isEmpty : part == segment
            }
        }
    }

    /// Whether any route has this path (with another method: 405 rather than 404).
    static func pathExists(_ path: String) -> Bool {
        ["GET", "POST"].contains { match(method: $0, path: path) != nil }
    }
}
