import Foundation
import Testing

/// Rules about the source tree that a reviewer would otherwise have to remember (issue 14).
@Suite("Source hygiene")
struct SourceHygieneTests {
    /// Every Swift file under Sources/, with its lines.
    static func sources() throws -> [(path: String, lines: [Substring])] {
        let root = CLI.root.appendingPathComponent("Sources")
        let enumerator = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        var files: [(String, [Substring])] = []
        for case let url as URL in enumerator where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            files.append((String(url.path.dropFirst(CLI.root.path.count + 1)), text.split(separator: "\n", omittingEmptySubsequences: false)))
        }
        #expect(files.count > 50, "found only \(files.count) source files")
        return files
    }

    /// C functions whose result is not a success/failure report: they return nothing, or a plain value (a size, a
    /// comparison, a flag, a constant). Everything else from libcrypto or SQLite reports failure and must be checked.
    static let uncheckedFunctions: Set<String> = [
        // void
        "BN_free", "BN_clear_free", "BN_set_flags", "BN_set_negative", "BN_CTX_free", "BN_MONT_CTX_free",
        "EVP_MD_CTX_free", "EVP_PKEY_free", "EVP_CIPHER_CTX_free", "ERR_clear_error", "OPENSSL_cleanse",
        "eduvault_OPENSSL_free", "BN_GENCB_free", "BN_GENCB_set",
        // plain values
        "BN_num_bits", "eduvault_BN_num_bytes", "BN_is_zero", "BN_is_one", "BN_is_odd", "BN_is_negative",
        "BN_is_bit_set", "BN_cmp", "BN_ucmp", "BN_get_word", "BN_get_flags", "EVP_sha256", "EVP_aes_256_gcm",
        "ERR_peek_last_error", "ERR_GET_LIB", "ERR_GET_REASON", "BN_GENCB_get_arg",
        // SQLite column reads (the record scan's hot loop): a type code, an integer, a pointer the caller tests for
        // NULL, a length. They report no status; sqlite3_step's is checked by GRDB.
        "sqlite3_column_type", "sqlite3_column_int64", "sqlite3_column_blob", "sqlite3_column_bytes",
    ]

    @Test("No OpenSSL or SQLite return code is discarded: every status goes through the library's OpenSSLCall helper")
    func everyCReturnCodeIsChecked() throws {
        let call = try Regex(#"\b(BN_\w+|EVP_\w+|RAND_\w+|HMAC|ERR_\w+|CRYPTO_\w+|OPENSSL_\w+|eduvault_\w+|sqlite3_\w+)\("#)
        let discarded = try Regex(#"_\s*=\s*(try\s+)?(BN_|EVP_|RAND_|HMAC\(|ERR_|CRYPTO_|OPENSSL_|eduvault_|sqlite3_)"#)
        var problems: [String] = []
        var checkedCalls = 0
        for (path, lines) in try Self.sources() {
            for (index, line) in lines.enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                if code.trimmingCharacters(in: .whitespaces).hasPrefix("///") { continue }
                if code.contains(discarded) { problems.append("\(path):\(index + 1): result discarded with `_ =`") }
                for match in code.matches(of: call) {
                    let name = String(match.output[1].substring ?? "")
                    if Self.uncheckedFunctions.contains(name) { continue }
                    let before = code[..<match.range.lowerBound]
                    let helped = before.contains("OpenSSLCall.check(") || before.contains("OpenSSLCall.mustSucceed(")
                    let marked = line.contains("// checked")
                    if helped || marked {
                        checkedCalls += 1
                    } else {
                        problems.append("\(path):\(index + 1): \(name)'s result is not passed to OpenSSLCall.check/mustSucceed "
                                        + "(or marked `// checked: …` where a later line checks it)")
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(checkedCalls > 60, "only \(checkedCalls) checked calls found: is the scan still looking at Sources/?")
    }

    @Test("try!, fatalError( and as! appear in Sources only with a `// safe:` reason")
    func trapsAreJustified() throws {
        var problems: [String] = []
        for (path, lines) in try Self.sources() {
            for (index, line) in lines.enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                guard code.contains("try!") || code.contains("fatalError(") || code.contains(" as! ") else { continue }
                let previous = index > 0 ? lines[index - 1] : ""
                if !line.contains("// safe:") && !previous.contains("// safe:") {
                    problems.append("\(path):\(index + 1)")
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("Files are created or replaced only through AtomicFile (temporary file, fsync, rename, directory fsync)")
    func oneAtomicWriter() throws {
        let forbidden = try Regex(#"createFile\(|FileHandle\(forWritingTo|FileHandle\(forUpdating|\brename\(|\blink\(|O_CREAT|atomically:|\.atomic\b|fopen\("#)
        var problems: [String] = []
        for (path, lines) in try Self.sources() where !path.hasSuffix("VaultModel/AtomicFile.swift") {
            for (index, line) in lines.enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                if code.contains(forbidden) { problems.append("\(path):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))") }
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
