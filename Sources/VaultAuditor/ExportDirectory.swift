public import Foundation
import Primitives
public import VaultAudit

/// An error reading an export: the file and line at fault, never their content.
public struct ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An export directory written by `eduvault audit export` (``AuditExport``), read as an ``AuditSource`` and a
/// ``RecordSource``. Every file is outside input: lines are bounded (1 MiB), files are bounded, and a malformed line is
/// an error naming the file and line.
public struct ExportDirectory: AuditSource, RecordSource {
    public let url: URL
    /// The longest line read (an entry carrying a policy's text is a few kilobytes).
    public static let maxLineBytes = 1 << 20

    public init(_ url: URL) throws(ExportError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ExportError("\(url.path) is not an export directory (run `eduvault audit export` first)")
        }
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent(AuditExport.entriesFile).path) else {
            throw ExportError("\(url.path) has no \(AuditExport.entriesFile): not an EduVault audit export")
        }
        self.url = url
    }

    /// Calls `body` with each line of a file (without its newline); a missing file has no lines.
    static func forEachLine(_ file: URL, _ body: (Data, Int) throws -> Void) throws {
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        guard let handle = try? FileHandle(forReadingFrom: file) else {
            throw ExportError("cannot read \(file.lastPathComponent)")
        }
        defer { try? handle.close() }
        var pending = Data()
        var line = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 10) {
                line += 1
                try body(pending[pending.startIndex..<newline], line)
                pending.removeSubrange(pending.startIndex...newline)
            }
            guard pending.count <= maxLineBytes else {
                throw ExportError("\(file.lastPathComponent) line \(line + 1) is longer than \(maxLineBytes) bytes")
            }
        }
        if !pending.isEmpty {
            line += 1
            try body(pending, line)
        }
    }

    func rows<T: Decodable>(_ name: String, _ type: T.Type) throws -> [T] {
        var out: [T] = []
        let decoder = JSONDecoder()
        try Self.forEachLine(url.appendingPathComponent(name)) { data, line in
            guard let row = try? decoder.decode(T.self, from: data) else {
                throw ExportError("\(name) line \(line) is not a valid row")
            }
            out.append(row)
        }
        return out
    }

    public func forEachEntry(_ body: (AuditEntry) throws -> Void) throws {
        let decoder = JSONDecoder()
        try Self.forEachLine(url.appendingPathComponent(AuditExport.entriesFile)) { data, line in
            guard let entry = try? decoder.decode(AuditEntry.self, from: data) else {
                throw ExportError("\(AuditExport.entriesFile) line \(line) is not an audit entry")
            }
            try body(entry)
        }
    }

    public func latestCheckpoint() throws -> String? {
        let file = url.appendingPathComponent(AuditExport.checkpointFile)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let data = try Data(contentsOf: file)
        guard data.count <= 64 << 10 else { throw ExportError("the checkpoint file is larger than 64 KiB") }
        return String(decoding: data, as: UTF8.self)
    }

    public func checkpoints() throws -> [AuditExport.CheckpointRow] {
        try rows(AuditExport.checkpointsFile, AuditExport.CheckpointRow.self)
    }
    public func cosignatures() throws -> [AuditExport.CosignatureRow] {
        try rows(AuditExport.cosignaturesFile, AuditExport.CosignatureRow.self)
    }
    public func schools() throws -> [AuditExport.SchoolRow] {
        try rows(AuditExport.schoolsFile, AuditExport.SchoolRow.self)
    }
    public func releases() throws -> [AuditExport.ReleaseRow] {
        try rows(AuditExport.releasesFile, AuditExport.ReleaseRow.self)
    }
    public func atoms() throws -> [AuditExport.AtomRow] { try rows(AuditExport.atomsFile, AuditExport.AtomRow.self) }
    public func purged() throws -> [AuditExport.PurgeRow] {
        try rows(AuditExport.purgedFile, AuditExport.PurgeRow.self)
    }

    /// Batch ids are 64 hex digits; anything else never names a file.
    static func safeBatch(_ batch: String) -> Bool { batch.count == 64 && batch.allSatisfy(\.isHexDigit) }

    public func records(batch: String) throws -> [AuditExport.RecordRow]? {
        guard Self.safeBatch(batch) else { return nil }
        let name = "\(AuditExport.recordsDirectory)/\(batch).jsonl"
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path) else { return nil }
        return try rows(name, AuditExport.RecordRow.self)
    }

    public func leaves(batch: String) throws -> [[UInt8]]? {
        guard Self.safeBatch(batch) else { return nil }
        let file = url.appendingPathComponent("\(AuditExport.leavesDirectory)/\(batch).txt")
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        var out: [[UInt8]] = []
        try Self.forEachLine(file) { data, line in
            guard let leaf = Hex.decode(String(decoding: data, as: UTF8.self)), leaf.count == 32 else {
                throw ExportError("leaves of batch \(batch.prefix(16)) line \(line) is not a 32-byte hex leaf")
            }
            out.append(leaf)
        }
        return out
    }
}
