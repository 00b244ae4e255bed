/// Why a statistic was refused: a malformed formula, inconsistent sums, or a model the data cannot support.
///
/// Every function of `VaultStatistics` throws only this type (typed throws), and it throws instead of returning a NaN
/// or a plausible-looking number. The message is one line a user can act on; it names variables, terms and counts
/// but never a data value (no score, no sum).
public struct StatisticsError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The one-line explanation.
    public let message: String

    /// Creates an error with a one-line message.
    public init(_ message: String) { self.message = message }

    /// The message, as printed.
    public var description: String { message }
}
