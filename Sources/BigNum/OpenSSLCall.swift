internal import COpenSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way BigNum reads the result of an OpenSSL call.
///
/// Every libcrypto function that can report failure is called as the first argument of one of these, so a new
/// call cannot forget its return code (`Tests/CLITests/SourceHygieneTests.swift` refuses any other form, and
/// a result assigned to `_`). There are exactly two kinds of failure:
///
/// - ``check(_:_:_:_:)``: the call can fail because of its arguments or the system — an inverse that does not
///   exist, an exponentiation, decoding, the random number generator. OpenSSL's error queue is cleared and a typed
///   ``BigNumError`` is thrown, which every command turns into one `Error:` line.
/// - ``mustSucceed(_:_:)``: the call can fail **only when memory runs out** (`BN_add`, `BN_copy`, `BN_mul`,
///   `BN_new`…). The arithmetic operators `+ - *` of ``BigNum`` stay non-throwing, as Swift's integer operators
///   are; if OpenSSL cannot allocate, the process stops with a message naming the call, the same policy as
///   swift-crypto's `ArbitraryPrecisionInteger` (`precondition`). No input value makes these calls fail: every
///   argument that could (a zero modulus, a secret base for `BN_exp`, a negative shift) is a checked precondition
///   of the Swift method, and sizes from files are bounded before they reach here (see SECURITY.md, "Limits").
///
/// Debug builds can inject a failure into any named call, to test that each failure path is reachable and ends
/// in the typed error (see ``BigNumFaults``). Release builds contain no injection code.
enum OpenSSLCall {
    /// Checks a status-returning call (OpenSSL's `1` means success).
    ///
    /// - Throws: `BigNumError(code, message)` when the call did not return 1.
    @inline(__always)
    static func check(
        _ result: Int32, _ name: StaticString, _ code: BigNumError.Code = .internalFailure,
        _ message: @autoclosure () -> String = ""
    ) throws(BigNumError) {
        guard result == 1, !BigNumFaults.shouldFail(name) else { throw failure(name, code, message()) }
    }

    /// Checks a call that returns a length or count, which must equal `expected`.
    @inline(__always)
    static func check(
        _ result: Int32, equals expected: Int32, _ name: StaticString, _ code: BigNumError.Code = .internalFailure,
        _ message: @autoclosure () -> String = ""
    ) throws(BigNumError) {
        guard result == expected, !BigNumFaults.shouldFail(name) else { throw failure(name, code, message()) }
    }

    /// Checks a pointer-returning call (`NULL` means failure) and returns the pointer.
    @inline(__always) @discardableResult
    static func check<T>(
        _ result: T?, _ name: StaticString, _ code: BigNumError.Code = .internalFailure,
        _ message: @autoclosure () -> String = ""
    ) throws(BigNumError) -> T {
        guard let result, !BigNumFaults.shouldFail(name) else { throw failure(name, code, message()) }
        return result
    }

    /// A status-returning call that can fail only on allocation failure: traps with a message naming the call.
    @inline(__always)
    static func mustSucceed(_ result: Int32, _ name: StaticString) {
        guard result == 1, !BigNumFaults.shouldFail(name) else { outOfMemory(name) }
    }

    /// A pointer-returning call that can fail only on allocation failure: traps with a message naming the call.
    @inline(__always) @discardableResult
    static func mustSucceed<T>(_ result: T?, _ name: StaticString) -> T {
        guard let result, !BigNumFaults.shouldFail(name) else { outOfMemory(name) }
        return result
    }

    private static func failure(_ name: StaticString, _ code: BigNumError.Code, _ message: String) -> BigNumError {
        ERR_clear_error()
        return BigNumError(code, message.isEmpty ? "OpenSSL failed: \(name)" : message)
    }

    private static func outOfMemory(_ name: StaticString) -> Never {
        ERR_clear_error()
        // safe: reached only when OpenSSL cannot allocate memory (see the type's documentation).
        fatalError("OpenSSL failed in \(name) (out of memory); EduVault stops rather than compute a wrong value")
    }
}

/// Test-only injection of OpenSSL failures (debug builds only; release builds always answer `false`).
///
/// A test names the calls to fail in ``failing`` (a task-local set, so tests running in parallel do not see each
/// other's faults); a child process gets them from the environment variable `EDUVAULT_TEST_FAULT=openssl:NAME`.
enum BigNumFaults {
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
