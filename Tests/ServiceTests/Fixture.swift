import Foundation
import Primitives
import Testing
import VaultApp
import VaultStore

/// Runs the real `eduvault` executable.
enum Tool {
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

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    static func eduvault(_ arguments: [String], cwd: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = cwd }
        var env = ProcessInfo.processInfo.environment
        env["CI"] = "1"
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outBox = Box(), errBox = Box()
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

    /// Runs a command that must succeed.
    @discardableResult
    static func must(_ arguments: [String], cwd: URL? = nil) throws -> String {
        let result = try eduvault(arguments, cwd: cwd)
        guard result.status == 0 else {
            throw FixtureError("eduvault \(arguments.prefix(2).joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdout
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eduvault-svc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

final class Box: @unchecked Sendable {
    var data = Data()
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A vault with two schools (GP rural, MS urban), one stored batch each, a release, and members of every role; one
/// revoked principal per role. Made once with the real commands; each test copies it.
struct ServiceFixture: Sendable {
    let dir: URL
    var vault: URL { dir.appendingPathComponent("vault") }
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Key files by principal name: bureau, auditor, operator, GP, MS, and revoked-bureau, revoked-auditor,
    /// revoked-operator, RV (a revoked school).
    func identity(_ name: String) throws -> Identity {
        try Identity.load(try Data(contentsOf: dir.appendingPathComponent("\(name).key")))
    }

    /// The stored batch of GP (its id), the not-yet-uploaded second batch of GP, and the stored release id.
    var storedBatch: String { (try? String(contentsOf: dir.appendingPathComponent("stored-batch.txt"), encoding: .utf8)) ?? "" }
    var releaseID: String { (try? String(contentsOf: dir.appendingPathComponent("release-id.txt"), encoding: .utf8)) ?? "" }
    var freshBatch: URL { dir.appendingPathComponent("GP-2.batch") }

    static let template: Swift.Result<URL, FixtureError> = {
        do { return .success(try build()) } catch { return .failure(FixtureError("fixture: \(error)")) }
    }()

    static func csv(_ students: ClosedRange<Int>, _ prefix: String) -> String {
        var text = "student_id,subject,score,sex\n"
        for i in students {
            text += "\(prefix)\(i),math,\(50 + i % 40),\(i % 2 == 0 ? "F" : "M")\n"
            text += "\(prefix)\(i),chinese,\(60 + i % 30),\(i % 2 == 0 ? "F" : "M")\n"
        }
        return text
    }

    static func build() throws -> URL {
        let dir = try Tool.temporaryDirectory()
        func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let key = Tool.root.appendingPathComponent("Keys/test/eduvault-1024/public.json").path
        try Tool.must(["vault", "init", "--vault", p("vault"), "--public-key", key, "--insecure-test-key"])
        for (school, region) in [("GP", "rural"), ("MS", "urban"), ("RV", "rural")] {
            try Tool.must(["school", "keygen", "--school", school, "--descriptor", p("vault/descriptor.json"), "--out", p("\(school).key")])
            try Tool.must(["school", "add", "--vault", p("vault"), "--id", school, "--attr", "region=\(region)",
                           "--public-key", p("\(school).key.pub")])
        }
        for role in ["bureau", "auditor", "operator"] {
            for name in [role, "revoked-\(role)"] {
                try Tool.must(["member", "keygen", "--out", p("\(name).key")])
                try Tool.must(["member", "add", "--vault", p("vault"), "--role", role, "--name", name, "--public-key", p("\(name).key.pub")])
            }
        }
        try Data(csv(1...30, "g").utf8).write(to: dir.appendingPathComponent("GP.csv"))
        try Data(csv(31...45, "g").utf8).write(to: dir.appendingPathComponent("GP-2.csv"))
        try Data(csv(1...30, "m").utf8).write(to: dir.appendingPathComponent("MS.csv"))
        for (school, file) in [("GP", "GP"), ("GP", "GP-2"), ("MS", "MS")] {
            try Tool.must(["school", "encrypt", "--descriptor", p("vault/descriptor.json"), "--school", school, "--keys",
                           p("\(school).key"), "--input", p("\(file).csv"), "--output", p("\(file).batch"), "--insecure-test-key"])
        }
        let receipt = try Tool.must(["vault", "ingest", "--vault", p("vault"), "--json", p("GP.batch")])
        try Tool.must(["vault", "ingest", "--vault", p("vault"), p("MS.batch")])
        struct R: Decodable { var batch_id: String }
        let stored = try JSONDecoder().decode(R.self, from: Data(receipt.utf8)).batch_id
        try Data(stored.utf8).write(to: dir.appendingPathComponent("stored-batch.txt"))
        try Tool.must(["query", "--vault", p("vault"), "--by", "subject", "--out", p("release.json")])
        struct Rel: Decodable { var id: String }
        let release = try JSONDecoder().decode(Rel.self, from: try Data(contentsOf: dir.appendingPathComponent("release.json"))).id
        try Data(release.utf8).write(to: dir.appendingPathComponent("release-id.txt"))
        for name in ["revoked-bureau", "revoked-auditor", "revoked-operator", "RV"] {
            try Tool.must(["member", "revoke", "--vault", p("vault"), name])
        }
        return dir
    }

    /// A fresh copy of the template.
    static func make() throws -> ServiceFixture {
        let template = try Self.template.get()
        let dir = try Tool.temporaryDirectory()
        try FileManager.default.removeItem(at: dir)
        try FileManager.default.copyItem(at: template, to: dir)
        return ServiceFixture(dir: dir)
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    func service() throws -> VaultService {
        try VaultService.open(directory: vault)
    }
}
