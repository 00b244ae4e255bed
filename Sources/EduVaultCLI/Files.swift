import Foundation
import VaultModel

/// File helpers with the error messages a user needs.
enum Files {
    /// Reads a whole (small) file, or standard input for `-`, never more than `limit` bytes: a longer input is
    /// refused after reading `limit + 1` bytes, whatever size the file claims or grows to.
    static func read(_ path: String, what: String, limit: Int = 16 << 20) throws -> Data {
        if path == "-" {
            let data: Data
            do { data = try FileHandle.standardInput.read(upToCount: limit + 1) ?? Data() } catch {
                throw CLIError("cannot read the \(what) from standard input")
            }
            guard !data.isEmpty else { throw CLIError("no \(what) on standard input") }
            guard data.count <= limit else { throw CLIError("the \(what) on standard input is too large") }
            return data
        }
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw CLIError("\(what) file not found: \(path)")
        }
        guard !isDir.boolValue else { throw CLIError("\(what) path is a directory, not a file: \(path)") }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw CLIError("cannot read \(what) file (permissions?): \(path)")
        }
        guard data.count <= limit else { throw CLIError("\(what) file is too large: \(path)") }
        return data
    }

    /// Writes `data` atomically with the given mode (``AtomicFile``: temporary file, fsync, rename, fsync of the
    /// directory). Refuses to replace an existing file unless `overwrite`. On failure the old file is unchanged.
    static func write(_ data: Data, to path: String, mode: Int = 0o644, overwrite: Bool = false, what: String) throws {
        do {
            try AtomicFile.write(data, to: URL(fileURLWithPath: path), mode: mode_t(mode), overwrite: overwrite)
        } catch {
            throw CLIError(error, what: what)
        }
    }

    /// Writes files that belong together (a key pair, a threshold key and its shares) atomically as a set: either
    /// all are replaced or none is (``AtomicFile/write(_:overwrite:)``). `what` names the set in errors.
    static func write(_ entries: [AtomicFile.Entry], overwrite: Bool = false, what: String) throws {
        do {
            try AtomicFile.write(entries, overwrite: overwrite)
        } catch {
            throw CLIError(error, what: what)
        }
    }

    /// Writes what a service answers to a request that the vault records (a query or a model release) so that a
    /// recorded release always reaches the user: the destination is checked and a temporary file created beside it
    /// *before* the request is sent (a missing directory, an unwritable one, an existing file without `--force`, or a
    /// device in the way fail with nothing recorded); if the final rename still fails, the error names the release and
    /// the temporary file that holds it.
    static func deliver(to destination: URL, overwrite: Bool, what: String, request: () async throws -> Data,
                        name: (Data) throws -> String) async throws -> Data {
        if !overwrite, FileManager.default.fileExists(atPath: destination.path) {
            throw CLIError("\(destination.path) already exists (remove it or pass --force)")
        }
        let writer: AtomicFile.Writer
        do {
            if overwrite { try AtomicFile.requireReplaceable(destination) }
            writer = try AtomicFile.begin(for: destination)
        } catch { throw CLIError(error, what: what) }
        let data = try await request()
        let label = try name(data)
        let temporary = writer.temporary.path
        do {
            try writer.write(data)
            try writer.stage().commit(overwrite: overwrite, keepOnFailure: true)
        } catch {
            throw CLIError("\(label) was recorded by the vault but could not be put at \(destination.path) (\(error.reason)); "
                           + "fetch it again with `eduvault release fetch`\(FileManager.default.fileExists(atPath: temporary) ? ", or take it from \(temporary)" : "")")
        }
        return data
    }

    /// Creates a directory (and parents) if needed.
    static func ensureDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw CLIError("cannot create directory \(path)")
        }
    }
}

extension CLIError {
    /// A one-line message for a failed atomic write of `what`.
    init(_ error: AtomicFileError, what: String) {
        switch error.code {
        case .exists: self.init("\(what) already exists: \(error.path) (remove it or pass --force)")
        case .noDirectory: self.init("\(error.reason): \(error.path)")
        case .io: self.init("could not write \(what) to \(error.path): \(error.reason); any earlier file is unchanged")
        case .notDurable:
            self.init("wrote \(what) to \(error.path), but \(error.reason); check the disk before relying on it")
        }
    }
}
