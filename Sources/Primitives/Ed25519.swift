internal import COpenSSL

/// Ed25519 signatures (RFC 8032, pure EdDSA) through OpenSSL's EVP interface.
public enum Ed25519 {
    /// A signing key. Its 32 raw bytes are the secret; `deinit`-free value, so wipe copies you make of ``rawRepresentation``.
    public struct PrivateKey: Sendable {
        /// The 32-byte seed.
        public let rawRepresentation: [UInt8]
        /// The matching public key.
        public let publicKey: PublicKey

        /// Generates a new key from OpenSSL's CSPRNG.
        public init() throws(PrimitivesError) {
            try self.init(rawRepresentation: SecureRandom.bytes(32))
        }

        /// Loads a key from its 32-byte seed.
        public init(rawRepresentation: [UInt8]) throws(PrimitivesError) {
            guard rawRepresentation.count == 32 else {
                throw PrimitivesError(.invalidKey, "an Ed25519 private key is 32 bytes")
            }
            let pkey = try Self.makePKey(rawRepresentation)
            defer { EVP_PKEY_free(pkey) }
            var pub = [UInt8](repeating: 0, count: 32)
            var len = 32
            guard pub.withUnsafeMutableBufferPointer({ EVP_PKEY_get_raw_public_key(pkey, $0.baseAddress, &len) }) == 1
            else { throw PrimitivesError(.internalFailure, "could not derive the Ed25519 public key") }
            self.rawRepresentation = rawRepresentation
            self.publicKey = try PublicKey(rawRepresentation: pub)
        }

        /// Signs `message` (64-byte signature).
        public func signature(for message: some Collection<UInt8>) throws(PrimitivesError) -> [UInt8] {
            let pkey = try Self.makePKey(rawRepresentation)
            defer { EVP_PKEY_free(pkey) }
            guard let md = EVP_MD_CTX_new() else { throw PrimitivesError(.internalFailure, "out of memory") }
            defer { EVP_MD_CTX_free(md) }
            guard EVP_DigestSignInit(md, nil, nil, nil, pkey) == 1 else {
                throw PrimitivesError(.internalFailure, "could not start an Ed25519 signature")
            }
            let msg = Array(message)
            var sig = [UInt8](repeating: 0, count: 64)
            var len = 64
            let ok = msg.withUnsafeBufferPointer { m in
                sig.withUnsafeMutableBufferPointer { s in EVP_DigestSign(md, s.baseAddress, &len, m.baseAddress, m.count) }
            }
            guard ok == 1, len == 64 else { throw PrimitivesError(.internalFailure, "Ed25519 signing failed") }
            return sig
        }

        private static func makePKey(_ raw: [UInt8]) throws(PrimitivesError) -> OpaquePointer {
            let pkey = raw.withUnsafeBufferPointer {
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            }
            guard let pkey else { throw PrimitivesError(.invalidKey, "not a valid Ed25519 private key") }
            return pkey
        }
    }

    /// A verification key (32 bytes).
    public struct PublicKey: Sendable, Equatable, Hashable {
        /// The 32 raw bytes.
        public let rawRepresentation: [UInt8]

        /// Loads a public key, checking that OpenSSL accepts it.
        public init(rawRepresentation: [UInt8]) throws(PrimitivesError) {
            guard rawRepresentation.count == 32 else {
                throw PrimitivesError(.invalidKey, "an Ed25519 public key is 32 bytes")
            }
            let pkey = rawRepresentation.withUnsafeBufferPointer {
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            }
            guard let pkey else { throw PrimitivesError(.invalidKey, "not a valid Ed25519 public key") }
            EVP_PKEY_free(pkey)
            self.rawRepresentation = rawRepresentation
        }

        /// Whether `signature` is a valid signature of `message` under this key.
        public func isValidSignature(_ signature: [UInt8], for message: some Collection<UInt8>) -> Bool {
            guard signature.count == 64 else { return false }
            let pkey = rawRepresentation.withUnsafeBufferPointer {
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            }
            guard let pkey else { return false }
            defer { EVP_PKEY_free(pkey) }
            guard let md = EVP_MD_CTX_new() else { return false }
            defer { EVP_MD_CTX_free(md) }
            guard EVP_DigestVerifyInit(md, nil, nil, nil, pkey) == 1 else { return false }
            let msg = Array(message)
            let ok = msg.withUnsafeBufferPointer { m in
                signature.withUnsafeBufferPointer { s in
                    EVP_DigestVerify(md, s.baseAddress, s.count, m.baseAddress, m.count)
                }
            }
            return ok == 1
        }
    }
}
