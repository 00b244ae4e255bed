/// An error from big-integer arithmetic.
///
/// Messages never contain the value that caused them: it may be a secret.
public struct BigNumError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// Text or bytes that do not form an integer of the expected shape.
        case malformed
        /// A value does not fit the requested width.
        case tooLarge
        /// Division by zero, an inverse that does not exist, an even modulus where an odd one is required.
        case invalidArgument
        /// The CSPRNG failed.
        case randomnessUnavailable
        /// An OpenSSL call failed for a reason the caller cannot fix (usually memory).
        case internalFailure
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
