import Foundation

/// On SIGINT or SIGTERM, removes the temporary files a command is writing next to `output` (named
/// `.<output name>.<random>.tmp`, as `BatchWriter` and `Files.write` make them) and exits with status 130, so an
/// interrupted command leaves nothing half-written behind. Install it before the first temporary file is created;
/// call ``cancel()`` once the output is in place.
final class InterruptCleanup {
    private let sources: [any DispatchSourceSignal]

    init(output: URL) {
        let directory = output.deletingLastPathComponent()
        let prefix = "." + output.lastPathComponent + "."
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
                for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
                    try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
                }
                FileHandle.standardError.write(Data("\nInterrupted; no output was written.\n".utf8))
                // _exit, not exit: other threads are still encrypting; skip atexit handlers and destructors.
                _exit(130)
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
