import Foundation

/// Reads a file in fixed-size chunks: byte by byte or line by line, with memory bounded by the chunk size and the
/// longest line allowed. Not `Sendable`: one reader belongs to one task.
final class ByteSource {
    private let handle: FileHandle
    private let fileName: String
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private static let chunkSize = 64 * 1024

    init(url: URL) throws(ModelError) {
        fileName = url.lastPathComponent
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw ModelError(.io, "cannot open the file for reading", file: url.lastPathComponent)
        }
    }

    deinit { try? handle.close() }

    /// Makes sure at least one unread byte is buffered; returns false at end of file.
    private func fill() throws(ModelError) -> Bool {
        if position < buffer.count { return true }
        if atEnd { return false }
        let chunk: Data?
        do { chunk = try handle.read(upToCount: ByteSource.chunkSize) } catch {
            throw ModelError(.io, "cannot read the file", file: fileName)
        }
        guard let chunk, !chunk.isEmpty else {
            atEnd = true
            return false
        }
        buffer = Array(chunk)
        position = 0
        return true
    }

    /// The next byte, or nil at end of file.
    func next() throws(ModelError) -> UInt8? {
        guard try fill() else { return nil }
        defer { position += 1 }
        return buffer[position]
    }

    /// The next byte without consuming it.
    func peek() throws(ModelError) -> UInt8? {
        guard try fill() else { return nil }
        return buffer[position]
    }

    /// The next line without its `\n`, and whether a `\n` ended it; nil at end of file.
    ///
    /// - Throws: `tooLong` (with the given line number) when a line exceeds `maxLength` bytes.
    func nextLine(maxLength: Int, tooLong: () -> ModelError) throws(ModelError) -> (bytes: [UInt8], terminated: Bool)? {
        var line: [UInt8] = []
        var sawAny = false
        while try fill() {
            sawAny = true
            let available = buffer[position...]
            if let newline = available.firstIndex(of: UInt8(ascii: "\n")) {
                line.append(contentsOf: buffer[position..<newline])
                position = newline + 1
                guard line.count <= maxLength else { throw tooLong() }
                return (line, true)
            }
            line.append(contentsOf: available)
            position = buffer.count
            guard line.count <= maxLength else { throw tooLong() }
        }
        return sawAny ? (line, false) : nil
    }
}
