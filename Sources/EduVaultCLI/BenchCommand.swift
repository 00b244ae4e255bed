import ArgumentParser
import BigNum
import Foundation
import Paillier

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the Paillier core on this machine: operations per second, one core and all cores.",
        discussion: """
            Each operation runs for --seconds of wall-clock time. Compare with python-paillier side by side with \
            Benchmarks/compare.sh (this machine is shared and noisy: quote ratios from one run, not absolute times).
            """
    )

    @Option(help: "Key size: 2048 or 3072.")
    var bits: Int = 2048

    @Option(help: "Seconds to spend on each operation.")
    var seconds: Double = 2

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(help: "Skip key generation (it dominates the run time at 3072 bits).")
    var skipKeygen = false

    @Option(help: "Use this private key instead of generating one (e.g. Keys/test/eduvault-2048/private.json).")
    var privateKey: String?

    @Option(help: "Instead of the core operations, time a query over a temporary vault of this many records.")
    var queryRecords: Int?

    @Flag(help: "Instead of the core operations, measure what the disclosure rules cost: cells an ordinary session of tables gets under K-MIN alone, the default policy (LIN-AUDIT) and the old rules (COMP-SUPP), on the demo's data.")
    var utility = false

    @Option(help: "With --utility: also measure on the UCI student-performance data in this directory (student-mat.csv, student-por.csv).")
    var uci: String?

    @Option(help: "With --utility: the demo data's regular schools and students per school.")
    var utilitySchools: Int = 12
    @Option(help: ArgumentHelp(visibility: .hidden))
    var utilityStudents: Int = 300

    @Option(help: "Instead of the core operations, time `audit verify` on a log of this many entries (and its export size).")
    var auditEntries: Int?

    @Flag(help: "Instead of the core operations, measure threshold custody: the dealer ceremony, partial decryptions with proof, verifications and combinations per second next to single-key CRT decryption, and the whole threshold path for a --release-cells release.")
    var threshold = false

    @Option(help: "With --threshold: the parties (comma-separated).")
    var thresholdParties: String = "bureau,auditor,custodian"

    @Option(help: "With --threshold: how many parties decrypt together.")
    var thresholdT: Int = 2

    @Option(help: "With --threshold: load threshold.json and the share files of an earlier ceremony from this directory instead of running one.")
    var thresholdKey: String?

    @Option(help: "With --threshold: cells in the timed release.")
    var releaseCells: Int = 24

    @Flag(help: "With --query-records: also time a model release (2 numeric terms, 6 dummies) over the same records, with two covariates in the schema, and report its time next to the query's.")
    var model = false

    @Option(help: "With --query-records: make this many earlier releases (per-school tables) first, so the timed query's LIN-AUDIT works against a history.")
    var priorReleases: Int = 0

    @Option(help: "With --query-records: build the vault in this (new) directory and keep it, e.g. for --sum-vault.")
    var keepVault: String?

    @Option(help: "Instead of the core operations, time the engine's homomorphic sum alone over this vault's records (cells by subject and every attribute); prints records, cells, passes, cpu_s, wall_s and a digest of the sums. Benchmarks/montgomery-sum.sh compares it with a C program.")
    var sumVault: String?

    @Option(help: "With --sum-vault: sum the records of this flat file (per record an 8-byte little-endian atom id, then the ciphertext; `Benchmarks/montgomery-sum export` writes it) from memory instead of reading the vault.")
    var sumFile: String?

    @Option(help: "With --sum-vault: write the cell plan (width, n², each atom's cell) for Benchmarks/montgomery-sum.c here.")
    var sumPlanOut: String?

    @Option(help: "With --sum-vault: how many times to sum every record.")
    var sumPasses: Int = 1

    @Option(help: "With --sum-vault: summing threads (default: every core, as a query).")
    var sumWorkers: Int?

    @Option(help: ArgumentHelp("With --sum-vault: records per chunk from the reader to the summing threads.", visibility: .hidden))
    var sumChunk: Int?

    @Flag(help: "Instead of the core operations, load the service: --load-schools schools upload batches of --load-records records concurrently over HTTP while a bureau queries (with --public-key).")
    var load = false
    @Option(help: ArgumentHelp(visibility: .hidden)) var loadSchools = 64
    @Option(help: ArgumentHelp(visibility: .hidden)) var loadBatches = 2
    @Option(help: ArgumentHelp(visibility: .hidden)) var loadRecords = 1000
    @Option(help: "With --load: the vault's public key (default Keys/test/eduvault-2048/public.json).") var publicKey: String?

    func run() async throws {
        if let sumVault {
            guard (1...1000).contains(sumPasses) else { throw CLIError("--sum-passes must be 1–1000") }
            let workers = sumWorkers ?? availableCores
            guard (1...256).contains(workers) else { throw CLIError("--sum-workers must be 1–256") }
            guard (1...65536).contains(sumChunk ?? 1) else { throw CLIError("--sum-chunk must be 1–65536") }
            try SumBenchmark(vaultDirectory: sumVault, flatFile: sumFile, planOut: sumPlanOut, passes: sumPasses,
                             workers: workers, chunkSize: sumChunk).run()
            return
        }
        if load {
            try await LoadBenchmark(schools: loadSchools, batchesPerSchool: loadBatches, recordsPerBatch: loadRecords,
                                    publicKey: publicKey ?? "Keys/test/eduvault-2048/public.json", json: json).run()
            return
        }
        guard [1024, 2048, 3072, 4096].contains(bits) else { throw CLIError("--bits must be 2048 or 3072 (or 1024/4096)") }
        guard seconds > 0, seconds <= 600 else { throw CLIError("--seconds must be between 0 and 600") }
        let cores = availableCores
        var results: [(String, Double)] = []
        func record(_ name: String, _ value: Double) {
            results.append((name, value))
            if !json {
                let padded = name.padding(toLength: 34, withPad: " ", startingAt: 0)
                Terminal.note("  " + padded + String(format: "%14.1f", value))
            }
        }
        if !json { Terminal.note("EduVault bench: \(bits)-bit keys, \(cores) cores, \(seconds) s per operation") }
        if threshold {
            let parties = thresholdParties.split(separator: ",").map(String.init)
            guard (2...32).contains(parties.count), (1...parties.count).contains(thresholdT) else {
                throw CLIError("--threshold-parties needs 2–32 names and --threshold-t between 1 and their number")
            }
            guard (1...10_000).contains(releaseCells) else { throw CLIError("--release-cells must be 1–10000") }
            let figures = try await ThresholdBenchmark(bits: bits, seconds: seconds, parties: parties, threshold: thresholdT,
                                                       cells: releaseCells, keyDirectory: thresholdKey)
                .run { if !json { Terminal.note("  " + $0) } }
            if json {
                var object: [String: Any] = ["cores": cores, "seconds_per_op": seconds]
                for (k, v) in figures { object[k] = (v * 1000).rounded() / 1000 }
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else {
                for (k, v) in figures {
                    Terminal.note("  " + k.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%14.3f", v))
                }
            }
            return
        }

        // Key generation (the generated key is then used for the other operations).
        let keygenStart = Date()
        var key: PrivateKey
        if let privateKey {
            key = try KeyLoading.privateKey(privateKey, insecureTestKey: true, passphraseFile: nil)
        } else {
            key = try PrivateKey.generate(bits: bits, allowInsecureSize: true)
            if !skipKeygen && queryRecords == nil && !utility && auditEntries == nil {
                var count = 1
                while Date().timeIntervalSince(keygenStart) < seconds {
                    key = try PrivateKey.generate(bits: bits, allowInsecureSize: true)
                    count += 1
                }
                record("keygen_per_s", Double(count) / Date().timeIntervalSince(keygenStart))
                let bits = self.bits
                record("keygen_per_s_all_cores", try await parallelRate(cores) {
                    _ = try PrivateKey.generate(bits: bits, allowInsecureSize: true)
                })
            }
        }
        if let queryRecords {
            try await runQueryBenchmark(records: queryRecords, key: key)
            return
        }
        if utility {
            try await runUtilityBenchmark(key: key)
            return
        }
        if let auditEntries {
            guard (1...20_000_000).contains(auditEntries) else { throw CLIError("--audit-entries must be 1–20000000") }
            let result = try AuditBenchmark(entries: auditEntries).run { if !json { Terminal.note("  " + $0) } }
            let figures: [(String, Double)] = [
                ("audit_entries", Double(auditEntries)), ("audit_build_seconds", result.buildSeconds),
                ("audit_verify_seconds", result.verifySeconds),
                ("audit_verify_entries_per_s", Double(auditEntries) / result.verifySeconds),
                ("audit_entries_bytes", Double(result.entriesBytes)), ("peak_memory_bytes", Double(result.peakMemoryBytes)),
            ]
            if json {
                var object: [String: Any] = ["verdict": result.verdict]
                for (k, v) in figures { object[k] = (v * 100).rounded() / 100 }
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else {
                for (k, v) in figures { Terminal.note("  " + k.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%16.2f", v)) }
                Terminal.note("  verdict: \(result.verdict)")
            }
            guard result.verdict == "pass" else { throw CLIError("the benchmark's own log did not verify") }
            return
        }
        let pub = key.publicKey
        guard pub.bitCount == bits else { throw CLIError("the key has \(pub.bitCount) bits, not --bits \(bits)") }

        let tableStart = Date()
        _ = try pub.noiseGenerator()
        record("table_build_s", Date().timeIntervalSince(tableStart))
        record("table_bytes", Double(pub.encryptionTableBytes))

        let m = try BigNum.random(below: pub.maxInt)
        record("encrypt_per_s", try rate { _ = try pub.encrypt(m) })
        record("encrypt_standard_per_s", try rate { _ = try pub.encryptStandard(m) })
        record("encrypt_crt_private_key_per_s", try rate { _ = try key.encrypt(m) })
        record("encrypt_per_s_all_cores", try await parallelRate(cores) { _ = try pub.encrypt(m) })

        // Online encryption from a full noise pool: one Montgomery product per value.
        let poolSize = 2000
        let pool = try NoisePool(key: pub, capacity: poolSize, producers: cores)
        while pool.available < poolSize { try await Task.sleep(nanoseconds: 50_000_000) }
        pool.stop()
        let poolStart = Date()
        for _ in 0..<poolSize { _ = try pool.encrypt(m) }
        record("encrypt_pooled_online_per_s", Double(poolSize) / Date().timeIntervalSince(poolStart))
        record("pool_bytes_per_1000", Double(pool.byteCount) * 1000 / Double(poolSize))

        let c1 = try pub.encrypt(m), c2 = try pub.encrypt(m)
        record("decrypt_per_s", try rate { _ = try key.decryptRaw(c1) })
        let core = CoreBox(key: key)
        record("decrypt_per_s_all_cores", try await parallelRate(cores) { _ = try core.decrypt(c1) })
        record("add_per_s", try rate { _ = pub.add(c1, c2) })
        record("add_per_s_all_cores", try await parallelRate(cores) { _ = pub.add(c1, c2) })
        let k = try BigNum(bigEndian: BigNum.random(bits: 64).bigEndianBytes)
        record("scalar_mul_per_s", try rate { _ = try pub.multiply(c1, by: k) })
        record("scalar_mul_per_s_all_cores", try await parallelRate(cores) { _ = try pub.multiply(c1, by: k) })

        // Sums straight from fixed-width bytes, as the vault reads them.
        let width = pub.ciphertextByteCount
        let distinct = 64
        var packed: [UInt8] = []
        for _ in 0..<distinct { packed += try pub.encrypt(m).bytes(width: width) }
        let sumChunk = 4096
        var chunk: [UInt8] = []
        chunk.reserveCapacity(sumChunk * width)
        for i in 0..<sumChunk { chunk += packed[(i % distinct) * width..<((i % distinct) + 1) * width] }
        let chunkCopy = chunk
        record("sum_adds_per_s", try rate(batch: sumChunk) {
            var s = CiphertextSum(key: pub)
            try chunkCopy.withUnsafeBytes { all in
                for i in 0..<sumChunk { try s.add(bytes: UnsafeRawBufferPointer(rebasing: all[(i * width)..<((i + 1) * width)])) }
            }
            _ = try s.result()
        })
        record("sum_adds_per_s_all_cores", try await parallelRate(cores, batch: sumChunk) {
            var s = CiphertextSum(key: pub)
            try chunkCopy.withUnsafeBytes { all in
                for i in 0..<sumChunk { try s.add(bytes: UnsafeRawBufferPointer(rebasing: all[(i * width)..<((i + 1) * width)])) }
            }
            _ = try s.result()
        })

        if json {
            var object: [String: Any] = ["bits": bits, "cores": cores, "seconds_per_op": seconds]
            for (name, value) in results { object[name] = (value * 10).rounded() / 10 }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    private func runQueryBenchmark(records: Int, key: borrowing PrivateKey) async throws {
        guard (100...10_000_000).contains(records) else { throw CLIError("--query-records must be 100–10000000") }
        guard (0...10_000).contains(priorReleases) else { throw CLIError("--prior-releases must be 0–10000") }
        let result = try await QueryBenchmark(records: records, bits: bits, priorReleases: priorReleases, model: model,
                                              keepDirectory: keepVault).run(key: key) { line in
            if !json { Terminal.note("  " + line) }
        }
        let cores = availableCores
        let perSecond = Double(records) / result.querySeconds
        var figures: [(String, Double)] = [
            ("query_records", Double(records)), ("query_seconds", result.querySeconds),
            ("query_records_per_s", perSecond), ("query_records_per_s_per_core", perSecond / Double(cores)),
            ("query_cells", Double(result.cells)), ("ingest_records_per_s", result.ingestPerSecond),
            ("database_bytes", Double(result.databaseBytes)), ("peak_memory_bytes", Double(result.peakMemoryBytes)),
            ("prior_releases", Double(priorReleases)), ("prior_releases_seconds", result.priorSeconds),
            ("audit_ms", result.auditSeconds * 1000), ("audit_ms_max_prior", result.priorAuditSecondsMax * 1000),
            ("audit_state_bytes", Double(result.auditStateBytes)), ("audit_rank", Double(result.auditRank)),
            ("audit_atoms", Double(result.auditAtoms)),
        ]
        if model {
            let ratio = result.modelSeconds / result.querySeconds
            figures.append(("ciphertexts_per_record", Double(result.ciphertextsPerRecord)))
            figures.append(("model_seconds", result.modelSeconds))
            figures.append(("model_cells", Double(result.modelCells)))
            figures.append(("model_blocks", Double(result.modelBlocks)))
            figures.append(("model_to_query_ratio", ratio))
            figures.append(("peak_memory_after_query_bytes", Double(result.peakMemoryAfterQueryBytes)))
        }
        if json {
            var object: [String: Any] = ["bits": bits, "cores": cores, "verified": result.verified]
            for (k, v) in figures { object[k] = k.hasPrefix("audit_ms") ? (v * 1000).rounded() / 1000 : (v * 100).rounded() / 100 }
            if model { object["model_verified"] = result.modelVerified }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for (k, v) in figures { Terminal.note("  " + k.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%16.2f", v)) }
            Terminal.note("  decrypted sums equal the stored plaintext: \(result.verified ? "yes" : "NO")")
        }
        if model && !json {
            Terminal.note("  model (\(QueryBenchmark.modelFormula)) decrypted total equals the plaintext: "
                          + (result.modelVerified ? "yes" : "NO"))
        }
        guard result.verified else { throw CLIError("the query's decrypted sums did not match the stored plaintext") }
        guard result.modelVerified else { throw CLIError("the model's decrypted sums did not match the stored plaintext") }
    }

    private func runUtilityBenchmark(key: borrowing PrivateKey) async throws {
        guard (4...200).contains(utilitySchools), (12...5000).contains(utilityStudents) else {
            throw CLIError("--utility-schools must be 4–200 and --utility-students 12–5000")
        }
        var datasets = [UtilityBenchmark.demo(schools: utilitySchools, students: utilityStudents, seed: 2026)]
        if let uci { datasets.append(try UtilityBenchmark.uci(directory: URL(fileURLWithPath: uci))) }
        var outcomes: [UtilityBenchmark.Outcome] = []
        for dataset in datasets {
            outcomes += try await UtilityBenchmark().run(dataset, key: key) { line in if !json { Terminal.note("  " + line) } }
        }
        if json {
            let rows: [[String: Any]] = outcomes.map { o in
                let base = outcomes.first { $0.dataset == o.dataset }?.released ?? 1
                return ["dataset": o.dataset, "policy": o.policy, "released_cells": o.released,
                        "fraction_of_kmin_alone": (Double(o.released) / Double(max(1, base)) * 1000).rounded() / 1000,
                        "withheld": o.withheld, "lin_audit_undecided": o.undecided, "disclosive_cells": o.disclosive,
                        "audit_seconds_per_release": (o.auditSecondsPerRelease * 1e6).rounded() / 1e6]
            }
            let data = try JSONSerialization.data(withJSONObject: ["bits": bits, "utility": rows], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        var table: [[String]] = [["data", "policy", "cells released", "of K-MIN alone", "withheld by rule", "disclosive",
                                  "audit s/release"]]
        for o in outcomes {
            let base = outcomes.first { $0.dataset == o.dataset }?.released ?? 1
            table.append([o.dataset, o.policy, String(o.released), String(format: "%.1f%%", 100 * Double(o.released) / Double(max(1, base))),
                          o.withheld.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                              + (o.undecided > 0 ? " (\(o.undecided) undecided)" : ""),
                          String(o.disclosive), o.policy.hasPrefix("default") ? String(format: "%.4f", o.auditSecondsPerRelease) : "—"])
        }
        print(ReleaseFormatter.render(table, rightAlignFrom: 2), terminator: "")
        print("disclosive = released cells that, with the releases before them, determine a total of fewer than k records "
              + "(found by rebuilding LIN-AUDIT over the history).")
    }

    /// Operations per second of `body` on this thread for `seconds`.
    private func rate(batch: Int = 1, _ body: () throws -> Void) throws -> Double {
        let start = Date()
        var count = 0
        repeat {
            try body()
            count += batch
        } while Date().timeIntervalSince(start) < seconds
        return Double(count) / Date().timeIntervalSince(start)
    }

    /// Operations per second of `body` run on `cores` tasks at once for `seconds`.
    private func parallelRate(_ cores: Int, batch: Int = 1, _ body: @escaping @Sendable () throws -> Void) async throws
        -> Double
    {
        let seconds = self.seconds
        let start = Date()
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<cores {
                group.addTask {
                    var count = 0
                    repeat {
                        try body()
                        count += batch
                    } while Date().timeIntervalSince(start) < seconds
                    return count
                }
            }
            var total = 0
            for try await c in group { total += c }
            return total
        }
        return Double(total) / Date().timeIntervalSince(start)
    }
}

/// Lets benchmark tasks share one private key for parallel decryption.
/// `Sendable`: holds only the key's batch-decryption entry point, which is thread-safe.
final class CoreBox: Sendable {
    private let decryptOne: @Sendable (Ciphertext) throws -> BigNum
    init(key: borrowing PrivateKey) {
        let shared = SharedPrivateKey(key)
        decryptOne = { try shared.decrypt($0) }
    }
    func decrypt(_ c: Ciphertext) throws -> BigNum { try decryptOne(c) }
}
