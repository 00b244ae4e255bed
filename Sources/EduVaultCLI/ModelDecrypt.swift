import Foundation
import Paillier
import VaultAggregation
import VaultModel
import VaultStatistics

extension ReleaseDecrypt {
    /// `release decrypt` on a model release (`eduvault-release-model/1`): decrypts every block with the private key
    /// or, with `--threshold`, with t checked partial decryptions, fits the model from the exact sums and prints the
    /// table, JSON or CSV (the same for either custody).
    func runModel(_ data: Data) async throws {
        let parsed = try ModelRelease.decode(data)
        try checkSignature(parsed)
        try checkWitnesses(logIndex: parsed.logIndex)
        if baseline != nil { throw CLIError("--baseline is for query releases; a model's baseline is its first level") }
        let decrypted: DecryptedModel
        if let threshold {
            let decryptor = try await thresholdDecryptor(parsed, threshold: threshold)
            decrypted = try await DecryptedModel.decrypt(parsed, with: decryptor)
        } else if let privateKey {
            let key = try KeyLoading.privateKey(
                privateKey, insecureTestKey: insecureTestKey, passphraseFile: passphraseFile)
            decrypted = try await DecryptedModel.decrypt(parsed, key: SharedPrivateKey(key))
        } else {
            throw CLIError("give --private-key FILE, or --threshold FILE and the partial decryptions")
        }
        let result = try decrypted.fit()
        let footer =
            "release \(parsed.id) · policy \(parsed.policy.id) v\(parsed.policy.version) · log index "
            + "\(parsed.logIndex) · \(parsed.created)"
        switch format {
        case .table:
            let filters = parsed.model.filters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            print(
                "model: \(parsed.model.formula)" + (parsed.model.random.map { " + (1 | \($0))" } ?? "")
                    + (filters.isEmpty ? "" : "   where \(filters.joined(separator: ", "))"))
            print()
            print(result.table(), terminator: "")
            print("\n" + footer)
        case .json:
            do { print(String(decoding: try result.json(), as: UTF8.self)) } catch { throw CLIError(error.message) }
        case .csv: print(result.csv(), terminator: "")
        }
    }
}

/// A release file of either kind, as `release share` reads it: a model release (`eduvault analyze`) or a query
/// release (`eduvault query`).
func decodeAnyRelease(_ data: Data) throws -> any DecryptableRelease {
    ModelRelease.isModelRelease(data) ? try ModelRelease.decode(data) : try Release.decode(data)
}
