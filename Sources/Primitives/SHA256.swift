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
/// Not `Sendable`: one hasher belongs to one task.
public struct SHA256Hasher: ~Copyable {
    private let ctx: OpaquePointer

    /// Starts a new digest.
    public init() {
        guard let ctx = EVP_MD_CTX_new(), EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else {
            // Only an allocation failure gets here; there is no meaningful recovery.
            fatalError("OpenSSL could not allocate a SHA-256 context")  // safe: allocation failure only
        }
        self.ctx = ctx
    }

    /// Feeds more bytes into the digest.
    public mutating func update(_ data: some Collection<UInt8>) {
        let done: Void? = data.withContiguousStorageIfAvailable { buffer in
            _ = EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count)
        }
        if done == nil {
            let copy = Array(data)
            copy.withUnsafeBufferPointer { _ = EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
        }
    }

    /// Feeds raw bytes.
    public mutating func update(raw buffer: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count)
    }

    /// Finishes and returns the 32-byte digest.
    public consuming func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(ctx, $0.baseAddress, &len) }
        return out
    }

    deinit { EVP_MD_CTX_free(ctx) }
}

/// HMAC-SHA-256, used for student pseudonyms (keyed by a school-held secret).
public enum HMACSHA256 {
    /// The 32-byte tag of `message` under `key`.
    public static func authenticate(key: [UInt8], message: some Collection<UInt8>) -> [UInt8] {
        let msg = Array(message)
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        key.withUnsafeBufferPointer { k in
            msg.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { o in
                    _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, o.baseAddress, &len)
                }
            }
        }
        return out
    }
}
