import ArgumentParser
import BigNum
import Foundation
import Paillier
import Primitives
import VaultAggregation
import VaultApp
import VaultClient
import VaultModel
import VaultStore

/// `eduvault bench --load`: N schools upload batches concurrently over HTTP to a live `eduvault serve` (a separate
/// process, so its memory is its own) while a bureau queries; the same batches are ingested locally into an identical
/// copy of the vault for comparison.
///
/// The batches reuse one set of valid ciphertexts under fresh pseudonyms (the vault checks each ciphertext and each
/// signature as usual; encryption is not what is measured), so setting up 100+ batches takes seconds.
struct LoadBenchmark {
    var schools: Int
    var batchesPerSchool: Int
    var recordsPerBatch: Int
    var publicKey: String
    var json: Bool

    /// Resident and peak resident memory of a process, from /proc (kB).
    static func memory(pid: Int32) -> (rss: Int, peak: Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            text.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        }
        return (field("VmRSS:"), field("VmHWM:"))
    }

    actor Tally {
        var batches = 0
        var failures: [String] = []
        var rssAfterFirst = 0
        var rssAfterHundred = 0
        var latencies: [Double] = []
        var queriesFailed = 0
        var uploadsDone = false
        func uploaded(pid: Int32) {
            batches += 1
            if batches == 1 { rssAfterFirst = LoadBenchmark.memory(pid: pid).rss }
            if batches == 100 { rssAfterHundred = LoadBenchmark.memory(pid: pid).rss }
        }
        func failed(_ what: String) { failures.append(what) }
        func queried(_ seconds: Double) { latencies.append(seconds) }
        func queryFailed() { queriesFailed += 1 }
        func finish() { uploadsDone = true }
    }

    func note(_ text: String) { if !json { Terminal.note(text) } }

    func run() async throws {
        guard (1...512).contains(schools), (1...100).contains(batchesPerSchool), (2...50_000).contains(recordsPerBatch) else {
            throw CLIError("--load-schools 1–512, --load-batches 1–100, --load-records 2–50000")
        }
        let fm = FileManager.default
        let work = fm.temporaryDirectory.appendingPathComponent("eduvault-load-\(UUID().uuidString.prefix(8))")
        try Files.ensureDirectory(work.path)
        defer { try? fm.removeItem(at: work) }
        func path(_ name: String) -> String { work.appendingPathComponent(name).path }

        // The vault, its schools and a bureau member; then an identical copy (same vault id, keys and registry).
        note("load: setting up a vault with \(schools) schools…")
        let initCommand = try VaultInit.parse(["--vault", path("local"), "--public-key", publicKey, "--insecure-test-key"])
        try await Output.suppressingStandardOutput { try await initCommand.run() }
        let bureau: MemberKeyFile
        var schoolKeys: [SchoolKeys] = []
        do {
            let vault = try Vault.open(directory: work.appendingPathComponent("local"))
            for i in 0..<schools {
                let keys = try SchoolKeys.generate(schoolID: try SchoolID(String(format: "L%03d", i)), vaultID: vault.descriptor.vaultID)
                try vault.registerSchool(id: keys.schoolID, attributes: ["region": i % 2 == 0 ? "rural" : "urban"],
                                         signingPublicKey: try keys.signingKey().publicKey)
                schoolKeys.append(keys)
            }
            bureau = try MemberKeyFile.generate()
            guard let raw = Data(base64Encoded: bureau.publicKey) else { throw CLIError("bad member key") }
            try vault.addMember(name: "load-bureau", role: "bureau", publicKey: try Ed25519.PublicKey(rawRepresentation: Array(raw)))
        }
        try fm.copyItem(atPath: path("local"), toPath: path("served"))
        let descriptor = try Descriptor.read(from: work.appendingPathComponent("local/descriptor.json"))
        let key = try descriptor.paillierKey(allowInsecureSize: true)
        let schema = descriptor.schema
        let layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount)

        // One set of ciphertexts, reused under fresh pseudonyms in every batch.
        note("load: encrypting \(recordsPerBatch) ciphertexts and writing \(schools * batchesPerSchool) signed batches…")
        var plaintexts: [BigNum] = []
        for i in 0..<recordsPerBatch {
            let x = UInt64(40 + i % 60)
            let square: UInt64 = x * x
            plaintexts.append(try layout.pack([x, square]))
        }
        let ciphertexts = try await key.encrypt(batch: plaintexts).map { try $0.bytes(width: key.ciphertextByteCount) }
        try Files.ensureDirectory(path("batches"))
        var batchFiles: [[URL]] = []
        for keys in schoolKeys {
            var files: [URL] = []
            for b in 0..<batchesPerSchool {
                let url = work.appendingPathComponent("batches/\(keys.schoolID)-\(b).batch")
                let writer = try BatchWriter(url: url, header: BatchHeader(
                    school: keys.schoolID, vault: descriptor.vaultID, keyID: descriptor.keyID,
                    schemaHash: try schema.schemaHash, records: recordsPerBatch))
                for (i, ciphertext) in ciphertexts.enumerated() {
                    try writer.append(BatchRecord(pseudonym: try keys.pseudonym(forStudent: "b\(b)-s\(i / 2)"),
                                                  subject: i % 2 == 0 ? "math" : "chinese", attributes: [:],
                                                  ciphertext: ciphertext))
                }
                _ = try writer.finish(signingKey: try keys.signingKey())
                files.append(url)
            }
            batchFiles.append(files)
        }
        let all = batchFiles.flatMap { $0 }
        let totalRecords = all.count * recordsPerBatch

        // Local: `vault ingest` of the same batches, one after another, into the first copy.
        note("load: local ingest of \(all.count) batches…")
        let local = try VaultService.open(directory: work.appendingPathComponent("local"))
        let localStart = Date()
        for file in all { _ = try local.ingest(batchAt: file) }
        let localSeconds = Date().timeIntervalSince(localStart)

        // HTTP: a separate `eduvault serve` on a loopback port, first over a copy with uploads only, then over another
        // copy with the bureau querying all along.
        try fm.copyItem(atPath: path("served"), toPath: path("served-quiet"))
        let quiet = try await httpPhase(vault: path("served-quiet"), bureau: bureau, schoolKeys: schoolKeys,
                                        batchFiles: batchFiles, queries: false)
        let loaded = try await httpPhase(vault: path("served"), bureau: bureau, schoolKeys: schoolKeys,
                                         batchFiles: batchFiles, queries: true)
        let tally = loaded.tally
        let httpSeconds = loaded.seconds
        let memory = loaded.memory
        let rssIdle = loaded.rssIdle
        let latencies = await tally.latencies.sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)]
        }
        let failures = await tally.failures
        let stored = await tally.batches
        let figures: [(String, Double)] = [
            ("schools", Double(schools)), ("batches", Double(all.count)), ("records", Double(totalRecords)),
            ("local_records_per_s", Double(totalRecords) / localSeconds),
            ("http_records_per_s_uploads_only", Double(await quiet.tally.batches * recordsPerBatch) / quiet.seconds),
            ("http_over_local_uploads_only",
             (Double(await quiet.tally.batches * recordsPerBatch) / quiet.seconds) / (Double(totalRecords) / localSeconds)),
            ("http_records_per_s", Double(stored * recordsPerBatch) / httpSeconds),
            ("http_over_local", (Double(stored * recordsPerBatch) / httpSeconds) / (Double(totalRecords) / localSeconds)),
            ("failed_uploads", Double(failures.count + (await quiet.tally.failures.count))), ("queries", Double(latencies.count)),
            ("failed_queries", Double(await tally.queriesFailed)),
            ("query_p50_ms", percentile(0.5) * 1000), ("query_p99_ms", percentile(0.99) * 1000),
            ("server_rss_idle_mb", Double(rssIdle) / 1024), ("server_rss_after_first_batch_mb", Double(await tally.rssAfterFirst) / 1024),
            ("server_rss_after_100_batches_mb", Double(await tally.rssAfterHundred) / 1024),
            ("server_rss_end_mb", Double(memory.rss) / 1024), ("server_peak_rss_mb", Double(memory.peak) / 1024),
        ]
        if json {
            var object: [String: Double] = [:]
            for (name, value) in figures { object[name] = value.isFinite ? value : -1 }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            for (name, value) in figures {
                print(name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%12.1f", value))
            }
        }
        if !failures.isEmpty { Terminal.note("failures: " + Set(failures).prefix(3).joined(separator: "; ")) }
    }

    struct Phase {
        var tally: Tally
        var seconds: Double
        var memory: (rss: Int, peak: Int)
        var rssIdle: Int
    }

    /// One HTTP phase: start `eduvault serve` over `vault`, every school uploads its batches concurrently (one task and
    /// one connection each), the bureau queries back to back when `queries`; then SIGTERM.
    func httpPhase(vault: String, bureau: MemberKeyFile, schoolKeys: [SchoolKeys], batchFiles: [[URL]], queries: Bool)
        async throws -> Phase
    {
        let fm = FileManager.default
        let server = Process()
        server.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !fm.isExecutableFile(atPath: server.executableURL?.path ?? ""), let own = Bundle.main.executablePath {
            server.executableURL = URL(fileURLWithPath: own)
        }
        server.arguments = ["serve", "--vault", vault, "--listen", "127.0.0.1:0", "--rate-limit", "1000000",
                            "--max-connections", "1024", "--max-batch-mb", "256"]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        var line = ""
        let deadline = Date().addingTimeInterval(30)
        while !line.contains("\n") && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            line += String(decoding: chunk, as: UTF8.self)
        }
        guard let first = line.split(separator: "\n").first, let colon = first.lastIndex(of: ":"),
              let port = Int(first[colon...].dropFirst())
        else { throw CLIError("the server did not start: \(line)") }
        let url = "http://127.0.0.1:\(port)"
        let pid = server.processIdentifier
        let rssIdle = Self.memory(pid: pid).rss
        let bureauClient = try VaultHTTPClient(server: url, identity: try Identity.load(try JSONEncoder().encode(bureau)))
        note("load: \(schoolKeys.count) schools uploading \(batchFiles.joined().count) batches over \(url)"
             + (queries ? " while the bureau queries…" : " (no queries)…"))
        let tally = Tally()
        let started = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (keys, files) in zip(schoolKeys, batchFiles) {
                let client = try VaultHTTPClient(server: url, identity: Identity(keyID: keys.schoolID.rawValue, key: try keys.signingKey()))
                group.addTask {
                    for file in files {
                        do {
                            let result = try await client.upload(batch: file)
                            if result.stored { await tally.uploaded(pid: pid) } else { await tally.failed("not stored") }
                        } catch let error as AppError { await tally.failed(error.message) } catch { await tally.failed("error") }
                    }
                }
            }
            var remaining = schoolKeys.count
            if queries {
                group.addTask {
                    while await !tally.uploadsDone {
                        let started = Date()
                        do {
                            _ = try await bureauClient.query(Query(by: ["subject", "region"]))
                            await tally.queried(Date().timeIntervalSince(started))
                        } catch { await tally.queryFailed() }
                    }
                }
            }
            while remaining > 0, try await group.next() != nil { remaining -= 1 }
            await tally.finish()
            try await group.waitForAll()
        }
        let seconds = Date().timeIntervalSince(started)
        let memory = Self.memory(pid: pid)
        kill(pid, SIGTERM)
        server.waitUntilExit()
        return Phase(tally: tally, seconds: seconds, memory: memory, rssIdle: rssIdle)
    }
}
