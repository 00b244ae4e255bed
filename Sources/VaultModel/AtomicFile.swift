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
///
/// Files too large to hold in memory (a batch) are written through a ``Writer`` from ``begin(for:mode:)``, which
/// ``Writer/stage()`` turns into the same ``Staged`` file.
public enum AtomicFile {
    /// A temporary file open for writing beside its destination. Not copyable: it is staged or abandoned exactly
    /// once; dropping it unstaged closes and removes the temporary file.
    public struct Writer: ~Copyable {
        /// The destination.
        public let destination: URL
        /// The temporary file beside it.
        public let temporary: URL
        private let fd: Int32
        private var done = false

        init(destination: URL, temporary: URL, fd: Int32) {
            self.destination = destination
            self.temporary = temporary
            self.fd = fd
        }

        /// Appends bytes to the temporary file.
        ///
        /// - Throws: ``AtomicFileError`` `.io` (the temporary file stays until the writer is dropped).
        public func write(_ bytes: some DataProtocol) throws(AtomicFileError) {
            var failure: Int32? = nil
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
            if failure == nil, AtomicFile.faults.failWrite { failure = ENOSPC }
            if let failure {
                throw AtomicFileError(
                    .io, "could not write the file (\(AtomicFile.reason(failure)))", path: destination.path)
            }
        }

        /// Makes everything written durable (`fsync`, `close`) and returns the staged file, ready to commit.
        ///
        /// - Throws: ``AtomicFileError`` `.io`; the temporary file is removed.
        public consuming func stage() throws(AtomicFileError) -> Staged {
            done = true
            var failure: Int32? = nil
            if fsync(fd) != 0 { failure = errno }
            if close(fd) != 0, failure == nil { failure = errno }
            if let failure {
                AtomicFile.remove(temporary)
                throw AtomicFileError(
                    .io, "could not write the file (\(AtomicFile.reason(failure)))", path: destination.path)
            }
            return Staged(destination: destination, temporary: temporary)
        }

        deinit {
            if !done {
                AtomicFile.closeQuietly(fd)
                AtomicFile.remove(temporary)
            }
        }
    }

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
        /// - Parameter overwrite: replace an existing destination; when `false`, an existing file (even one created
        ///   after staging) makes this throw `.exists` and stays untouched.
        /// - Throws: ``AtomicFileError``; the temporary file is removed and the destination is unchanged.
        ///
        /// - Parameters:
        ///   - overwrite: replace an existing destination; when `false`, an existing file (even one created after
        ///     staging) makes this throw `.exists` and stays untouched.
        ///   - keepOnFailure: leave the temporary file in place when the move fails (for a caller that has already
        ///     committed something else and must tell the user where the data is); it is removed otherwise.
        /// - Throws: ``AtomicFileError``; the destination is unchanged. `.notDurable` when the file is in place but
        ///   the directory could not be synced.
        public consuming func commit(overwrite: Bool, keepOnFailure: Bool = false) throws(AtomicFileError) {
            done = true
            let from = temporary.path, to = destination.path
            if AtomicFile.faults.pauseBeforeCommit { AtomicFile.pauseForTest() }
            do throws(AtomicFileError) {
                if AtomicFile.faults.failRename {
                    throw AtomicFileError(.io, "could not move the new file into place (injected fault)", path: to)
                }
                if overwrite {
                    try AtomicFile.requireReplaceable(destination)
                    guard rename(from, to) == 0 else {
                        throw AtomicFileError(
                            .io, "could not move the new file into place (\(AtomicFile.reason(errno)))", path: to)
                    }
                } else {
                    guard link(from, to) == 0 else {
                        let code = errno
                        if code == EEXIST {
                            throw AtomicFileError(.exists, "already exists (remove it or pass --force)", path: to)
                        }
                        throw AtomicFileError(.io, "could not create the file (\(AtomicFile.reason(code)))", path: to)
                    }
                    // Both names now point at the new file; dropping the temporary one cannot lose data.
                    AtomicFile.remove(temporary)
                }
            } catch {
                if !keepOnFailure { AtomicFile.remove(temporary) }
                throw error
            }
            if let code = AtomicFile.syncDirectory(of: destination) {
                let reason = AtomicFile.reason(code)
                throw AtomicFileError(
                    .notDurable, "the new file is in place, but its directory could not be synced (\(reason))", path: to)
            }
        }

        /// Gives up ownership of the temporary file and returns its path (for ``AtomicFile/write(_:overwrite:)``,
        /// which moves several staged files together and cleans up itself).
        consuming func handOver() -> URL {
            done = true
            return temporary
        }

        /// Removes the staged file; the destination is untouched.
        public consuming func discard() {
            done = true
            AtomicFile.remove(temporary)
        }

