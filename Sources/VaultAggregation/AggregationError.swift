/// An error from query planning, policy enforcement or release decryption.
///
/// Messages cite the policy rule id where a rule refused something, and never contain a score or a student id.
public struct AggregationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The query is malformed (unknown attribute, bad `--where`, contrast problems).
        case invalidQuery = "invalid_query"
        /// The policy refused the whole query (e.g. ATTR-ALLOW); `rule` says which rule.
        case refused = "refused"
        /// The sums could overflow their packed slots.
        case overflow = "overflow"
        /// A release file is malformed or belongs to another key/vault.
        case invalidRelease = "invalid_release"
        /// Decryption or decoding failed.
        case decryption = "decryption"
        /// Fewer than the threshold of valid partial decryptions (threshold custody).
        case quorum = "quorum"
        /// Storage failed.
        case storage = "storage"
    }

    public var code: Code
    public var message: String
    /// The policy rule that refused, when one did.
    public var rule: String?

    public init(_ code: Code, _ message: String, rule: String? = nil) {
        self.code = code
        self.message = message
        self.rule = rule
    }

    public var description: String { rule.map { "\(message) [rule \($0)]" } ?? message }
}
