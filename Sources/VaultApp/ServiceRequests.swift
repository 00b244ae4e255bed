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

    /// The body as sent: exactly the keys `by` (required), `filters` and `contrast` (optional), each at most once.
    struct Body: Decodable {
        var by: [String]
        var filters: [String: String]
        var contrast: String?

        struct Key: CodingKey {
            var stringValue: String
            init(_ name: String) { stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            let unknown = container.allKeys.map(\.stringValue).filter { !["by", "filters", "contrast"].contains($0) }
            guard unknown.isEmpty else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "unknown key"))
            }
            by = try container.decode([String].self, forKey: Key("by"))
            filters = try container.decodeIfPresent([String: String].self, forKey: Key("filters")) ?? [:]
            contrast = try container.decodeIfPresent(String.self, forKey: Key("contrast"))
        }
    }

    /// Decodes a `POST /v1/queries` body and normalises it as the command line does (attribute names trimmed and
    /// lower-cased, filter values trimmed): the query the vault runs.
    ///
    /// Strict: an unknown or repeated key (at any depth), an attribute name other than 1–64 characters of
    /// `a-z 0-9 _ -` once normalised, an empty or over-long filter value or one with control characters, more than
    /// 16 attributes or filters, an attribute named twice, or a contrast also grouped or filtered is refused. (A
    /// repeated key is read differently by different JSON readers; names with `,` or `=` were once re-read through
    /// the command line's `--by a,b` / `--where a=v` forms and changed meaning.)
    ///
    /// - Throws: `.badRequest` (400) with one line naming what is wrong.
    public static func query(_ body: some Collection<UInt8>) throws(AppError) -> Query {
        let bytes = Array(body)
        let form = "the body must be a JSON query: {\"by\": [\"subject\"], \"filters\": {}, \"contrast\": \"region\"}"
        guard !JSONKeys.hasRepeatedKey(bytes) else { throw AppError(.badRequest, "\(form), each key once") }
        let raw: Body
        do { raw = try JSONDecoder().decode(Body.self, from: Data(bytes)) } catch {
            throw AppError(.badRequest, "\(form), and no other keys")
        }
        guard raw.by.count <= maxAttributes, raw.filters.count <= maxAttributes else {
            throw AppError(.badRequest, "a query names at most \(maxAttributes) attributes in \"by\" and \(maxAttributes) filters")
        }
        func name(_ text: String) throws(AppError) -> String {
            let normal = text.trimmingCharacters(in: .whitespaces).lowercased()
            guard (1...maxNameBytes).contains(normal.utf8.count),
                  normal.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 })
            else { throw AppError(.badRequest, "attribute names are 1–\(maxNameBytes) characters of a-z, 0-9, _ and -") }
            return normal
        }
        var by: [String] = []
        for item in raw.by { by.append(try name(item)) }
        guard Set(by).count == by.count else { throw AppError(.badRequest, "\"by\" names an attribute twice") }
        var filters: [String: String] = [:]
        for (key, value) in raw.filters {
            let attribute = try name(key)
            let text = value.trimmingCharacters(in: .whitespaces)
            guard (1...maxValueBytes).contains(text.utf8.count),
                  !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else { throw AppError(.badRequest, "filter values are 1–\(maxValueBytes) bytes of printable text") }
            guard filters[attribute] == nil else { throw AppError(.badRequest, "\"filters\" names \(attribute) twice") }
            filters[attribute] = text
        }
        var contrast: String?
        if let given = raw.contrast {
            let attribute = try name(given)
            guard !by.contains(attribute), filters[attribute] == nil else {
                throw AppError(.badRequest, "the contrast attribute must not also be in \"by\" or \"filters\"")
            }
            contrast = attribute
        }
        return Query(by: by, filters: filters, contrast: contrast)
    }

    /// The body a client sends for `query` (keys sorted; `ServiceRequest.query` reads it back as `query`).
    public static func encode(_ query: Query) throws(AppError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(query) } catch { throw AppError(.badRequest, "the query cannot be encoded") }
    }
}

/// A scan of JSON text for objects that repeat a key (Foundation's decoder keeps one of them silently).
enum JSONKeys {
    /// Whether any object in `bytes` names a key twice (keys compared after unescaping). Text that is not JSON is
    /// left to the decoder, which refuses it.
    static func hasRepeatedKey(_ bytes: [UInt8]) -> Bool {
        struct Frame {
            var keys: Set<String>?  // nil: an array
            var expectingKey: Bool
        }
        var stack: [Frame] = []
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""):
                var j = i + 1
                while j < bytes.count && bytes[j] != UInt8(ascii: "\"") { j += bytes[j] == UInt8(ascii: "\\") ? 2 : 1 }
                guard j < bytes.count else { return false }
                if let top = stack.last, var keys = top.keys, top.expectingKey {
                    let literal = Data(bytes[i...j])
                    let key = (try? JSONDecoder().decode(String.self, from: literal)) ?? String(decoding: literal, as: UTF8.self)
                    guard keys.insert(key).inserted else { return true }
                    stack[stack.count - 1] = Frame(keys: keys, expectingKey: false)
                }
                i = j
            case UInt8(ascii: "{"): stack.append(Frame(keys: [], expectingKey: true))
            case UInt8(ascii: "["): stack.append(Frame(keys: nil, expectingKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","): if let top = stack.last, top.keys != nil { stack[stack.count - 1].expectingKey = true }
            default: break
            }
            i += 1
        }
        return false
    }
}
