public import VaultAggregation
public import VaultStore

/// An error of a use case, with the HTTP status a service answers with and the one line a command prints.
///
/// Messages are one line and never contain a score, a student id, a key or a request body.
public struct AppError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure, which decides the status.
    public enum Code: String, Sendable {
        /// The request is malformed (400).
        case badRequest = "bad_request"
        /// The request is not signed, or not by a known, current key (401).
        case unauthorized
        /// The principal's role may not do this under the policy's ROLES rule, or it asked for another's data (403).
        case forbidden
        /// No such resource (404).
        case notFound = "not_found"
        /// The request conflicts with stored data (409).
        case conflict
        /// The client took longer than the request timeout to send its request (408).
        case timeout
        /// The body is larger than the limit (413).
        case tooLarge = "too_large"
        /// The header section, or one signature header, is larger than the limit (431).
        case headersTooLarge = "headers_too_large"
        /// The request is well formed but refused: a batch that fails validation, a query the policy refuses (422).
        case unprocessable
        /// Too many requests from this principal (429).
        case rateLimited = "rate_limited"
        /// The vault cannot do it now: storage or audit failure (nothing was stored), or shutting down (503).
        case unavailable
    }

    public var code: Code
    public var message: String
    /// The policy rule that refused the request, when one did (ROLES, ATTR-ALLOW, DP-BUDGET, …).
    public var rule: String?

    public init(_ code: Code, _ message: String, rule: String? = nil) {
        self.code = code
        self.message = message
        self.rule = rule
    }

    /// The HTTP status of the code.
    public var status: Int {
        switch code {
        case .badRequest: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .timeout: 408
        case .tooLarge: 413
        case .headersTooLarge: 431
        case .unprocessable: 422
        case .rateLimited: 429
        case .unavailable: 503
        }
    }

    public var description: String { rule.map { "\(message) [rule \($0)]" } ?? message }

    /// Any error met in a use case: store and aggregation errors as below, anything else as 503 (nothing stored).
    public init(_ error: any Error) {
        switch error {
        case let error as AppError: self = error
        case let error as StoreError: self.init(error)
        case let error as AggregationError: self.init(error)
        default: self.init(.unavailable, "the vault could not complete the request; nothing was stored")
        }
    }

    /// A store error as a use-case error: batch refusals are 422 (a duplicate record 409, a revoked school 403);
    /// storage and audit failures are 503 — the write did not happen.
    public init(_ error: StoreError) {
        switch error.code {
        case .duplicateRecord: self.init(.conflict, "batch refused (\(error.code.rawValue)): \(error.description)")
        case .revokedSchool: self.init(.forbidden, "batch refused (\(error.code.rawValue)): \(error.description)")
        case _ where error.isBatchRefusal:
            self.init(.unprocessable, "batch refused (\(error.code.rawValue)): \(error.description)")
        case .schoolExists, .shareConflict: self.init(.conflict, error.message)
        case .invalidSchool, .invalidRelease: self.init(.badRequest, error.message)
        case .database, .audit, .io, .notAVault, .vaultExists, .invalidDescriptor, .invalidPolicy, .policyMismatch,
            .keyTooSmall:
            let hint = error.code == .database ? " (disk full, a file-size limit or no write permission?)" : ""
            self.init(.unavailable, "the vault could not complete the request: \(error.message)\(hint); nothing was stored")
        default: self.init(.unavailable, error.message)
        }
    }

    /// An aggregation error as a use-case error: a refusal carries its rule (422), storage failures are 503.
    public init(_ error: AggregationError) {
        switch error.code {
        case .invalidQuery: self.init(.unprocessable, error.message)
        case .refused: self.init(.unprocessable, error.message, rule: error.rule)
        case .overflow, .invalidRelease, .decryption, .quorum: self.init(.unprocessable, error.message)
        case .storage: self.init(.unavailable, "the release was not recorded: \(error.message)")
        }
    }
}
