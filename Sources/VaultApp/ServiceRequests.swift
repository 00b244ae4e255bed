public import Foundation
public import VaultAggregation

/// The JSON request bodies the service decodes, once, for the server and the fuzz target `service-request`.
///
/// `POST /v1/queries` is the only route with a JSON body (`POST /v1/batches` carries a signed batch file, read by
/// `BatchReader`; every other route is a GET).
public enum ServiceRequest {
    /// The most attributes in `by`, and the most filters.
    public static let maxAttributes = 16
    /// The longest attribute name and filter value, in bytes.
    public static let maxNameBytes = 64
    public static let maxValueBytes = 256

    /// Decodes a `POST /v1/queries` body and normalises it as the command line does (attribute names trimmed and
    /// lower-cased, filter values trimmed): the query the vault runs.
    ///
    /// - Throws: `.badRequest` (400) with one line naming the expected form.
    public static func query(_ body: some Collection<UInt8>) throws(AppError) -> Query {
        let query: Query
        do { query = try JSONDecoder().decode(Query.self, from: Data(body)) } catch {
            throw AppError(.badRequest, "the body must be a JSON query: {\"by\": [\"subject\"], \"filters\": {}, \"contrast\": \"region\"}")
        }
        let normalised: Query
        do {
            normalised = try Query(byList: query.by.joined(separator: ","),
                                   whereClauses: query.filters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
                                   contrast: query.contrast)
        } catch { throw AppError(.badRequest, error.message) }
        guard normalised.by.count == query.by.count else { throw AppError(.badRequest, "\"by\" holds an empty attribute") }
        return normalised
    }

    /// The body a client sends for `query` (keys sorted; `ServiceRequest.query` reads it back as `query`).
    public static func encode(_ query: Query) throws(AppError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(query) } catch { throw AppError(.badRequest, "the query cannot be encoded") }
    }
}
