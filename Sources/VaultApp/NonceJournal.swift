public import Foundation
import Synchronization
import VaultModel
#if canImport(Glibc)
import Glibc
#endif

/// Nonces seen within the signature window (`created` ± the limits): a second request with the same key id and
/// nonce inside the window is a replay. Entries expire with the window, so memory is bounded by the request rate.
///
/// A journal opened on a vault directory also appends every nonce to `nonces.journal` there (one line
/// `<expiry> <keyid> <nonce>`, mode 0600) and `fdatasync`s it before the request goes on, so a request captured
/// before a restart cannot be replayed after it. At start the file is read, expired lines are dropped and the rest
/// is rewritten atomically; while serving it is rewritten the same way when expired lines outnumber live ones.
///
/// Security: a line cut short by a crash is ignored (its request was never answered: the nonce is made durable
/// before anything else happens); any other damaged line refuses the start, rather than forgetting nonces.
///
/// `Sendable`: all state, the file descriptor included, is behind a `Mutex`.
public final class NonceJournal: Sendable {
    struct State: Sendable {
        var seen: [String: Int64] = [:]
        var lastSweep: Int64 = 0
        /// The journal open for appending (-1: memory only), and the lines it holds.
        var fd: Int32 = -1
        var lines = 0
    }
    let state = Mutex(State())
    /// The journal file, if any.
    let url: URL?
    /// Past this many live nonces new ones are refused (the rate limit keeps honest traffic far below it).
    public static let capacity = 2_000_000
    /// The journal's name in the vault directory.
    public static let fileName = "nonces.journal"

    /// A journal held in memory only.
    public init() { url = nil }

    /// Opens (or creates) the journal in `directory`, keeping the nonces that expire after `now`.
    ///
    /// - Throws: `.unavailable` when the file cannot be read or written, or holds a damaged line other than a torn
    ///   last one.
    public init(directory: URL, now: Int64) throws(AppError) {
        let url = directory.appendingPathComponent(Self.fileName)
        self.url = url
        var live: [String: Int64] = [:]
        if FileManager.default.fileExists(atPath: url.path) {
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw AppError(.unavailable, "cannot read the nonce journal \(url.path)")
            }
            var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            // The last element is empty after a final newline, or a line cut short by a crash: either way dropped.
            lines.removeLast()
            for line in lines {
                guard let (expiry, key) = Self.parse(line) else {
                    throw AppError(.unavailable, "the nonce journal \(url.path) is damaged; move it aside to start (requests "
                                   + "signed in the last \(HTTPMessageSignature.maxAge + HTTPMessageSignature.maxSkewAhead) s could then be replayed once)")
                }
                if expiry > now { live[key] = max(live[key] ?? 0, expiry) }
            }
        }
        let fd = try Self.rewrite(url, live)
        state.withLock {
            $0.seen = live
            $0.lastSweep = now
            $0.fd = fd
            $0.lines = live.count
        }
    }

    deinit { state.withLock { if $0.fd >= 0 { close($0.fd) } } }

    /// Records `nonce` for `keyID` until `now + window`; false if it was already seen within the window (or the
    /// journal is full). With a file, the nonce is durable (`fdatasync`) before this returns true.
    ///
    /// - Throws: `.unavailable` when the journal cannot be written (the request must then be refused).
    public func insert(keyID: String, nonce: String, now: Int64, window: Int64) throws(AppError) -> Bool {
        try state.withLock { s throws(AppError) -> Bool in
            if now - s.lastSweep > 30 || s.seen.count >= Self.capacity {
                s.seen = s.seen.filter { $0.value > now }
                s.lastSweep = now
                if let url, s.lines > 2 * s.seen.count + 1024 {
                    let fd = try Self.rewrite(url, s.seen)
                    close(s.fd)
                    s.fd = fd
                    s.lines = s.seen.count
                }
            }
            let key = keyID + " " + nonce
            if let expiry = s.seen[key], expiry > now { return false }
            guard s.seen.count < Self.capacity else { return false }
            s.seen[key] = now + window
            if s.fd >= 0 {
                try Self.append(s.fd, Array("\(now + window) \(key)\n".utf8))
                s.lines += 1
            }
            return true
        }
    }

    /// `<expiry> <keyid> <nonce>`: expiry digits, key id and nonce as the signature parser admits them.
    static func parse(_ line: Data.SubSequence) -> (Int64, String)? {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard fields.count == 3, (1...18).contains(fields[0].count), fields[0].allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let expiry = Int64(String(decoding: fields[0], as: UTF8.self)),
              fields[1...].allSatisfy({ (1...128).contains($0.count) && $0.allSatisfy { $0 > 0x20 && $0 < 0x7F } })
        else { return nil }
        return (expiry, String(decoding: fields[1], as: UTF8.self) + " " + String(decoding: fields[2], as: UTF8.self))
    }

    /// Writes the live nonces as the whole journal (atomically, fsynced) and opens it for appending.
    static func rewrite(_ url: URL, _ live: [String: Int64]) throws(AppError) -> Int32 {
        let text = live.sorted { $0.value < $1.value }.map { "\($0.value) \($0.key)\n" }.joined()
        do { try AtomicFile.write(Data(text.utf8), to: url, mode: 0o600, overwrite: true) } catch {
            throw AppError(.unavailable, "cannot write the nonce journal \(url.path): \(error.reason)")
        }
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw AppError(.unavailable, "cannot open the nonce journal \(url.path)") }
        return fd
    }

    /// Appends one line and makes it durable.
    static func append(_ fd: Int32, _ bytes: [UInt8]) throws(AppError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }  // safe: non-empty
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AppError(.unavailable, "the vault cannot record the request's nonce (disk full?); nothing was done") }
            written += n
        }
        guard fdatasync(fd) == 0 else {
            throw AppError(.unavailable, "the vault cannot record the request's nonce (disk full?); nothing was done")
        }
    }
}
