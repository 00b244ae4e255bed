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
        ///
        /// - Throws: ``PrimitivesError/Code/invalidKey`` unless OpenSSL accepts the seed;
        ///   ``PrimitivesError/Code/internalFailure`` when it cannot derive the public key.
        public init(rawRepresentation: [UInt8]) throws(PrimitivesError) {
            guard rawRepresentation.count == 32 else {
                throw PrimitivesError(.invalidKey, "an Ed25519 private key is 32 bytes")
            }
            let pkey = try Self.makePKey(rawRepresentation)
            defer { EVP_PKEY_free(pkey) }
            var pub = [UInt8](repeating: 0, count: 32)
            var len = 32
            try OpenSSLCall.check(
                pub.withUnsafeMutableBufferPointer {
                    EVP_PKEY_get_raw_public_key(pkey, $0.baseAddress, &len)  // checked: by the enclosing check
                },
                "EVP_PKEY_get_raw_public_key", .internalFailure, "could not derive the Ed25519 public key")
            try OpenSSLCall.check(len == 32 ? 1 : 0, "EVP_PKEY_get_raw_public_key", .internalFailure,
                                  "could not derive the Ed25519 public key")
            self.rawRepresentation = rawRepresentation
            self.publicKey = try PublicKey(rawRepresentation: pub)
        }

        /// Signs `message` (64-byte signature).
        ///
        /// - Throws: ``PrimitivesError/Code/internalFailure`` when OpenSSL cannot sign.
        public func signature(for message: some Collection<UInt8>) throws(PrimitivesError) -> [UInt8] {
            let pkey = try Self.makePKey(rawRepresentation)
            defer { EVP_PKEY_free(pkey) }
            let md = try OpenSSLCall.check(EVP_MD_CTX_new(), "EVP_MD_CTX_new", .internalFailure, "out of memory")
            defer { EVP_MD_CTX_free(md) }
            try OpenSSLCall.check(EVP_DigestSignInit(md, nil, nil, nil, pkey), "EVP_DigestSignInit", .internalFailure,
                                  "could not start an Ed25519 signature")
            let msg = Array(message)
            var sig = [UInt8](repeating: 0, count: 64)
            var len = 64
            let signed = msg.withUnsafeBufferPointer { m in
                sig.withUnsafeMutableBufferPointer { s in
                    EVP_DigestSign(md, s.baseAddress, &len, m.baseAddress, m.count)  // checked: below
                }
            }
            try OpenSSLCall.check(signed, "EVP_DigestSign", .internalFailure, "Ed25519 signing failed")
            try OpenSSLCall.check(len == 64 ? 1 : 0, "EVP_DigestSign", .internalFailure, "Ed25519 signing failed")
            return sig
        }

        private static func makePKey(_ raw: [UInt8]) throws(PrimitivesError) -> OpaquePointer {
            let pkey = raw.withUnsafeBufferPointer {
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)  // checked: below
            }
            return try OpenSSLCall.check(pkey, "EVP_PKEY_new_raw_private_key", .invalidKey,
                                         "not a valid Ed25519 private key")
        }
    }

    /// A verification key (32 bytes).
    public struct PublicKey: Sendable, Equatable, Hashable {
        /// The 32 raw bytes.
        public let rawRepresentation: [UInt8]

        /// Loads a public key, checking that OpenSSL accepts it.
        ///
        /// - Throws: ``PrimitivesError/Code/invalidKey``.
        public init(rawRepresentation: [UInt8]) throws(PrimitivesError) {
            guard rawRepresentation.count == 32 else {
                throw PrimitivesError(.invalidKey, "an Ed25519 public key is 32 bytes")
            }
            let pkey = try Self.makePKey(rawRepresentation)
            EVP_PKEY_free(pkey)
            self.rawRepresentation = rawRepresentation
        }

        /// Whether `signature` is a valid signature of `message` under this key.
        ///
        /// `false` for a signature that does not verify (including one of the wrong length).
        /// - Throws: ``PrimitivesError/Code/internalFailure`` when OpenSSL cannot run the check at all — an error is
        ///   neither "valid" nor "invalid".
        public func isValidSignature(_ signature: [UInt8], for message: some Collection<UInt8>) throws(PrimitivesError)
            -> Bool
        {
            guard signature.count == 64 else { return false }
            let pkey = try Self.makePKey(rawRepresentation)
            defer { EVP_PKEY_free(pkey) }
            let md = try OpenSSLCall.check(EVP_MD_CTX_new(), "EVP_MD_CTX_new", .internalFailure, "out of memory")
            defer { EVP_MD_CTX_free(md) }
            try OpenSSLCall.check(EVP_DigestVerifyInit(md, nil, nil, nil, pkey), "EVP_DigestVerifyInit",
                                  .internalFailure, "could not start an Ed25519 verification")
            let msg = Array(message)
            let answer = msg.withUnsafeBufferPointer { m in
                signature.withUnsafeBufferPointer { s in
                    EVP_DigestVerify(md, s.baseAddress, s.count, m.baseAddress, m.count)  // checked: below
                }
            }
            // 1 valid, 0 invalid, anything else an error.
            try OpenSSLCall.check(answer == 0 || answer == 1 ? 1 : 0, "EVP_DigestVerify", .internalFailure,
                                  "Ed25519 verification failed to run")
            if answer != 1 { ERR_clear_error() }
            return answer == 1
        }

        private static func makePKey(_ raw: [UInt8]) throws(PrimitivesError) -> OpaquePointer {
            let pkey = raw.withUnsafeBufferPointer {
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)  // checked: below
            }
            return try OpenSSLCall.check(pkey, "EVP_PKEY_new_raw_public_key", .invalidKey,
                                         "not a valid Ed25519 public key")
        }
    }
}
