#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import Foundation
import Primitives

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Musl)
private let systemWrite = Musl.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// Replaces files atomically: the one way EduVault writes a key, a release, a batch or a descriptor.
///
/// A write happens in two phases, so a caller can make the file durable *before* it commits anything else (a
/// release is recorded in the vault only once its file is on disk):
/// 1. ``stage(_:for:mode:)`` creates `.<name>.<random>.tmp` beside the destination (`O_CREAT|O_EXCL`, the final
///    mode from the start), writes every byte, and `fsync`s it.
/// 2. ``Staged/commit(overwrite:)`` moves it into place with `rename(2)` (or, when the destination must not be
///    replaced, `link(2)` + `unlink(2)`, which fails instead of clobbering a file created meanwhile), then
///    `fsync`s the directory.
///
/// If any step fails the destination is exactly as it was: the old file stays, no partial file appears, and the
/// temporary file is removed. A process killed between the phases leaves only the temporary file, whose name
/// `InterruptCleanup` and operators recognise.
public enum AtomicFile {
    /// A fully written, fsynced temporary file waiting to be moved into place. Not copyable: it is committed or
    /// discarded exactly once; dropping it unused discards it.
    public struct Staged: ~Copyable {
        /// The destination.
        public let destination: URL
        /// The temporary file beside it.
        public let temporary: URL
        private var done = false

        init(destination: URL, temporary: URL) {
            self.destination = destination
            self.temporary = temporary
        }

        /// Moves the staged file into place and makes the rename durable.
        ///
        /// - Parameters:
        ///   - overwrite: replace an existing destination; when `false`, an existing file (even one created after
        ///     staging) makes this throw `.exists` and stays untouched.
        ///   - keepOnFailure: leave the temporary file in place when the move fails (for content that must not be
        ///     lost, such as a release already recorded).
        /// - Throws: ``AtomicFileError``; the destination is unchanged, and the temporary file is removed unless
        ///   `keepOnFailure`.
        public consuming func commit(overwrite: Bool, keepOnFailure: Bool = false) throws(AtomicFileError) {
            done = true
            let from = temporary.path, to = destination.path
            var moved = false
            defer { if moved || !keepOnFailure { unlink(from) } }
            if AtomicFile.faults.failRename {
                throw AtomicFileError(.io, "could not move the new file into place (injected fault)", path: to)
            }
            if overwrite {
                guard rename(from, to) == 0 else {
                    throw AtomicFileError(.io, "could not move the new file into place (\(AtomicFile.reason(errno)))",
                                          path: to)
                }
            } else {
                guard link(from, to) == 0 else {
                    let code = errno
                    if code == EEXIST {
                        throw AtomicFileError(.exists, "already exists (remove it or pass --force)", path: to)
                    }
                    throw AtomicFileError(.io, "could not create the file (\(AtomicFile.reason(code)))", path: to)
                }
            }
            moved = true
            AtomicFile.syncDirectory(of: destination)
        }

        /// Removes the staged file; the destination is untouched.
        public consuming func discard() {
            done = true
            unlink(temporary.path)
        }

        deinit { if !done { unlink(temporary.path) } }
    }

    /// Writes `bytes` to a fresh temporary file beside `destination` with `mode`, and fsyncs it.
    ///
    /// - Throws: ``AtomicFileError`` `.noDirectory` when the destination's directory does not exist, `.io` when the
    ///   file cannot be created, written or synced (no temporary file is left behind).
    public static func stage(_ bytes: some DataProtocol, for destination: URL, mode: mode_t = 0o644)
        throws(AtomicFileError) -> Staged
    {
        let directory = destination.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else { throw AtomicFileError(.noDirectory, "the directory does not exist", path: directory.path) }
        let suffix = (try? SecureRandom.bytes(8)).map { Hex.encode($0) } ?? String(UInt64.random(in: 0...UInt64.max))
        let temporary = directory.appendingPathComponent(".\(destination.lastPathComponent).\(suffix).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw AtomicFileError(.io, "cannot create a file there (\(reason(errno)))", path: directory.path)
        }
        var failure: Int32? = nil
        // open(2) applies the umask; set the exact mode the caller asked for (0600 for secrets stays 0600).
        if fchmod(fd, mode) != 0 { failure = errno }
        if failure == nil {
            for region in bytes.regions where failure == nil {
                region.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)  // safe: count > 0 here
                        if n < 0 {
                            if errno == EINTR { continue }
                            failure = errno
                            return
                        }
                        offset += n
                    }
                }
            }
        }
        if failure == nil, faults.failWrite { failure = ENOSPC }
        if failure == nil, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == nil { failure = errno }
        if let failure {
            unlink(temporary.path)
            throw AtomicFileError(.io, "could not write the file (\(reason(failure)))", path: destination.path)
        }
        return Staged(destination: destination, temporary: temporary)
    }

    /// Stages and commits in one step.
    ///
    /// - Throws: ``AtomicFileError``; on any failure the destination is unchanged.
    public static func write(_ bytes: some DataProtocol, to destination: URL, mode: mode_t = 0o644, overwrite: Bool)
        throws(AtomicFileError)
    {
        if !overwrite, FileManager.default.fileExists(atPath: destination.path) {
            throw AtomicFileError(.exists, "already exists (remove it or pass --force)", path: destination.path)
        }
        try stage(bytes, for: destination, mode: mode).commit(overwrite: overwrite)
    }

    /// Makes a completed rename durable. Best effort: some file systems refuse fsync on a directory, and the data
    /// itself is already synced.
    static func syncDirectory(of url: URL) {
        let fd = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOSPC: return "disk full"
        case EACCES, EPERM: return "permission denied"
        case EROFS: return "read-only file system"
        case EDQUOT: return "disk quota exceeded"
        case ENOENT: return "no such directory"
        case EISDIR: return "a directory is in the way"
        default: return String(cString: strerror(code))
        }
    }

    /// Fault injection for tests of the failure paths (the environment variable `EDUVAULT_TEST_FAULT` set to
    /// `atomic-write` or `atomic-rename`). Read once per process.
    struct Faults {
        var failWrite = false
        var failRename = false
    }

    static let faults: Faults = {
        let value = ProcessInfo.processInfo.environment["EDUVAULT_TEST_FAULT"] ?? ""
        return Faults(failWrite: value == "atomic-write", failRename: value == "atomic-rename")
    }()
}

/// Why a file could not be written. The message names the path (never the content).
public struct AtomicFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// The destination exists and was not to be replaced.
        case exists
        /// The destination's directory does not exist.
        case noDirectory
        /// Creating, writing, syncing or renaming failed.
        case io
    }

    /// The machine-readable reason.
    public var code: Code
    /// A one-line message without the path.
    public var reason: String
    /// The path concerned.
    public var path: String

    /// Makes an error.
    public init(_ code: Code, _ reason: String, path: String) {
        self.code = code
        self.reason = reason
        self.path = path
    }

    /// `path: reason`.
    public var description: String { "\(path): \(reason)" }
}
