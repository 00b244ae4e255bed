public import Foundation
public import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer's entry point, from `libclang_rt.fuzzer_no_main` (linked by `Fuzz/run`): it parses libFuzzer's
/// command line and calls `callback` once per input.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The body of the running fuzz target. Written once, before libFuzzer starts, and only read afterwards (libFuzzer
/// calls the target on one thread).
nonisolated(unsafe) private var currentTarget: ((Data) -> Void)?

extension Fuzz {
    /// Runs libFuzzer with `body` as the target and exits with libFuzzer's status.
    ///
    /// `body` gets each input's bytes, feeds them through the same code path the command uses, and checks a
    /// property with ``require(_:_:)``; a violated property or any crash is what libFuzzer reports.
    public static func run(_ body: @escaping (Data) -> Void) -> Never {
        currentTarget = body
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { bytes, count in
            let data = count > 0 ? Data(bytes: bytes!, count: count) : Data()  // safe: libFuzzer passes count bytes
            currentTarget?(data)
            return 0
        }
        exit(status)
    }

}
