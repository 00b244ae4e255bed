import Foundation

/// File helpers with the error messages a user needs.
enum Files {
    /// Reads a whole (small) file, or standard input for `-`.
    static func read(_ path: String, what: String, limit: Int = 16 << 20) throws -> Data {
        if path == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard !data.isEmpty else { throw CLIError("no \(what) on standard input") }
            return data
        }
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw CLIError("\(what) file not found: \(path)")
        }
        guard !isDir.boolValue else { throw CLIError("\(what) path is a directory, not a file: \(path)") }
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
              let size = attrs[.size] as? NSNumber
        else { throw CLIError("cannot read \(what) file: \(path)") }
        guard size.intValue <= limit else { throw CLIError("\(what) file is too large: \(path)") }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CLIError("cannot read \(what) file (permissions?): \(path)")
        }
        return data
    }

    /// Writes `data` atomically (temporary file in the same directory, then rename) with the given mode.
    /// Refuses to replace an existing file unless `overwrite`.
    static func write(_ data: Data, to path: String, mode: Int = 0o644, overwrite: Bool = false, what: String) throws {
        let url = URL(fileURLWithPath: path)
        let fm = FileManager.default
        if fm.fileExists(atPath: url.path) && !overwrite {
            throw CLIError("\(what) already exists: \(path) (remove it or pass --force)")
        }
        let dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw CLIError("directory does not exist: \(dir.path)")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UInt32.random(in: 0...UInt32.max))")
        guard fm.createFile(atPath: tmp.path, contents: nil, attributes: [.posixPermissions: mode]) else {
            throw CLIError("cannot write in \(dir.path) (permissions or disk full?)")
        }
        do {
            let handle = try FileHandle(forWritingTo: tmp)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            if fm.fileExists(atPath: url.path) { _ = try fm.replaceItemAt(url, withItemAt: tmp) } else {
                try fm.moveItem(at: tmp, to: url)
            }
        } catch {
            try? fm.removeItem(at: tmp)
            throw CLIError("could not write \(what) to \(path) (disk full or no permission?)")
        }
    }

    /// Creates a directory (and parents) if needed.
    static func ensureDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw CLIError("cannot create directory \(path)")
        }
    }
}
