internal import COpenSSL

/// Runs `body` with a fresh `BN_CTX`, freed when it returns. A `BN_CTX` is never shared across threads.
///
/// `BN_CTX_new` fails only when OpenSSL cannot allocate (see ``OpenSSLCall/mustSucceed(_:_:)``).
@inline(__always)
func withBNContext<R, E: Error>(secret: Bool = false, _ body: (OpaquePointer) throws(E) -> R) throws(E) -> R {
    let ctx = secret
        ? OpenSSLCall.mustSucceed(BN_CTX_secure_new(), "BN_CTX_secure_new")
        : OpenSSLCall.mustSucceed(BN_CTX_new(), "BN_CTX_new")
    defer { BN_CTX_free(ctx) }
    return try body(ctx)
}
