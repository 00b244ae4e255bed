public import Foundation
import Primitives
import VaultAudit

/// The client's readers of the service's answers, once, for `VaultHTTPClient`, `HTTPAuditSource` and the fuzz
/// target `service-answer`. A server is not trusted: whatever it sends must neither crash the client nor be taken
/// for something it is not.
public enum ServiceAnswer {
    /// The longest problem message the client shows, in characters.
    public static let maxMessageCharacters = 400

    /// The error a non-2xx answer carries (RFC 9457 problem details), with the status as the code.
    ///
    /// Security: the server's words reach a terminal. The detail is cut to one line of printable text (control and
    /// format characters, line separators and terminal escapes become spaces) of at most 300 characters, and a rule
    /// is kept only when it looks like one (`A-Z 0-9 -`, at most 32), so a hostile server can neither rewrite the
    /// screen nor bury the status.
    public static func problem(status: Int, body: Data) -> AppError {
        struct Problem: Decodable {
            var detail: String?
            var title: String?
            var rule: String?
        }
        let parsed = body.count <= 64 << 10 ? try? JSONDecoder().decode(Problem.self, from: body) : nil
        let detail = printable(parsed?.detail ?? parsed?.title ?? "the server answered \(status)", limit: 300)
        let rule = parsed?.rule.flatMap { rule in
            (1...32).contains(rule.utf8.count) && rule.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 45 })
                ? rule : nil
        }
        let code: AppError.Code =
            switch status {
            case 400: .badRequest
            case 401: .unauthorized
            case 403: .forbidden
            case 404: .notFound
            case 408: .timeout
            case 409: .conflict
            case 413: .tooLarge
            case 422: .unprocessable
            case 429: .rateLimited
            case 431: .headersTooLarge
            default: .unavailable
            }
        return AppError(code, "server: \(detail) (HTTP \(status))", rule: rule)
    }

    /// `text` as one line of printable characters, at most `limit` of them (an ellipsis marks a cut).
    public static func printable(_ text: String, limit: Int) -> String {
        var out = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < limit else {
                out.append("…")
                break
            }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: out.append(" ")
            default: out.append(scalar)
            }
            count += 1
        }
        return String(out)
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
    ///
    /// - Throws: `.unavailable` unless the page holds consecutive entries from `start`, no more than `end - start`,
    ///   none beyond the size it states (so `next(after:start:)` always advances and paging ends).
    public static func entries(status: Int, body: Data, start: Int64, end: Int64) throws(AppError) -> LogEntriesPage {
        let page = try decode(LogEntriesPage.self, status: status, body: body)
        let malformed = AppError(.unavailable, "the server sent a page of log entries that is not the one asked for")
        guard start >= 1, end > start, page.entries.count <= end - start, page.size >= 0 else { throw malformed }
        for (offset, entry) in page.entries.enumerated() where entry.index != start + Int64(offset) { throw malformed }
        if let last = page.entries.last, last.index > page.size { throw malformed }
        return page
    }

    /// The next `start` after `page` (asked from `start` and checked by `entries`), or nil when the log has been read
    /// to its end.
    public static func next(after page: LogEntriesPage, start: Int64) -> Int64? {
        guard let last = page.entries.last, last.index >= start, last.index < page.size else { return nil }
        return last.index + 1
    }

    /// The partials of `GET /v1/releases/{id}/shares`, checked before any is written to a file.
    ///
    /// Security: the party names become file names (`release fetch --partials DIR` writes DIR/PARTY.partial.json),
    /// so each must be a valid party name (1–32 of `A–Z a–z 0–9 _ -`: no path separator, no dot), named once, and
    /// each partial's text must hash to the SHA-256 stated with it. The partials' proofs are checked later, by
    /// `release decrypt --threshold`, against the combiner's own threshold.json.
    ///
    /// - Throws: the problem for a non-200 answer; `.unavailable` for an answer that is not the release asked for,
    ///   names a party badly or twice, or whose partial does not match its hash.
    public static func shares(status: Int, body: Data, release: String) throws(AppError) -> ReleaseShares {
        let answer = try decode(ReleaseShares.self, status: status, body: body)
        let malformed = AppError(.unavailable, "the server sent partial decryptions that are not the ones asked for")
        guard answer.release == release, answer.partials.count <= 32 else { throw malformed }
        var seen = Set<String>()
        for partial in answer.partials {
            let valid = (1...32).contains(partial.party.utf8.count) && partial.party.utf8.allSatisfy {
                ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45
            }
            guard valid, seen.insert(partial.party).inserted,
                  Hex.encode(SHA256.hash(Array(partial.partial.utf8))) == partial.sha256
            else { throw malformed }
        }
        return answer
    }

    /// The 32-byte leaves of `GET /v1/audit/leaves/{batch}`.
    ///
    /// - Throws: `.unavailable` for a leaf that is not exactly 64 hex digits (no sign, space or prefix).
    public static func leaves(_ page: LeavesPage) throws(AppError) -> [[UInt8]] {
        try page.leaves.map { hex throws(AppError) -> [UInt8] in
            guard hex.utf8.count == 64, let bytes = Hex.decode(hex), bytes.count == 32 else {
                throw AppError(.unavailable, "the server sent a malformed leaf")
            }
            return bytes
        }
    }
}
