import ArgumentParser
import Foundation
import Paillier
import VaultAggregation
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
            (Σx, Σx²). Cells the policy forbids are listed as suppressed with the rule id (K-MIN: too few records; \
            COMP-SUPP: withheld so a suppressed cell cannot be recovered from totals; DIFF-GUARD: differs from an \
            earlier release by fewer than k records). The bureau decrypts it with `eduvault release decrypt`.

            Example: eduvault query --vault v --by subject,province --contrast region --out release.json
            """
    )

    @Option(help: "The vault directory.")
    var vault: String

    @Option(help: "Comma-separated grouping attributes, e.g. subject,region.")
    var by: String = ""

    @Option(name: .customLong("where"), help: "Keep only records with ATTRIBUTE=VALUE (repeatable).")
    var filters: [String] = []

    @Option(help: "An attribute with two values (e.g. region) to contrast within each cell: gap and Cohen's d.")
    var contrast: String?

    @Option(help: "Where to write the release (JSON).")
    var out: String

    @Flag(help: "Replace an existing release file.")
    var force = false

    func run() async throws {
        let query = try Query(byList: by, whereClauses: filters, contrast: contrast)
        guard !query.cellAttributes.isEmpty else {
            throw CLIError("give --by (e.g. --by subject,region) and/or --contrast")
        }
        if FileManager.default.fileExists(atPath: out) && !force {
            throw CLIError("\(out) already exists (remove it or pass --force)")
        }
        let store = try openVault(vault)
        let engine = try QueryEngine(vault: store)
        let spinner = Spinner("Summing ciphertexts")
        let outcome: QueryEngine.Outcome
        do {
            outcome = try engine.run(query) { spinner.update("(\($0) records)") }
        } catch {
            spinner.finish("Query stopped.")
            throw error
        }
        let release = outcome.release
        try Files.write(try release.jsonData(), to: out, overwrite: force, what: "release")
        spinner.finish(String(format: "Summed %d records into %d cells in %.2f s.", outcome.matchedRecords,
                              release.cells.count + release.suppressed.count, outcome.seconds))
        print("release \(release.id) written to \(out) (log index \(release.logIndex))")
        print("  released cells:   \(release.cells.count)")
        print("  suppressed cells: \(release.suppressed.count)"
              + (release.suppressed.isEmpty ? "" : " (" + Dictionary(grouping: release.suppressed, by: \.rule)
                  .map { "\($0.key): \($0.value.count)" }.sorted().joined(separator: ", ") + ")"))
        if release.cells.isEmpty { Terminal.note("warning: the policy withheld every cell of this query") }
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
        abstract: "Work with releases: decrypt them into statistics.",
        subcommands: [ReleaseDecrypt.self]
    )
}

struct ReleaseDecrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt a release with the bureau's private key: count, mean and SD per cell; gap and Cohen's d.",
        discussion: """
            Only aggregate sums are decrypted, never a student. SD is the sample SD (n − 1). With a contrast, gap = \
            mean(other) − mean(baseline) and d = gap / pooled SD, with a 95% confidence interval (normal \
            approximation, Hedges & Olkin).
            """
    )

    @Option(help: "The bureau's private key.")
    var privateKey: String

    @Option(help: "Read the private key's passphrase from this file (else EDUVAULT_PASSPHRASE).")
    var passphraseFile: String?

    @Flag(help: "Accept keys below 2048 bits (test fixtures only).")
    var insecureTestKey = false

    @Option(help: "Output: table, json or csv.")
    var format: OutputFormat = .table

    @Option(help: "The contrast value to measure the gap from (default: the first alphabetically, e.g. rural).")
    var baseline: String?

    @Argument(help: "The release file written by `eduvault query`.")
    var release: String

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    func run() async throws {
        let data = try Files.read(release, what: "release")
        let parsed = try Release.decode(data)
        let key = try KeyLoading.privateKey(privateKey, insecureTestKey: insecureTestKey, passphraseFile: passphraseFile)
        let decrypted = try await DecryptedRelease.decrypt(parsed, key: SharedPrivateKey(key), baseline: baseline)
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

    static func table(_ r: DecryptedRelease) -> String {
        let attrs = r.release.query.cellAttributes
        var rows: [[String]] = [attrs + ["n", "mean", "sd"]]
        var cells: [(by: [String: String], row: [String])] = r.cells.map { c in
            (c.by, attrs.map { c.by[$0] ?? "" } + [String(c.statistics.count), number(c.statistics.mean),
                                                      number(c.statistics.sd)])
        }
        cells += r.release.suppressed.map { s in (s.by, attrs.map { s.by[$0] ?? "" } + ["—", "suppressed", s.rule]) }
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
        let object: [String: Any] = [
            "release": r.release.id, "policy": ["id": r.release.policy.id, "version": r.release.policy.version],
            "log_index": r.release.logIndex,
            "cells": r.cells.map { c in
                ["by": c.by, "count": c.statistics.count, "mean": clean(c.statistics.mean), "sd": clean(c.statistics.sd)]
                    as [String: Any]
            },
            "suppressed": r.release.suppressed.map { ["by": $0.by, "rule": $0.rule] as [String: Any] },
            "contrasts": r.contrasts.map { c in
                ["by": c.by, "attribute": c.attribute, "values": c.values, "gap": clean(c.contrast.gap),
                 "d": clean(c.contrast.d), "d_ci95": [clean(c.contrast.ci95.0), clean(c.contrast.ci95.1)],
                 "counts": c.counts] as [String: Any]
            },
        ]
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
        var out = (attrs + ["count", "mean", "sd", "status"]).joined(separator: ",") + "\n"
        for c in r.cells {
            out += (attrs.map { field(c.by[$0] ?? "") } + [String(c.statistics.count), "\(c.statistics.mean)",
                                                          "\(c.statistics.sd)", "released"]).joined(separator: ",") + "\n"
        }
        for s in r.release.suppressed {
            out += (attrs.map { field(s.by[$0] ?? "") } + ["", "", "", "suppressed:\(s.rule)"]).joined(separator: ",") + "\n"
        }
        return out
    }
}
