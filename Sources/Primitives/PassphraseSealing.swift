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

    /// The most scrypt memory ``open(_:passphrase:)`` spends on a file's say-so: 128·r·N ≤ 256 MiB (the default
    /// cost uses 32 MiB).
    public static let maxMemory: UInt64 = 256 << 20
    /// The most scrypt work ``open(_:passphrase:)`` accepts: N·r·p ≤ 2^24, 64 times the default cost (about six
    /// seconds here), so a hostile file cannot make opening a key take minutes.
    public static let maxWork: UInt64 = 1 << 24
    /// The longest sealed secret ``open(_:passphrase:)`` accepts (a sealed Paillier key is under 3 KiB).
    public static let maxCiphertextBytes = 64 * 1024

    /// Checks a file's sealing parameters before any work is spent on them: scrypt with N a power of two ≥ 2,
    /// r ≥ 1, p ≥ 1 within ``maxMemory`` and ``maxWork``; a 16–64-byte salt, 12-byte nonce, 16-byte tag and at
    /// most ``maxCiphertextBytes`` of ciphertext. Small costs are accepted: they weaken only the file that uses
    /// them, and an attacker who can write the file can replace it anyway.
    ///
    /// - Throws: ``PrimitivesError/Code/invalidKey`` naming what is out of range.
    public static func validate(_ sealed: Sealed) throws(PrimitivesError) {
        func fail(_ what: String) -> PrimitivesError {
            PrimitivesError(.invalidKey, "the sealed key's \(what) is not one EduVault accepts")
        }
        guard sealed.kdf == "scrypt" else { throw fail("key derivation function") }
        guard sealed.n >= 2, sealed.n & (sealed.n - 1) == 0, sealed.r >= 1, sealed.p >= 1 else {
            throw fail("scrypt cost (N a power of two ≥ 2, r ≥ 1, p ≥ 1)")
        }
        let (rn, o1) = sealed.r.multipliedReportingOverflow(by: sealed.n)
        let (memory, o2) = rn.multipliedReportingOverflow(by: 128)
        let (work, o3) = rn.multipliedReportingOverflow(by: sealed.p)
        guard !o1, !o2, !o3, memory <= maxMemory, work <= maxWork else { throw fail("scrypt cost (too expensive)") }
        guard (16...64).contains(sealed.salt.count) else { throw fail("salt") }
        guard sealed.nonce.count == 12, sealed.tag.count == 16 else { throw fail("nonce or tag") }
        guard sealed.ciphertext.count <= maxCiphertextBytes else { throw fail("ciphertext length") }
    }

    /// Decrypts a sealed secret.
    ///
    /// - Throws: ``PrimitivesError/Code/invalidKey`` for parameters ``validate(_:)`` refuses;
    ///   ``PrimitivesError/Code/authenticationFailed`` for a wrong passphrase or altered data.
    public static func open(_ sealed: Sealed, passphrase: String) throws(PrimitivesError) -> [UInt8] {
        try validate(sealed)
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
        let derived = pass.withUnsafeBytes { pw in
            salt.withUnsafeBufferPointer { s in
                key.withUnsafeMutableBufferPointer { k in
                    EVP_PBE_scrypt(  // checked: below
                        pw.baseAddress!.assumingMemoryBound(to: CChar.self),  // safe: array is never empty (NUL)
                        passLength, s.baseAddress, s.count, n, r, p, 1 << 30, k.baseAddress, 32)
                }
            }
        }
        // Input-dependent: OpenSSL refuses costs above its memory limit (1 GiB here).
        try OpenSSLCall.check(derived, "EVP_PBE_scrypt", .internalFailure,
                              "scrypt key derivation failed (the cost parameters may need more memory than allowed)")
        return key
    }

    private static func gcm(encrypt: Bool, key: [UInt8], nonce: [UInt8], input: [UInt8], tag: [UInt8]?)
        throws(PrimitivesError) -> ([UInt8], [UInt8])
    {
        guard input.count <= maxCiphertextBytes, key.count == 32, nonce.count == 12, tag == nil || tag?.count == 16
        else {
            throw PrimitivesError(.invalidKey, "AES-256-GCM needs a 32-byte key, a 12-byte nonce and a 16-byte tag")
        }
        let ctx = try OpenSSLCall.check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new", .internalFailure, "out of memory")
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        defer { if !encrypt { secureWipe(&out) } }
        var outTag = tag ?? [UInt8](repeating: 0, count: 16)
        var len: Int32 = 0
        let enc: Int32 = encrypt ? 1 : 0
        try OpenSSLCall.check(EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil, enc), "EVP_CipherInit_ex",
                              .internalFailure, "AES-GCM setup failed")
        try OpenSSLCall.check(
            key.withUnsafeBufferPointer { k in
                nonce.withUnsafeBufferPointer { iv in
                    EVP_CipherInit_ex(ctx, nil, nil, k.baseAddress, iv.baseAddress, enc)  // checked
                }
            }, "EVP_CipherInit_ex", .internalFailure, "AES-GCM setup failed")
        try OpenSSLCall.check(
            input.withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    EVP_CipherUpdate(ctx, o.baseAddress, &len, i.baseAddress, Int32(i.count))  // checked: above
                }
            }, "EVP_CipherUpdate", .internalFailure, "AES-GCM failed")
        // At most input.count bytes so far, and at most 16 more from the final block: no overflow.
        let total = Int(len)
        if !encrypt {
            try OpenSSLCall.check(
                outTag.withUnsafeMutableBufferPointer { eduvault_gcm_set_tag(ctx, 16, $0.baseAddress) },  // checked
                "EVP_CIPHER_CTX_ctrl", .internalFailure, "AES-GCM setup failed")
        }
        // For decryption a failure here is the authentication tag not matching: wrong passphrase or altered data.
        try OpenSSLCall.check(
            out.withUnsafeMutableBufferPointer { o in EVP_CipherFinal_ex(ctx, o.baseAddress! + total, &len) },  // checked
            "EVP_CipherFinal_ex", encrypt ? .internalFailure : .authenticationFailed,
            encrypt ? "AES-GCM failed" : "wrong passphrase, or the protected key file was altered")
        let finalLength = total + Int(len)
        if encrypt {
            try OpenSSLCall.check(
                outTag.withUnsafeMutableBufferPointer { eduvault_gcm_get_tag(ctx, 16, $0.baseAddress) },  // checked
                "EVP_CIPHER_CTX_ctrl", .internalFailure, "AES-GCM failed")
        }
        return (Array(out[0..<finalLength]), outTag)
    }
}
