/// An error from a symmetric or signature primitive.
///
/// Messages never contain key material or the data being processed.
public struct PrimitivesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in terms a caller can act on.
    public enum Code: String, Sendable {
        /// OpenSSL's CSPRNG refused to produce bytes (the system has no entropy source).
        case randomnessUnavailable
        /// A key had the wrong length or form.
        case invalidKey
        /// A signature did not verify.
        case invalidSignature
        /// Authenticated decryption failed: wrong passphrase, or the data was altered.
        case authenticationFailed
        /// An OpenSSL call failed unexpectedly.
        case internalFailure
    }

    /// The kind of failure.
    public var code: Code
    /// A one-line message without secrets.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
