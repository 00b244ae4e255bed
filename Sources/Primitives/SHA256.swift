internal import COpenSSL

/// SHA-256 through OpenSSL's EVP interface.
public enum SHA256 {
    /// The 32-byte digest of `data`.
    public static func hash(_ data: some Collection<UInt8>) -> [UInt8] {
        var hasher = SHA256Hasher()
        hasher.update(data)
        return hasher.finalize()
    }
}

/// A streaming SHA-256 computation, for hashing a batch file as it is read.
///
/// The digest calls cannot fail for any input; if OpenSSL cannot allocate (or has no SHA-256), the process stops
/// with a message (see `OpenSSLCall`) rather than produce a wrong digest. Not `Sendable`: one hasher per task.
public struct SHA256Hasher: ~Copyable {
    private let ctx: OpaquePointer

    /// Starts a new digest.
    public init() {
        let ctx = OpenSSLCall.mustSucceed(EVP_MD_CTX_new(), "EVP_MD_CTX_new")
        OpenSSLCall.mustSucceed(EVP_DigestInit_ex(ctx, EVP_sha256(), nil), "EVP_DigestInit_ex")
        self.ctx = ctx
    }

    /// Feeds more bytes into the digest.
    public mutating func update(_ data: some Collection<UInt8>) {
        let done: Void? = data.withContiguousStorageIfAvailable { buffer in
            OpenSSLCall.mustSucceed(EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count), "EVP_DigestUpdate")
        }
        if done == nil {
            let copy = Array(data)
            copy.withUnsafeBufferPointer {
                OpenSSLCall.mustSucceed(EVP_DigestUpdate(ctx, $0.baseAddress, $0.count), "EVP_DigestUpdate")
            }
        }
    }

    /// Feeds raw bytes.
    public mutating func update(raw buffer: UnsafeRawBufferPointer) {
        OpenSSLCall.mustSucceed(EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count), "EVP_DigestUpdate")
    }

    /// Finishes and returns the 32-byte digest.
    public consuming func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        out.withUnsafeMutableBufferPointer {
            OpenSSLCall.mustSucceed(EVP_DigestFinal_ex(ctx, $0.baseAddress, &len), "EVP_DigestFinal_ex")
        }
        OpenSSLCall.mustSucceed(len == 32 ? 1 : 0, "EVP_DigestFinal_ex")
        return out
    }

    deinit { EVP_MD_CTX_free(ctx) }
}

/// HMAC-SHA-256, used for student pseudonyms (keyed by a school-held secret).
public enum HMACSHA256 {
    /// The 32-byte tag of `message` under `key`.
    ///
    /// - Throws: ``PrimitivesError/Code/invalidKey`` for a key longer than 64 KiB;
    ///   ``PrimitivesError/Code/internalFailure`` when OpenSSL's `HMAC` fails.
    public static func authenticate(key: [UInt8], message: some Collection<UInt8>) throws(PrimitivesError) -> [UInt8] {
        guard key.count <= 1 << 16 else { throw PrimitivesError(.invalidKey, "an HMAC key longer than 64 KiB") }
        let msg = Array(message)
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        let result = key.withUnsafeBufferPointer { k in
            msg.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { o in
                    HMAC(  // checked: below
                        EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, o.baseAddress, &len)
                }
            }
        }
        try OpenSSLCall.check(result, "HMAC", .internalFailure, "HMAC-SHA-256 failed")
        try OpenSSLCall.check(len == 32 ? 1 : 0, "HMAC", .internalFailure, "HMAC-SHA-256 gave a tag of the wrong size")
        return out
    }
}
