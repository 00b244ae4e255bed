internal import COpenSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way Primitives reads the result of an OpenSSL (EVP, HMAC, RAND) call.
///
/// Every libcrypto function that can report failure is called as the first argument of one of these, so a new
/// call cannot forget its return code (`Tests/CLITests/SourceHygieneTests.swift` refuses any other form). Two
/// kinds of failure:
///
/// - ``check(_:_:_:_:)``: keys, signatures, key derivation, authenticated encryption, HMAC, randomness — anything
///   whose failure can depend on the input or the system throws a typed ``PrimitivesError``.
/// - ``mustSucceed(_:_:)``: only the SHA-256 digest calls (`EVP_MD_CTX_new`, `EVP_DigestInit_ex`,
///   `EVP_DigestUpdate`, `EVP_DigestFinal_ex` with `EVP_sha256()`), which no input can make fail: they fail only
///   when OpenSSL cannot allocate or has no SHA-256 at all. Then the process stops with a message naming the call
///   — never a digest of zeros. This keeps `SHA256.hash` non-throwing, as the vault's hashing sits inside many
///   non-throwing value computations.
///
/// Debug builds can inject a failure into any named call (``PrimitivesFaults``); release builds contain no
/// injection code.
enum OpenSSLCall {
    /// Checks a status-returning call (`1` means success).
    @inline(__always)
    static func check(
        _ result: Int32, _ name: StaticString, _ code: PrimitivesError.Code = .internalFailure,
        _ message: @autoclosure () -> String = ""
    ) throws(PrimitivesError) {
        guard result == 1, !PrimitivesFaults.shouldFail(name) else { throw failure(name, code, message()) }
    }

    /// Checks a pointer-returning call (`NULL` means failure) and returns the pointer.
    @inline(__always) @discardableResult
    static func check<T>(
        _ result: T?, _ name: StaticString, _ code: PrimitivesError.Code = .internalFailure,
        _ message: @autoclosure () -> String = ""
    ) throws(PrimitivesError) -> T {
        guard let result, !PrimitivesFaults.shouldFail(name) else { throw failure(name, code, message()) }
        return result
    }

    /// A status-returning call that no input can make fail (see the type's documentation).
    @inline(__always)
    static func mustSucceed(_ result: Int32, _ name: StaticString) {
        guard result == 1, !PrimitivesFaults.shouldFail(name) else { stop(name) }
    }

    /// A pointer-returning call that no input can make fail (see the type's documentation).
    @inline(__always) @discardableResult
    static func mustSucceed<T>(_ result: T?, _ name: StaticString) -> T {
        guard let result, !PrimitivesFaults.shouldFail(name) else { stop(name) }
        return result
    }

    private static func failure(_ name: StaticString, _ code: PrimitivesError.Code, _ message: String)
        -> PrimitivesError
    {
        ERR_clear_error()
        return PrimitivesError(code, message.isEmpty ? "OpenSSL failed: \(name)" : message)
    }

    private static func stop(_ name: StaticString) -> Never {
        ERR_clear_error()
        // safe: reached only when OpenSSL cannot allocate or lacks SHA-256 (see the type's documentation).
        fatalError("OpenSSL failed in \(name) (out of memory, or no SHA-256); EduVault stops rather than hash wrongly")
    }
}

/// Test-only injection of OpenSSL failures into Primitives (debug builds only; release builds answer `false`).
///
/// Tests name the calls to fail in ``failing`` (task-local, so parallel tests do not interfere); a child process
/// gets them from `EDUVAULT_TEST_FAULT=openssl:NAME`.
enum PrimitivesFaults {
    #if DEBUG
    /// The OpenSSL function names that fail in the current task.
    @TaskLocal static var failing: Set<String> = []

    private static let fromEnvironment: String? = {
        guard let value = getenv("EDUVAULT_TEST_FAULT") else { return nil }
        let text = String(cString: value)
        return text.hasPrefix("openssl:") ? String(text.dropFirst("openssl:".count)) : nil
    }()
    #endif

    /// Whether the call `name` is to fail.
    @inline(__always)
    static func shouldFail(_ name: StaticString) -> Bool {
        #if DEBUG
        if let named = fromEnvironment, named == name.description { return true }
        let set = failing
        return !set.isEmpty && set.contains(name.description)
        #else
        return false
        #endif
    }
}
