import ArgumentParser
import BigNum
import Foundation
import Paillier
import Primitives
import VaultAggregation
import VaultApp
import VaultModel
import VaultPolicy
import VaultStore

/// The `--vault DIR` option shared by every command that works on a vault directory.
struct VaultDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("vault"),
        help: ArgumentHelp(
            "The vault directory (holds vault.sqlite and descriptor.json).", valueName: "dir"))
    var path: String

    init() {}

    init(path: String) { self.path = path }

    /// The directory as a file URL.
    var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    /// Opens the vault, mapping store errors to one actionable line.
    ///
    /// - Throws: `CLIError` when the directory holds no vault or SQLite cannot open it.
    func open() throws -> Vault {
        do { return try Vault.open(directory: url) } catch {
            switch error.code {
            case .notAVault:
                throw CLIError("\(error.message); create one with `eduvault vault init`")
            default:
                let hint = error.code == .database ? " (disk full, a file-size limit or no permission?)" : ""
                throw CLIError("cannot open the vault in \(path): \(error.description)\(hint)")
            }
        }
    }
}

extension VaultDirectoryOption {
    /// Opens the vault's use cases (the application layer), with the same error lines as `open()`.
    func service() throws -> VaultService {
        let opened = try open()
        do { return try VaultService(vault: opened) } catch { throw CLIError(error.message) }
    }
}

/// Helpers shared by the vault and school commands.
enum VaultSupport {
    /// Builds the Paillier public key a descriptor names, and checks that it is the key the descriptor claims.
    ///
    /// - Parameter allowInsecureSize: accept a modulus below 2048 bits (test vaults only).
    /// - Throws: `CLIError` for a malformed key, a size refused without the flag, or a key id / size mismatch.
    static func paillierKey(of descriptor: Descriptor, allowInsecureSize: Bool) throws -> PublicKey {
        do { return try descriptor.paillierKey(allowInsecureSize: allowInsecureSize) } catch {
            if error.code == .keyTooSmall {
                throw CLIError(
                    "the vault's key has \(descriptor.keyBits) bits, below \(minimumProductionKeyBits): it is a "
                        + "TEST-ONLY vault; pass --insecure-test-key only if this is a test")
            }
            if error.code == .invalidKey { throw CLIError(error.message) }
            throw CLIError("the descriptor's public key is not usable: \(error.message)")
        }
    }

    /// Checks that the schema's slot layout fits under `key` (every packed plaintext below max_int ≈ n/3).
    static func checkLayout(_ schema: Schema, fits key: PublicKey) throws {
        let layout: SlotLayout
        do { layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount) } catch {
            throw CLIError("the schema's slot layout is invalid: \(error.message)")
        }
        guard layout.fits(key) else {
            throw CLIError(
                "the schema's \(schema.slotCount) slots of \(schema.slotBits) bits do not fit under a "
                    + "\(key.bitCount)-bit key; use a larger key")
        }
        do { _ = try BatchEncryption.ciphertextLayouts(schema, key: key) } catch { throw CLIError(error.message) }
    }

    /// `prior_score 0.0–100.0, absences 0.0–93.0`.
    static func covariateSummary(_ schema: Schema) -> String {
        schema.covariates.map { "\($0.name) \(schema.formatScore($0.min))–\(schema.formatScore($0.max))" }
            .joined(separator: ", ")
    }

    /// A fresh vault id: `v-` and 16 random hex digits.
    static func newVaultID() throws -> String {
        do { return "v-" + Hex.encode(try SecureRandom.bytes(8)) } catch {
            throw CLIError("the random number generator failed; cannot make a vault id")
        }
    }

    /// A byte count for people: `12.3 MB`.
    static func humanBytes(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// Writes a JSON value to standard output (sorted keys, pretty-printed).
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do { print(String(decoding: try encoder.encode(value), as: UTF8.self)) } catch {
            throw CLIError("cannot encode the JSON output")
        }
    }

    /// Pads `text` on the right to `width` characters (for tables).
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

/// Loading the policy a new vault runs under.
enum PolicySource {
    /// The policy bytes and where they came from: `--policy FILE`, else `Policies/default.yaml` in the current
    /// directory, else the embedded copy of that file.
    static func load(_ path: String?) throws -> (bytes: [UInt8], source: String) {
        if let path {
            return (Array(try Files.read(path, what: "policy", limit: 1 << 20)), path)
        }
        let local = "Policies/default.yaml"
        if FileManager.default.fileExists(atPath: local) {
            return (Array(try Files.read(local, what: "policy", limit: 1 << 20)), local)
        }
        return (Array(DefaultPolicy.yaml.utf8), "built-in default policy")
    }

    /// Parses policy bytes with a message naming where they came from.
    static func parse(_ bytes: [UInt8], source: String) throws -> Policy {
        do { return try Policy.parse(bytes) } catch {
            throw CLIError("the policy (\(source)) is invalid: \(error.message)")
        }
    }

    /// A TEST-ONLY variant of a policy whose rule `KEY-MIN` admits `bits`-bit keys: the top-level id gets a
    /// `-test-only` suffix, `min_key_bits` is lowered to `bits`, and a comment line says why. The vault stores these
    /// bytes, so its policy hash and audit log show that it is a test vault.
    ///
    /// - Throws: `CLIError` when the policy is not laid out as `id: …` and `min_key_bits: …` lines.
    static func testOnlyVariant(of bytes: [UInt8], bits: Int) throws -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var changedID = false
        var changedKeyMin = false
        for index in lines.indices {
            let line = lines[index]
            if line.hasPrefix("id: ") && !changedID {
                lines[index] = line + "-test-only"
                changedID = true
            } else if let range = line.range(of: "min_key_bits:") {
                lines[index] = String(line[..<range.upperBound]) + " \(bits)"
                changedKeyMin = true
            }
        }
        guard changedID, changedKeyMin else {
            throw CLIError(
                "cannot derive a TEST-ONLY policy from this file; give a policy whose KEY-MIN admits \(bits) bits")
        }
        let note =
            "# TEST-ONLY variant written by `eduvault vault init --insecure-test-key`: KEY-MIN lowered to "
            + "\(bits) bits. Never use this vault for real data."
        return Array(([note] + lines).joined(separator: "\n").utf8)
    }
}