        deinit { if !done { AtomicFile.remove(temporary) } }
    }

    /// Writes `bytes` to a fresh temporary file beside `destination` with `mode`, and fsyncs it.
    ///
    /// - Throws: ``AtomicFileError`` `.noDirectory` when the destination's directory does not exist, `.io` when the
    ///   file cannot be created, written or synced (no temporary file is left behind).
    public static func stage(_ bytes: some DataProtocol, for destination: URL, mode: mode_t = 0o644)
        throws(AtomicFileError) -> Staged
    {
        let writer = try begin(for: destination, mode: mode)
        try writer.write(bytes)
        return try writer.stage()
    }

    /// Creates a fresh temporary file `.<name>.<random>.tmp` beside `destination` (`O_CREAT|O_EXCL`, exactly
    /// `mode` from the start) and returns a ``Writer`` for it.
    ///
    /// - Throws: ``AtomicFileError`` `.noDirectory` when the destination's directory does not exist, `.io` when the
    ///   file cannot be created (nothing is left behind).
    public static func begin(for destination: URL, mode: mode_t = 0o644) throws(AtomicFileError) -> Writer {
        let directory = destination.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw AtomicFileError(.noDirectory, "directory does not exist", path: directory.path)
        }
        guard isDirectory.boolValue else {
            throw AtomicFileError(.noDirectory, "not a directory (a file is in the way)", path: directory.path)
        }
        let temporary = temporaryName(for: destination, suffix: "tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw AtomicFileError(.io, "cannot create a file there (\(reason(errno)))", path: directory.path)
        }
        // open(2) applies the umask; set the exact mode the caller asked for (0600 for secrets stays 0600).
        guard fchmod(fd, mode) == 0 else {
            let code = errno
            closeQuietly(fd)
            remove(temporary)
            throw AtomicFileError(.io, "cannot set the file's mode (\(reason(code)))", path: destination.path)
        }
        return Writer(destination: destination, temporary: temporary, fd: fd)
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
        if overwrite { try requireReplaceable(destination) }
        try stage(bytes, for: destination, mode: mode).commit(overwrite: overwrite)
    }

    /// One file of a set that ``write(_:overwrite:)`` replaces together.
    public struct Entry: Sendable {
        public var bytes: Data
        public var destination: URL
        public var mode: mode_t

        public init(_ bytes: Data, to destination: URL, mode: mode_t = 0o644) {
            self.bytes = bytes
            self.destination = destination
            self.mode = mode
        }
    }

    /// Replaces several files that belong together (a key pair; a threshold key with its shares) as one step: either
    /// every destination holds its new content, or every destination is exactly as it was.
    ///
    /// Every new file is staged (written and fsynced) first; every existing destination is then kept under a hard
    /// link `.<name>.<random>.old`; only then are the new files renamed into place, one by one. If a rename fails,
    /// the destinations already replaced get their old files back (or are removed, if they had none) before the
    /// error is thrown. A process killed in the middle leaves the old files under their `.old` names, so an old key
    /// is never lost.
    ///
    /// - Throws: ``AtomicFileError``: `.exists` (some destination exists and `overwrite` is false), `.noDirectory`,
    ///   `.io`; in every case each destination is unchanged. `.notDurable` when everything is in place but a
    ///   directory could not be synced.
    public static func write(_ entries: [Entry], overwrite: Bool) throws(AtomicFileError) {
        var exists: [Bool] = []
        for entry in entries {
            let present = access(entry.destination.path, F_OK) == 0 || isSymbolicLink(entry.destination)
            if present && !overwrite {
                throw AtomicFileError(.exists, "already exists (remove it or pass --force)", path: entry.destination.path)
            }
            if present { try requireReplaceable(entry.destination) }
            exists.append(present)
        }
        var temporaries: [URL] = []
        var backups: [URL?] = []
        func removeAll(_ urls: [URL?]) { for case let url? in urls { remove(url) } }
        do throws(AtomicFileError) {
            for entry in entries {
                temporaries.append(try stage(entry.bytes, for: entry.destination, mode: entry.mode).handOver())
            }
            for (entry, present) in zip(entries, exists) {
                guard present else {
                    backups.append(nil)
                    continue
                }
                let backup = temporaryName(for: entry.destination, suffix: "old")
                guard link(entry.destination.path, backup.path) == 0 else {
                    throw AtomicFileError(
                        .io, "could not keep a copy of the old file (\(reason(errno)))", path: entry.destination.path)
                }
                backups.append(backup)
            }
        } catch {
            removeAll(temporaries)
            removeAll(backups)
            throw error
        }
        if faults.pauseBeforeCommit { pauseForTest() }
        for index in entries.indices {
            let to = entries[index].destination.path
            let injected = index == 0 ? faults.failRename : faults.failRenameAfterFirst
            let failed: Int32? = injected ? EIO : (rename(temporaries[index].path, to) == 0 ? nil : errno)
            guard let code = failed else { continue }
            // Put back what the renames before this one replaced, then forget the rest.
            for undo in entries.indices.prefix(index).reversed() {
                let path = entries[undo].destination.path
                if let backup = backups[undo] {
                    if rename(backup.path, path) != 0 {
                        // The old file is still there under its `.old` name; say so rather than lose it.
                        removeAll(Array(temporaries.suffix(from: index)))
                        throw AtomicFileError(
                            .io, "could not put the old file back; it is at \(backup.path) (\(reason(errno)))", path: path)
                    }
                    backups[undo] = nil
                } else {
                    remove(entries[undo].destination)
                }
            }
            removeAll(Array(temporaries.suffix(from: index)))
            removeAll(backups)
            _ = syncDirectory(of: entries[index].destination)
            let what = injected ? "injected fault" : reason(code)
            throw AtomicFileError(.io, "could not move the new file into place (\(what))", path: to)
        }
        removeAll(backups)
        var unsynced: (URL, Int32)? = nil
        for entry in entries where unsynced == nil {
            if let code = syncDirectory(of: entry.destination) { unsynced = (entry.destination, code) }
        }
        if let (url, code) = unsynced {
            throw AtomicFileError(
                .notDurable, "the new files are in place, but the directory could not be synced (\(reason(code)))",
                path: url.path)
        }
    }

    /// Refuses to replace anything but a regular file: `rename(2)` over a device (`/dev/null`), a named pipe, a socket
    /// or a symbolic link would silently put a plain file in its place.
    public static func requireReplaceable(_ destination: URL) throws(AtomicFileError) {
        var info = stat()
        guard lstat(destination.path, &info) == 0 else { return }  // nothing there (yet): a plain create
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let kind: String
            switch info.st_mode & S_IFMT {
            case S_IFDIR: kind = "a directory"
            case S_IFLNK: kind = "a symbolic link"
            case S_IFCHR, S_IFBLK: kind = "a device"
            case S_IFIFO: kind = "a named pipe"
            default: kind = "not a regular file"
            }
            throw AtomicFileError(.io, "is \(kind), not a regular file; refusing to replace it", path: destination.path)
        }
    }

    static func isSymbolicLink(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// `.<name>.<random>.<suffix>` beside `destination`.
    static func temporaryName(for destination: URL, suffix: String) -> URL {
        let random = (try? SecureRandom.bytes(8)).map { Hex.encode($0) } ?? String(UInt64.random(in: 0...UInt64.max))
        return destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).\(random).\(suffix)")
    }

    /// Makes a completed rename durable: `fsync` of the directory. Returns the errno of a real failure, `nil` on
    /// success or where the file system does not sync directories (`EINVAL`, `ENOTSUP`, `EROFS`: nothing to do).
    static func syncDirectory(of url: URL) -> Int32? {
        let fd = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return errno == EACCES ? nil : errno }  // a directory we may write but not read
        var failure: Int32? = nil
        if fsync(fd) != 0, ![EINVAL, ENOTSUP, EROFS].contains(errno) { failure = errno }
        if close(fd) != 0, failure == nil, errno != EINTR { failure = errno }
        return failure
    }

    /// Removes a temporary file. Used only on paths where the file is ours and no longer wanted; `ENOENT` (already
    /// gone) is success, and any other failure leaves a recognisable `.tmp` name an operator can delete.
    static func remove(_ url: URL) {
        if unlink(url.path) != 0 && errno != ENOENT {
            // Nothing better to do: the destination is already in its correct state either way.
        }
    }

    /// Closes a descriptor on a failure path, where the data no longer matters.
    static func closeQuietly(_ fd: Int32) {
        if close(fd) != 0 {
            // The descriptor is released even when close reports an error (Linux); the file is discarded anyway.
        }
    }

    /// Test hook (`EDUVAULT_TEST_FAULT=atomic-pause`): stops the process between staging and the rename, so a test
    /// can kill it at exactly that point.
    static func pauseForTest() {
        FileHandle.standardError.write(Data("paused before rename\n".utf8))
        if raise(SIGSTOP) != 0 {
            // Not stopped: the test that asked for the pause will time out and say so.
        }
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
    /// `atomic-write`, `atomic-rename`, `atomic-rename-second` or `atomic-pause`). Read once per process.
    struct Faults {
        var failWrite = false
        var failRename = false
        var pauseBeforeCommit = false
        /// In a set of files replaced together, every rename after the first fails.
        var failRenameAfterFirst = false
    }

    static let faults: Faults = {
        let value = ProcessInfo.processInfo.environment["EDUVAULT_TEST_FAULT"] ?? ""
        return Faults(failWrite: value == "atomic-write", failRename: value == "atomic-rename",
                      pauseBeforeCommit: value == "atomic-pause", failRenameAfterFirst: value == "atomic-rename-second")
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
        /// The new file is in place, but the directory holding it could not be synced: it may not survive a power
        /// loss.
        case notDurable
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
