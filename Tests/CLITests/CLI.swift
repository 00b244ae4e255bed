import Foundation
import Testing

/// Runs the real `eduvault` executable (built by SwiftPM as a dependency of this test target) and other tools.
enum CLI {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let executable: URL = {
        let candidates = [
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("eduvault"),
            Bundle.main.bundleURL.appendingPathComponent("eduvault"),
            root.appendingPathComponent(".build/debug/eduvault"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[2]
    }()

    /// The Python that has python-paillier: EDUVAULT_PYTHON, else the project's .venv (made by .ci/run).
    static let python: URL = {
        if let env = ProcessInfo.processInfo.environment["EDUVAULT_PYTHON"] { return URL(fileURLWithPath: env) }
        return root.appendingPathComponent(".venv/bin/python")
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    static func run(_ tool: URL, _ arguments: [String], stdin: Data? = nil, cwd: URL? = nil,
                    environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = cwd }
        var env = ProcessInfo.processInfo.environment
        env["CI"] = "1"  // no spinners in captured output
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently with the process so large outputs cannot deadlock.
        let outBox = DataBox(), errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus, stdout: String(decoding: outBox.data, as: UTF8.self),
                      stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    /// Runs `eduvault` with arguments.
    @discardableResult
    static func eduvault(_ arguments: [String], stdin: Data? = nil, cwd: URL? = nil,
                         environment: [String: String] = [:]) throws -> Result {
        try run(executable, arguments, stdin: stdin, cwd: cwd, environment: environment)
    }

    /// Runs python-paillier's `pheutil` through the project's Python.
    @discardableResult
    static func pheutil(_ arguments: [String]) throws -> Result {
        try run(python, ["-c", "import sys; from phe.command_line import cli; sys.argv[0] = 'pheutil'; cli()"] + arguments)
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eduvault-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func key(_ name: String, _ file: String) -> String {
        root.appendingPathComponent("Keys/test/\(name)/\(file).json").path
    }
}

/// A mutable box for data read on another queue; written once before `group.wait()` returns.
final class DataBox: @unchecked Sendable {
    var data = Data()
}

/// Asserts the shape every failure must have: non-zero exit, one line on stderr starting with "Error:", no trace.
func expectCleanFailure(_ result: CLI.Result, mentioning fragment: String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status != 0, "expected a non-zero exit", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    let errorLines = lines.filter { $0.hasPrefix("Error:") }
    #expect(errorLines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump")
            && !result.stderr.contains("backtrace"), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    if let fragment {
        #expect(result.stderr.lowercased().contains(fragment.lowercased()), "stderr: \(result.stderr)",
                sourceLocation: sourceLocation)
    }
}
