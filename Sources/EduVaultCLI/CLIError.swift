/// A one-line, actionable error for the command line. Never carries a score, a student id or key material.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
