// The JSON request bodies of `eduvault serve`: `POST /v1/queries` (the only route with a JSON body; batches are
// signed batch files, fuzzed by the batch target).
//
// Path: ServiceRequest.query — what the server's handler calls on the collected body — then ServiceRequest.encode,
// what the client sends.
// Properties: decode → encode → decode is the identity, and encoding is stable; a decoded query is normalised
// (names lower-case, trimmed, no separator the command line's `--by a,b` / `--where a=v` forms would split), has
// bounded sizes, and means what the body said: each attribute and filter of the body, trimmed and lower-cased,
// is in the query, and nothing else.
import Foundation
import FuzzDriver
import FuzzSupport
import VaultAggregation
import VaultApp

/// The body as a plain JSON reader sees it (nil unless it is an object of the documented shape).
func plain(_ data: Data) -> (by: [String], filters: [String: String], contrast: String?)? {
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let by = object["by"] as? [String] else { return nil }
    let filters = object["filters"] as? [String: String] ?? [:]
    return (by, filters, object["contrast"] as? String)
}

func normal(_ name: String) -> String { name.trimmingCharacters(in: .whitespaces).lowercased() }

Fuzz.run { data in
    guard let query = try? ServiceRequest.query(data) else { return }
    for name in query.attributes {
        Fuzz.require(!name.isEmpty && name == normal(name), "an attribute is not normalised: \(name.debugDescription)")
        Fuzz.require(!name.contains(",") && !name.contains("="), "an attribute holds a separator: \(name.debugDescription)")
    }
    Fuzz.require(query.by.count <= ServiceRequest.maxAttributes && query.filters.count <= ServiceRequest.maxAttributes,
                 "more attributes than the limit")
    Fuzz.require(query.attributes.allSatisfy { $0.utf8.count <= ServiceRequest.maxNameBytes }
                     && query.filters.values.allSatisfy { $0.utf8.count <= ServiceRequest.maxValueBytes },
                 "a name or value longer than the limit")
    if let body = plain(data) {
        Fuzz.require(query.by == body.by.map(normal), "the query's by is not the body's")
        Fuzz.require(query.contrast == body.contrast.map(normal), "the query's contrast is not the body's")
        let expected = Dictionary(body.filters.map { (normal($0.key), $0.value.trimmingCharacters(in: .whitespaces)) },
                                  uniquingKeysWith: { a, _ in a })
        Fuzz.require(query.filters == expected, "the query's filters are not the body's")
    }
    guard let encoded = try? ServiceRequest.encode(query) else { return Fuzz.require(false, "a decoded query does not encode") }
    guard let again = try? ServiceRequest.query(encoded) else { return Fuzz.require(false, "an encoded query does not decode") }
    Fuzz.require(again == query, "decode → encode → decode changed the query")
    Fuzz.require((try? ServiceRequest.encode(again)) == encoded, "encoding is not stable")
}
