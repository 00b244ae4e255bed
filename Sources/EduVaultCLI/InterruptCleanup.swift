import Foundation

/// Removes a temporary file and exits with status 130 when the process receives SIGINT or SIGTERM, so an
/// interrupted command leaves nothing half-written behind. Call ``cancel()`` once the file is no longer temporary.
final class InterruptCleanup {
    private let sources: [any DispatchSourceSignal]

    init(removing file: URL) {
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                try? FileManager.default.removeItem(at: file)
                FileHandle.standardError.write(Data("\nInterrupted; no batch was written.\n".utf8))
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
