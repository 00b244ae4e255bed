import ArgumentParser
import Foundation
import Paillier
import VaultAggregation
import VaultApp
import VaultAudit
import VaultClient
import VaultModel
import VaultStore

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Compute encrypted counts and sums per cell and write a release the policy allows.",
        discussion: """
            Groups the vault's records by --by attributes (school, subject, a school attribute such as region or \
            province, or a record attribute such as grade, sex, residence), sums each cell's ciphertexts without \
            decrypting anything, and writes RELEASE: per cell the record count and the re-randomised encrypted sums \
            (Σx, Σx²). Cells the policy withholds are listed with the rule id:
              K-MIN      fewer than k records;
              DIFF-GUARD differs from an earlier released cell by fewer than k records;
              LIN-AUDIT  some combination of this cell and earlier releases would give the total (or any other \
            weighting) of fewer than k records;
              COMP-SUPP  (legacy policies) withheld so a suppressed cell cannot be recovered from totals.
            Under a differential-privacy policy (rule DP) every released sum also carries discrete Gaussian noise, \
            and a query that would exceed the vault's privacy budget is refused (DP-BUDGET). The release file is \
            written before the release is recorded: the vault never records a release it could not hand over. The \
            bureau decrypts it with `eduvault release decrypt`.

            Example: eduvault query --vault v --by subject,province --contrast region --out release.json
            """
    )

    @Option(help: "The vault directory (or --server URL with --identity F).")
    var vault: String?

    @OptionGroup var remote: RemoteOptions

    @Option(help: "Comma-separated grouping attributes, e.g. subject,region.")
    var by: String = ""

    @Option(name: .customLong("where"), help: "Keep only records with ATTRIBUTE=VALUE (repeatable).")
    var filters: [String] = []

    @Option(help: "An attribute with two values (e.g. region) to contrast within each cell: gap and Cohen's d.")
    var contrast: String?

    @Option(help: "Where to write the release (JSON).")
    var out: String

    @Flag(help: "Replace an existing release file (the old file stays intact if anything fails).")
    var force = false

    func run() async throws {
        let query = try Query(byList: by, whereClauses: filters, contrast: contrast)
        guard !query.cellAttributes.isEmpty else {
            throw CLIError("give --by (e.g. --by subject,region) and/or --contrast")
        }
        let destination = URL(fileURLWithPath: out)
        if FileManager.default.fileExists(atPath: out) && !force {
            throw CLIError("\(out) already exists (remove it or pass --force)")
        }
        guard (vault == nil) != (remote.server == nil) else {
            throw CLIError("give --vault DIR, or --server URL with --identity F")
        }
        guard let vault else { return try await runRemote(query, destination: destination) }
        let service = try VaultDirectoryOption(path: vault).service()
        let spinner = Spinner("Summing ciphertexts")
        let cleanup = InterruptCleanup(output: destination)
        defer { cleanup.cancel() }
        var staged: AtomicFile.Staged? = nil
        let outcome: QueryEngine.Outcome
        do {
            outcome = try service.query(query, progress: { spinner.update("(\($0) records)") }, deliver: { release in
                // Written and synced inside the release transaction: if this fails, nothing is recorded.
                do {
                    staged = try AtomicFile.stage(try release.jsonData(), for: destination)
                } catch let error as AtomicFileError {
                    throw CLIError(error, what: "release")
                }
            })
        } catch {
            spinner.stop()
            throw error
        }
        if let file = staged.take() {
            let temporary = file.temporary.path
            do { try file.commit(overwrite: force, keepOnFailure: true) } catch {
                throw CLIError("release \(outcome.release.id) was recorded but could not be put at \(out) "
                               + "(\(error.reason)); it is in \(temporary)")
            }
        }
        let release = outcome.release
        spinner.finish(String(format: "Summed %d records into %d cells in %.2f s.", outcome.matchedRecords,
                              release.cells.count + release.suppressed.count, outcome.seconds))
        print("release \(release.id) written to \(out) (log index \(release.logIndex))")
        print("  released cells:   \(release.cells.count)")
        print("  suppressed cells: \(release.suppressed.count)"
              + (release.suppressed.isEmpty ? "" : " (" + Dictionary(grouping: release.suppressed, by: \.rule)
                  .map { "\($0.key): \($0.value.count)" }.sorted().joined(separator: ", ") + ")"))
        if let noise = release.noise {
            print("  noise:            discrete Gaussian, ρ = \(noise.rho) spent, σ²(Σx) = \(noise.sigma2Sum)")
        }
        Self.warnIfEmpty(release)
    }
}

