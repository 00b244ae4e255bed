/// An error from the Paillier library.
///
/// Messages are one line, say what to fix, and never contain a plaintext, a key or a ciphertext value.
public struct PaillierError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// A key file is not valid JSON or not in python-paillier's JWK form.
        case malformedKey
        /// The key is well formed but mathematically wrong (p = q, composite factors, p·q ≠ n, gcd(n, φ) ≠ 1).
        case invalidKey
        /// The key is smaller than the policy allows (2048 bits outside test fixtures).
        case keyTooSmall
        /// A ciphertext file or value is malformed or not canonical.
        case malformedCiphertext
        /// The ciphertext is not an element of Z*_{n²}: zero, negative, ≥ n², or shares a factor with n.
        case invalidCiphertext
        /// The ciphertext was made under another key.
        case wrongKey
        /// A value does not fit the plaintext space, or a decrypted value lies in the overflow guard band.
        case overflow
        /// A plaintext value could not be parsed or encoded.
        case invalidPlaintext
        /// Slot layout or packed values out of range.
        case packing
        /// A passphrase-protected key could not be opened.
        case passphrase
        /// Randomness or an OpenSSL call failed.
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
