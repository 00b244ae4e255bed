import Foundation
import Paillier
import VaultAggregation
import VaultModel
import VaultStatistics

extension ReleaseDecrypt {
    /// `release decrypt` on a model release (`eduvault-release-model/1`): decrypts every block, fits the model from
    /// the exact sums and prints the table, JSON or CSV.
    func runModel(_ data: Data) async throws {
        let parsed = try ModelRelease.decode(data)
        try checkSignature(parsed)
        try checkWitnesses(logIndex: parsed.logIndex)
        guard threshold == nil, let privateKey else {
            throw CLIError(
                "model releases decrypt with --private-key; threshold custody (release share) covers query "
                    + "releases only for now")
        }
        if baseline != nil { throw CLIError("--baseline is for query releases; a model's baseline is its first level") }
        let key = try KeyLoading.privateKey(
            privateKey, insecureTestKey: insecureTestKey, passphraseFile: passphraseFile)
        let decrypted = try await DecryptedModel.decrypt(parsed, key: SharedPrivateKey(key))
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
