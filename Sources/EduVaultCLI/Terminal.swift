import Foundation
import Synchronization

/// Progress output on standard error: a spinner or bar on a terminal, plain lines otherwise. Never prints data.
enum Terminal {
    static let isInteractive: Bool = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["CI"] == nil

    static func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// A spinner on standard error for work of unknown length (prime search). Stops cleanly; prints one line when not
/// on a terminal.
final class Spinner: Sendable {
    private let label: String
    private let state = Mutex<(running: Bool, detail: String, announced: Bool)>((true, "", false))
    private let done = DispatchSemaphore(value: 0)
    private let start = Date()

    /// On a terminal the spinner draws at once; in a log (not a terminal) the label is written once, when the first
    /// progress arrives, so work that fails before it starts ends with its one error line and nothing else.
    init(_ label: String) {
        self.label = label
        if Terminal.isInteractive {
            let thread = Thread { [self] in self.loop() }
            thread.start()
        } else {
            done.signal()
        }
    }

    func update(_ detail: String) {
        let announce = state.withLock { state in
            state.detail = detail
            defer { state.announced = true }
            return !state.announced
        }
        if announce && !Terminal.isInteractive { Terminal.note("\(label)…") }
    }

    private func loop() {
        let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
        var i = 0
        while true {
            let (running, detail) = state.withLock { ($0.running, $0.detail) }
            if !running { break }
            let elapsed = Int(Date().timeIntervalSince(start))
            FileHandle.standardError.write(Data("\r\u{1B}[K\(frames[i % frames.count]) \(label) \(detail) \(elapsed)s".utf8))
            i += 1
            Thread.sleep(forTimeInterval: 0.1)
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        done.signal()
    }

    /// Stops the spinner and prints the final line.
    func finish(_ line: String) {
        state.withLock { $0.running = false }
        done.wait()
        Terminal.note(line)
    }

    /// Stops the spinner without a line of its own: the work failed, and its error says so.
    func stop() {
        state.withLock { $0.running = false }
        done.wait()
    }
}

/// A progress bar for work of known size (records encrypted, ingested).
final class ProgressBar: @unchecked Sendable {
    // @unchecked: used from one thread at a time (the command's own loop); `lock` guards the counters anyway.
    private let label: String
    private let total: Int
    private let lock = NSLock()
    private var current = 0
    private var lastDraw = Date.distantPast
    private let start = Date()

    init(_ label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
    }

    func advance(by n: Int = 1) {
        lock.lock()
        current += n
        let now = Date()
        let draw = Terminal.isInteractive && (now.timeIntervalSince(lastDraw) > 0.1 || current >= total)
        if draw { lastDraw = now }
        let c = current
        lock.unlock()
        if draw { render(c) }
    }

    private func render(_ c: Int) {
        let width = 30
        let filled = min(width, c * width / total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(c) / elapsed : 0
        FileHandle.standardError.write(Data("\r\u{1B}[K\(label) \(bar) \(c)/\(total) (\(Int(rate))/s)".utf8))
    }

    func finish() {
        if Terminal.isInteractive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
