public import Foundation

/// The one JSON encoding EduVault hashes and signs: UTF-8, object keys sorted, no insignificant whitespace,
/// slashes not escaped.
///
/// Hashes over "canonical JSON" anywhere in EduVault (schema hash, audit entries) mean exactly these bytes.
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    ///
    /// - Throws: `ModelError.invalidFile` if the value cannot be represented in JSON (for example a NaN).
    public static func encode(_ value: some Encodable) throws(ModelError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw ModelError(.invalidFile, "value cannot be encoded as JSON")
        }
    }

    /// The canonical bytes as a string.
    public static func string(_ value: some Encodable) throws(ModelError) -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }

    /// Decodes `T` from JSON bytes, mapping any failure to `ModelError(code)` with `what` in the message.
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: some Collection<UInt8>, what: String, code: ModelError.Code = .invalidFile
    ) throws(ModelError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(code, "\(what) is not valid JSON of the expected shape")
        }
    }
}

/// ISO 8601 timestamps (UTC, second precision) as EduVault writes them.
public enum Timestamp {
    /// The current time, e.g. `2024-05-01T09:30:00Z`.
    public static func now() -> String {
        Date().formatted(.iso8601)
    }

    /// Formats a date as EduVault writes timestamps.
    public static func format(_ date: Date) -> String { date.formatted(.iso8601) }

    /// Parses a timestamp EduVault wrote (or any ISO 8601 date-time in UTC); nil otherwise.
    public static func parse(_ text: String) -> Date? {
        guard text.count <= 40 else { return nil }
        return try? Date(text, strategy: .iso8601)
    }
}
