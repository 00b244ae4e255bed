public import Foundation
import Synchronization

/// Nonces seen within the signature window (`created` ± the limits): a second request with the same key id and
/// nonce inside the window is a replay. Entries expire with the window, so memory is bounded by the request rate.
///
/// `Sendable`: all state is behind a `Mutex`.
public final class NonceJournal: Sendable {
    struct State: Sendable {
        var seen: [String: Int64] = [:]
        var lastSweep: Int64 = 0
    }
    let state = Mutex(State())
    /// Past this many live nonces new ones are refused (the rate limit keeps honest traffic far below it).
    public static let capacity = 2_000_000

    /// The journal's name in the vault directory.
    public static let fileName = "nonces.journal"

    /// A journal held in memory only.
    public init() {}

    /// The journal of a vault directory (not yet kept on disk: held in memory only).
    public init(directory: URL, now: Int64) throws(AppError) {}

    /// Records `nonce` for `keyID` until `now + window`; false if it was already seen within the window (or the
    /// journal is full).
    public func insert(keyID: String, nonce: String, now: Int64, window: Int64) throws(AppError) -> Bool {
        state.withLock { s in
            if now - s.lastSweep > 30 || s.seen.count >= Self.capacity {
                s.seen = s.seen.filter { $0.value > now }
                s.lastSweep = now
            }
            let key = keyID + "\u{1F}" + nonce
            if let expiry = s.seen[key], expiry > now { return false }
            guard s.seen.count < Self.capacity else { return false }
            s.seen[key] = now + window
            return true
        }
    }
}
