public import Foundation
import VaultAudit

/// The client's readers of the service's answers, once, for `VaultHTTPClient`, `HTTPAuditSource` and the fuzz
/// target `service-answer`. A server is not trusted: whatever it sends must neither crash the client nor be taken
/// for something it is not.
public enum ServiceAnswer {
    /// The longest problem message the client shows, in characters.
    public static let maxMessageCharacters = 400

    /// The error a non-2xx answer carries (RFC 9457 problem details), with the status as the code.
    public static func problem(status: Int, body: Data) -> AppError {
        struct Problem: Decodable {
            var detail: String?
            var title: String?
            var rule: String?
        }
        let parsed = try? JSONDecoder().decode(Problem.self, from: body)
        let detail = (parsed?.detail ?? parsed?.title ?? "the server answered \(status)")
            .replacingOccurrences(of: "\n", with: " ")
        let code: AppError.Code =
            switch status {
            case 400: .badRequest
            case 401: .unauthorized
            case 403: .forbidden
            case 404: .notFound
            case 409: .conflict
            case 413: .tooLarge
            case 422: .unprocessable
            case 429: .rateLimited
            default: .unavailable
            }
        return AppError(code, "server: \(detail) (HTTP \(status))", rule: parsed?.rule)
    }

    /// The JSON value of an answer whose status is one of `statuses`; else the answer's problem.
    ///
    /// - Throws: the problem for another status; `.unavailable` when the body is not the JSON expected.
    public static func decode<T: Decodable>(_ type: T.Type, status: Int, body: Data, statuses: Set<Int> = [200])
        throws(AppError) -> T
    {
        guard statuses.contains(status) else { throw problem(status: status, body: body) }
        do { return try JSONDecoder().decode(T.self, from: body) } catch {
            throw AppError(.unavailable, "the server's answer is not the JSON this client expects")
        }
    }

    /// A page of `GET /v1/log/entries?start=&end=`.
    public static func entries(status: Int, body: Data, start: Int64, end: Int64) throws(AppError) -> LogEntriesPage {
        try decode(LogEntriesPage.self, status: status, body: body)
    }

    /// The next `start` after `page` (asked from `start`), or nil when the log has been read to its end.
    public static func next(after page: LogEntriesPage, start: Int64) -> Int64? {
        guard let last = page.entries.last, last.index < page.size else { return nil }
        return last.index + 1
    }

    /// The 32-byte leaves of `GET /v1/audit/leaves/{batch}`.
    ///
    /// - Throws: `.unavailable` for a leaf that is not 64 hex digits.
    public static func leaves(_ page: LeavesPage) throws(AppError) -> [[UInt8]] {
        try page.leaves.map { hex throws(AppError) -> [UInt8] in
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
                guard let byte = UInt8(hex[index..<next], radix: 16) else {
                    throw AppError(.unavailable, "the server sent a malformed leaf")
                }
                bytes.append(byte)
                index = next
            }
            guard bytes.count == 32 else { throw AppError(.unavailable, "the server sent a malformed leaf") }
            return bytes
        }
    }
}
