public import Foundation
public import Paillier
public import Primitives
#if canImport(Glibc)
import Glibc
#endif

/// Shared machinery of the fuzz targets.
public enum Fuzz {
    /// Checks a property of the decoder; a violation stops the process, and libFuzzer saves the input.
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String,
                               file: StaticString = #fileID, line: UInt = #line) {
        if !condition {
            FileHandle.standardError.write(Data("PROPERTY VIOLATED at \(file):\(line): \(message())\n".utf8))
            abort()
        }
    }

    /// The repository root (the fuzz package lives in `Fuzz/`).
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A scratch file for decoders that read from a path (the command reads files): in /dev/shm when there is one,
    /// one per process.
    public static func scratchFile(_ name: String) -> URL {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm")
            : FileManager.default.temporaryDirectory
        let directory = base.appendingPathComponent("eduvault-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name)
    }

    /// Writes `data` to a scratch file and returns its URL.
    public static func write(_ data: Data, to name: String) -> URL {
        let url = scratchFile(name)
        do { try data.write(to: url) } catch { require(false, "cannot write the scratch file \(url.path)") }
        return url
    }

    /// The committed 256-bit test-only key of the fuzz targets (`Keys/test/fuzz-256`): small, so that an input that
    /// decodes can be decrypted in microseconds and the fuzzer keeps thousands of inputs a second.
    public static let fixtureKey: SharedPrivateKey = {
        do {
            let data = try Data(contentsOf: root.appendingPathComponent("Keys/test/fuzz-256/private.json"))
            return SharedPrivateKey(try PaillierJSON.decodePrivateKey(data, allowInsecureSize: true))
        } catch {
            FileHandle.standardError.write(Data("cannot load the fixture key: \(error)\n".utf8))
            exit(2)
        }
    }()

    /// Runs an async operation to completion from the (synchronous) fuzz callback.
    public static func wait<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { box.result = .success(try await operation()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return box.result ?? .failure(CancellationError())
    }
}

/// `@unchecked Sendable`: written once by the task before it signals the semaphore, read after the wait.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

extension Fuzz {
    /// The school signing key of the batch target and its seeds (a fixed, public test seed).
    public static let batchSigner: Ed25519.PrivateKey = {
        do { return try Ed25519.PrivateKey(rawRepresentation: SHA256.hash(Array("eduvault-fuzz-school".utf8))) } catch {
            FileHandle.standardError.write(Data("cannot make the fuzz signing key: \(error)\n".utf8))
            exit(2)
        }
    }()
}