extension QueryCommand {
    /// Says why a release holds no cell: no record matched (a --where value nobody has), or the policy withheld all.
    static func warnIfEmpty(_ release: Release) {
        guard release.cells.isEmpty else { return }
        if release.suppressed.isEmpty {
            Terminal.note("warning: no record matched this query (check the --where values); the empty release was recorded")
        } else {
            Terminal.note("warning: the policy withheld every cell of this query")
        }
    }

    /// `query --server`: the service runs the query and answers with the release it stored; written atomically.
    func runRemote(_ query: Query, destination: URL) async throws {
        let client = try remote.client()
        var release: Release? = nil
        _ = try await Files.deliver(to: destination, overwrite: force, what: "release", request: {
            do throws(AppError) { return try await client.query(query) } catch { throw CLIError(error.message) }
        }, name: { data in
            let decoded = try Release.decode(data)
            release = decoded
            return "release \(decoded.id)"
        })
        guard let release else { return }
        print("release \(release.id) written to \(out) (log index \(release.logIndex))")
        print("  released cells:   \(release.cells.count)")
        print("  suppressed cells: \(release.suppressed.count)"
              + (release.suppressed.isEmpty ? "" : " (" + Dictionary(grouping: release.suppressed, by: \.rule)
                  .map { "\($0.key): \($0.value.count)" }.sorted().joined(separator: ", ") + ")"))
        Self.warnIfEmpty(release)
    }
}

func openVault(_ path: String) throws -> Vault {
    do { return try Vault.open(directory: URL(fileURLWithPath: path)) } catch {
        throw CLIError("\(error.message) (\(path))")
    }
}

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Work with releases: fetch them from a service, decrypt them into statistics (one key, or a quorum "
            + "of threshold shares).",
        subcommands: [ReleaseDecrypt.self, ReleaseShare.self, ReleaseFetch.self]
    )
}

