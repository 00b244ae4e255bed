internal import COpenSSL

/// Passphrase protection for secrets at rest: scrypt (RFC 7914) derives a 256-bit key, AES-256-GCM seals the data.
public enum PassphraseSealing {
    /// The parameters and outputs needed to open a sealed secret. Nothing here is secret.
    public struct Sealed: Sendable, Equatable, Codable {
        public var kdf: String
        /// scrypt cost parameter N (a power of two), r and p.
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64
        public var salt: [UInt8]
        public var nonce: [UInt8]
        public var ciphertext: [UInt8]
        public var tag: [UInt8]

        public init(kdf: String, n: UInt64, r: UInt64, p: UInt64, salt: [UInt8], nonce: [UInt8],
                    ciphertext: [UInt8], tag: [UInt8]) {
            self.kdf = kdf
            self.n = n
            self.r = r
            self.p = p
            self.salt = salt
            self.nonce = nonce
            self.ciphertext = ciphertext
            self.tag = tag
        }
    }

    /// The scrypt cost used for new seals: N = 2^15, r = 8, p = 1 (about 32 MiB and a tenth of a second here).
    public static let defaultCost: (n: UInt64, r: UInt64, p: UInt64) = (1 << 15, 8, 1)

    /// Encrypts `plaintext` under a key derived from `passphrase`.
    public static func seal(
        _ plaintext: [UInt8], passphrase: String, cost: (n: UInt64, r: UInt64, p: UInt64) = defaultCost
    ) throws(PrimitivesError) -> Sealed {
        let salt = try SecureRandom.bytes(16)
        let nonce = try SecureRandom.bytes(12)
        var key = try deriveKey(passphrase: passphrase, salt: salt, n: cost.n, r: cost.r, p: cost.p)
        defer { secureWipe(&key) }
        let (ct, tag) = try gcm(encrypt: true, key: key, nonce: nonce, input: plaintext, tag: nil)
        return Sealed(kdf: "scrypt", n: cost.n, r: cost.r, p: cost.p, salt: salt, nonce: nonce, ciphertext: ct, tag: tag)
    }

    /// Decrypts a sealed secret.
    ///
    /// - Throws: ``PrimitivesError/Code/authenticationFailed`` for a wrong passphrase or altered data.
    public static func open(_ sealed: Sealed, passphrase: String) throws(PrimitivesError) -> [UInt8] {
        guard sealed.kdf == "scrypt", sealed.n >= 2, sealed.n <= 1 << 22, sealed.n & (sealed.n - 1) == 0,
              sealed.r >= 1, sealed.r <= 32, sealed.p >= 1, sealed.p <= 16,
              sealed.nonce.count == 12, sealed.tag.count == 16
        else { throw PrimitivesError(.invalidKey, "the sealed key's parameters are not ones EduVault writes") }
        var key = try deriveKey(passphrase: passphrase, salt: sealed.salt, n: sealed.n, r: sealed.r, p: sealed.p)
        defer { secureWipe(&key) }
        return try gcm(encrypt: false, key: key, nonce: sealed.nonce, input: sealed.ciphertext, tag: sealed.tag).0
    }

    private static func deriveKey(passphrase: String, salt: [UInt8], n: UInt64, r: UInt64, p: UInt64)
        throws(PrimitivesError) -> [UInt8]
    {
        var pass = Array(passphrase.utf8) + [0]
        defer { secureWipe(&pass) }
        let passLength = pass.count - 1
        var key = [UInt8](repeating: 0, count: 32)
        let ok = pass.withUnsafeBytes { pw in
            salt.withUnsafeBufferPointer { s in
                key.withUnsafeMutableBufferPointer { k in
                    EVP_PBE_scrypt(
                        pw.baseAddress!.assumingMemoryBound(to: CChar.self),  // safe: array is never empty (NUL)
                        passLength, s.baseAddress, s.count, n, r, p, 1 << 30, k.baseAddress, 32)
                }
            }
        }
        guard ok == 1 else { throw PrimitivesError(.internalFailure, "scrypt key derivation failed") }
        return key
    }

    private static func gcm(encrypt: Bool, key: [UInt8], nonce: [UInt8], input: [UInt8], tag: [UInt8]?)
        throws(PrimitivesError) -> ([UInt8], [UInt8])
    {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw PrimitivesError(.internalFailure, "out of memory") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var outTag = tag ?? [UInt8](repeating: 0, count: 16)
        var len: Int32 = 0
        var total: Int32 = 0
        let enc: Int32 = encrypt ? 1 : 0
        guard EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil, enc) == 1,
              key.withUnsafeBufferPointer({ k in
                  nonce.withUnsafeBufferPointer { iv in EVP_CipherInit_ex(ctx, nil, nil, k.baseAddress, iv.baseAddress, enc) }
              }) == 1
        else { throw PrimitivesError(.internalFailure, "AES-GCM setup failed") }
        let updated = input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in EVP_CipherUpdate(ctx, o.baseAddress, &len, i.baseAddress, Int32(i.count)) }
        }
        guard updated == 1 else { throw PrimitivesError(.internalFailure, "AES-GCM failed") }
        total = len
        if !encrypt {
            _ = outTag.withUnsafeMutableBufferPointer { eduvault_gcm_set_tag(ctx, 16, $0.baseAddress) }
        }
        let finished = out.withUnsafeMutableBufferPointer { o in EVP_CipherFinal_ex(ctx, o.baseAddress! + Int(total), &len) }
        guard finished == 1 else {
            secureWipe(&out)
            throw PrimitivesError(.authenticationFailed, "wrong passphrase, or the protected key file was altered")
        }
        total += len
        if encrypt {
            _ = outTag.withUnsafeMutableBufferPointer { eduvault_gcm_get_tag(ctx, 16, $0.baseAddress) }
        }
        return (Array(out[0..<Int(total)]), outTag)
    }
}
