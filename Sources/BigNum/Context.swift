internal import COpenSSL

/// Runs `body` with a fresh `BN_CTX`, freed when it returns. A `BN_CTX` is never shared across threads.
@inline(__always)
func withBNContext<R, E: Error>(secret: Bool = false, _ body: (OpaquePointer) throws(E) -> R) throws(E) -> R {
    guard let ctx = secret ? BN_CTX_secure_new() : BN_CTX_new() else {
        fatalError("OpenSSL could not allocate a BN_CTX")  // safe: allocation failure only
    }
    defer { BN_CTX_free(ctx) }
    return try body(ctx)
}

@inline(__always)
func check(_ result: Int32, _ what: @autoclosure () -> String) throws(BigNumError) {
    guard result == 1 else {
        ERR_clear_error()
        throw BigNumError(.internalFailure, "OpenSSL failed: \(what())")
    }
}