struct ReleaseDecrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt a release: count, mean and SD per cell; gap and Cohen's d.",
        discussion: """
            Only aggregate sums are decrypted, never a student. SD is the sample SD (n − 1). With a contrast, gap = \
            mean(other) − mean(baseline) and d = gap / pooled SD, with a 95% confidence interval (normal \
            approximation, Hedges & Olkin).

            One key: --private-key FILE. A threshold key: --threshold threshold.json and the parties' PARTIAL files \
            (from `eduvault release share`). Every partial's proofs are checked; a partial that fails is named on \
            standard error and never used; any --threshold valid partials decrypt. With fewer, the command fails and \
            says who is missing.

            Example: eduvault release decrypt --threshold custody/threshold.json release.json bureau.partial.json \
            auditor.partial.json
            """
    )

    @Option(help: "The bureau's private key (single-key custody).")
    var privateKey: String?

    @Option(help: ArgumentHelp("The threshold key (threshold.json from `eduvault keys ceremony`); give the parties' "
                               + "partial decryptions after RELEASE.", valueName: "file"))
    var threshold: String?

    @Option(help: "Read the private key's passphrase from this file (else EDUVAULT_PASSPHRASE).")
    var passphraseFile: String?

    @Flag(help: "Accept keys below 2048 bits (test fixtures only).")
    var insecureTestKey = false

    @Option(help: "Output: table, json or csv.")
    var format: OutputFormat = .table

    @Option(help: "The contrast value to measure the gap from (default: the first alphabetically, e.g. rural).")
    var baseline: String?

    @Argument(help: "The release file written by `eduvault query`, or a model release from `eduvault analyze`.")
    var release: String

    @Argument(help: ArgumentHelp("With --threshold: the parties' partial decryptions (`eduvault release share`).",
                                 valueName: "partial"))
    var partials: [String] = []

    @Option(help: "A witness's public key (from `eduvault audit keygen`; text or file). Repeatable.")
    var witness: [String] = []

    @Option(help: "Refuse the release unless a checkpoint covering it is cosigned by at least this many --witness keys.")
    var requireCosignatures: Int = 0

    @Option(help: "With --require-cosignatures: the vault's checkpoint with cosignatures (`eduvault vault checkpoint`).")
    var checkpoint: String?

    @Option(help: ArgumentHelp(
        "The vault's pinned log key (the verifier key text, a file holding it, or the vault's descriptor.json): "
            + "refuse the release unless the vault signed it, unchanged. Needed with --require-cosignatures.",
        valueName: "key"))
    var logKey: String?

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    /// The text of an option that is either the value itself or a file holding it.
    static func textOrFile(_ value: String, what: String) throws -> String {
        guard FileManager.default.fileExists(atPath: value) else { return value }
        return String(decoding: try Files.read(value, what: what, limit: 64 << 10), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Refuses a release whose log index no checkpoint cosigned by enough of the given witnesses covers.
    func checkWitnesses(_ release: Release) throws { try checkWitnesses(logIndex: release.logIndex) }

    /// With --log-key: refuses a release the vault did not sign, or that changed after it did.
    func checkSignature(_ release: some SignedRelease) throws {
        guard let logKey else { return }
        do { try release.verifySignature(try PinnedLogKey.parse(logKey)) } catch let error as AggregationError {
            throw CLIError(error.message)
        }
    }

    /// Refuses a release at `logIndex` that no checkpoint cosigned by enough of the given witnesses covers.
    func checkWitnesses(logIndex: Int64) throws {
        guard requireCosignatures > 0 else { return }
        guard let checkpoint, let logKey else {
            throw CLIError("--require-cosignatures needs --checkpoint FILE and --log-key KEY")
        }
        guard witness.count >= requireCosignatures else {
            throw CLIError("--require-cosignatures \(requireCosignatures) needs at least that many --witness keys")
        }
        let key: NoteVerifierKey
        key = try PinnedLogKey.parse(logKey)
        var witnesses: [CosignerVerifierKey] = []
        for w in witness {
            do { witnesses.append(try CosignerVerifierKey(encoded: try Self.textOrFile(w, what: "witness key"))) } catch {
                throw CLIError("--witness \(w.prefix(40)) is not a witness key from `eduvault audit keygen`")
            }
        }
        let text = String(decoding: try Files.read(checkpoint, what: "checkpoint", limit: 64 << 10), as: UTF8.self)
        guard let note = try? SignedNote(parsing: text), note.verify(key), let parsed = try? Checkpoint(parsing: note.text),
              parsed.origin == key.name
        else { throw CLIError("the checkpoint is not signed by the vault's log key \(key.name)") }
        guard parsed.size >= logIndex else {
            throw CLIError("the checkpoint (size \(parsed.size)) does not cover the release (log index \(logIndex)); "
                           + "fetch a newer one")
        }
        let cosigned = witnesses.filter { w in
            note.signatures.contains { Cosignature.verify($0, checkpoint: parsed, witnessKey: w).valid }
        }
        guard cosigned.count >= requireCosignatures else {
            let missing = witnesses.filter { w in !cosigned.contains { $0.name == w.name } }.map(\.name)
            throw CLIError("the checkpoint covering this release is cosigned by \(cosigned.count) of the required "
                           + "\(requireCosignatures) witnesses (missing: \(missing.joined(separator: ", "))); the auditors have "
                           + "not seen this log yet")
        }
    }

    func validate() throws {
        switch (privateKey, threshold) {
        case (nil, nil): throw ValidationError("give --private-key FILE, or --threshold FILE and the partial decryptions")
        case (.some, .some): throw ValidationError("give --private-key or --threshold, not both")
        case (.some, nil) where !partials.isEmpty:
            throw ValidationError("partial decryptions are for --threshold; --private-key decrypts alone")
        default: break
        }
    }

    func run() async throws {
        let data = try Files.read(release, what: "release")
        if ModelRelease.isModelRelease(data) { return try await runModel(data) }
        let parsed = try Release.decode(data)
        try checkSignature(parsed)
        try checkWitnesses(parsed)
        let decrypted: DecryptedRelease
        if let threshold {
            let decryptor = try await thresholdDecryptor(parsed, threshold: threshold)
            decrypted = try await DecryptedRelease.decrypt(parsed, with: decryptor, baseline: baseline)
        } else if let privateKey {
            let key = try KeyLoading.privateKey(privateKey, insecureTestKey: insecureTestKey,
                                                passphraseFile: passphraseFile)
            decrypted = try await DecryptedRelease.decrypt(parsed, key: SharedPrivateKey(key), baseline: baseline)
        } else {
            throw CLIError("give --private-key FILE, or --threshold FILE and the partial decryptions")
        }
        switch format {
        case .table: print(ReleaseFormatter.table(decrypted), terminator: "")
        case .json: print(ReleaseFormatter.json(decrypted))
        case .csv: print(ReleaseFormatter.csv(decrypted), terminator: "")
        }
    }
}

/// Renders decrypted releases for people (table) and programs (JSON, CSV).
enum ReleaseFormatter {
    static func number(_ x: Double, _ digits: Int = 2) -> String {
        x.isFinite ? String(format: "%.\(digits)f", x) : "—"
    }

    static func interval(_ ci: (Double, Double)?) -> String {
        ci.map { "[\(number($0.0)), \(number($0.1))]" } ?? ""
    }

    static func table(_ r: DecryptedRelease) -> String {
        let attrs = r.release.query.cellAttributes
        let noisy = r.release.noise != nil
        var rows: [[String]] = [attrs + ["n", "mean", "sd"] + (noisy ? ["mean 95% CI", "sd 95% CI"] : [])]
        var cells: [(by: [String: String], row: [String])] = r.cells.map { c in
            (c.by, attrs.map { c.by[$0] ?? "" } + [String(c.statistics.count), number(c.statistics.mean),
                                                      number(c.statistics.sd)]
                + (noisy ? [interval(c.meanCI95), interval(c.sdCI95)] : []))
        }
        cells += r.release.suppressed.map { s in
            (s.by, attrs.map { s.by[$0] ?? "" } + ["—", "suppressed", s.rule] + (noisy ? ["", ""] : []))
        }
        cells.sort { l, r in attrs.map { l.by[$0] ?? "" }.lexicographicallyPrecedes(attrs.map { r.by[$0] ?? "" }) }
        rows += cells.map(\.row)
        var out = render(rows, rightAlignFrom: attrs.count)
        if !r.contrasts.isEmpty {
            out += "\n"
            let by = r.release.query.by
            var crows: [[String]] = [by + ["contrast", "n", "gap", "d", "95% CI"]]
            for c in r.contrasts {
                crows.append(by.map { c.by[$0] ?? "" } + [
                    "\(c.values[1]) − \(c.values[0])", "\(c.counts[1]) / \(c.counts[0])",
                    number(c.contrast.gap), number(c.contrast.d, 3),
                    "[\(number(c.contrast.ci95.0, 3)), \(number(c.contrast.ci95.1, 3))]",
                ])
            }
            out += render(crows, rightAlignFrom: by.count + 1)
        }
        if let noise = r.release.noise {
            out += "\nDifferential privacy: every mean and SD carries discrete Gaussian noise (ρ = \(noise.rho) for this "
                + "release;\nσ² = \(noise.sigma2Sum) on Σx, \(noise.sigma2SumOfSquares) on Σx² in fixed-point units). "
                + "The intervals include it.\n"
        }
        out += "\nrelease \(r.release.id) · policy \(r.release.policy.id) v\(r.release.policy.version) · log index "
            + "\(r.release.logIndex) · \(r.release.created)\n"
        return out
    }

    static func render(_ rows: [[String]], rightAlignFrom: Int) -> String {
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i >= rightAlignFrom ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }
        var out = line(header) + "\n" + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") + "\n"
        for row in rows.dropFirst() { out += line(row) + "\n" }
        return out
    }

    static func json(_ r: DecryptedRelease) -> String {
        func clean(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        var object: [String: Any] = [
            "release": r.release.id, "policy": ["id": r.release.policy.id, "version": r.release.policy.version],
            "log_index": r.release.logIndex,
            "cells": r.cells.map { c in
                var cell: [String: Any] = ["by": c.by, "count": c.statistics.count, "mean": clean(c.statistics.mean),
                                           "sd": clean(c.statistics.sd)]
                if let ci = c.meanCI95 { cell["mean_ci95"] = [clean(ci.0), clean(ci.1)] }
                if let ci = c.sdCI95 { cell["sd_ci95"] = [clean(ci.0), clean(ci.1)] }
                return cell
            },
            "suppressed": r.release.suppressed.map { ["by": $0.by, "rule": $0.rule] as [String: Any] },
            "contrasts": r.contrasts.map { c in
                ["by": c.by, "attribute": c.attribute, "values": c.values, "gap": clean(c.contrast.gap),
                 "d": clean(c.contrast.d), "d_ci95": [clean(c.contrast.ci95.0), clean(c.contrast.ci95.1)],
                 "counts": c.counts] as [String: Any]
            },
        ]
        if let noise = r.release.noise {
            object["noise"] = ["mechanism": noise.mechanism, "rho": noise.rho, "sigma2_sum": noise.sigma2Sum,
                               "sigma2_sum_of_squares": noise.sigma2SumOfSquares,
                               "records_per_student": noise.recordsPerStudent] as [String: Any]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func csv(_ r: DecryptedRelease) -> String {
        let attrs = r.release.query.cellAttributes
        // Byte-level, not String.contains/replacingOccurrences: a comma or quote followed by a combining mark is one
        // grapheme cluster, which those do not see, and the field would spill into the next column.
        func field(_ s: String) -> String {
            let special: Set<UInt8> = [UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "\n"), UInt8(ascii: "\r")]
            guard s.utf8.contains(where: special.contains) else { return s }
            var bytes: [UInt8] = [UInt8(ascii: "\"")]
            for byte in s.utf8 {
                bytes.append(byte)
                if byte == UInt8(ascii: "\"") { bytes.append(byte) }
            }
            bytes.append(UInt8(ascii: "\""))
            return String(decoding: bytes, as: UTF8.self)
        }
        let noisy = r.release.noise != nil
        let extra = noisy ? ["mean_ci_low", "mean_ci_high", "sd_ci_low", "sd_ci_high"] : []
        var out = (attrs + ["count", "mean", "sd"] + extra + ["status"]).joined(separator: ",") + "\n"
        for c in r.cells {
            let intervals = noisy ? [c.meanCI95?.0, c.meanCI95?.1, c.sdCI95?.0, c.sdCI95?.1].map { $0.map { "\($0)" } ?? "" } : []
            out += (attrs.map { field(c.by[$0] ?? "") } + [String(c.statistics.count), "\(c.statistics.mean)",
                                                          "\(c.statistics.sd)"] + intervals + ["released"])
                .joined(separator: ",") + "\n"
        }
        for s in r.release.suppressed {
            out += (attrs.map { field(s.by[$0] ?? "") } + ["", "", ""] + extra.map { _ in "" } + ["suppressed:\(s.rule)"])
                .joined(separator: ",") + "\n"
        }
        return out
    }
}
