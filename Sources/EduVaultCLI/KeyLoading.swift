import Foundation
import Paillier
import VaultAudit

/// Options and loaders for key files, shared by every command that takes a key.
enum KeyLoading {
    /// The passphrase for a protected private key: `--passphrase-file` or `EDUVAULT_PASSPHRASE`.
    static func passphrase(file: String?) throws -> String? {
        if let file {
            let data = try Files.read(file, what: "passphrase", limit: 4096)
            // Trailing line ends go, as bytes: "\r\n" (a file saved on Windows) is one Swift Character, which
            // hasSuffix("\n") does not see.
            var bytes = Array(data)
            while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
            let text = String(decoding: bytes, as: UTF8.self)
            guard !text.isEmpty else { throw CLIError("the passphrase file is empty: \(file)") }
            return text
        }
        if let env = ProcessInfo.processInfo.environment["EDUVAULT_PASSPHRASE"], !env.isEmpty { return env }
        return nil
    }

    static func publicKey(_ path: String, insecureTestKey: Bool) throws -> PublicKey {
        let data = try Files.read(path, what: "public key", limit: 1 << 20)
        return try PaillierJSON.decodePublicKey(data, allowInsecureSize: insecureTestKey)
    }

    static func privateKey(_ path: String, insecureTestKey: Bool, passphraseFile: String?) throws -> PrivateKey {
        let data = try Files.read(path, what: "private key", limit: 1 << 20)
        let passphrase = PaillierJSON.isSealed(data) ? try self.passphrase(file: passphraseFile) : nil
        return try PaillierJSON.decodePrivateKey(data, passphrase: passphrase, allowInsecureSize: insecureTestKey)
    }
}

/// A vault's log key as a user pins it: the signed-note verifier key text (`name+hash+base64`), a file holding it,
/// or the vault's `descriptor.json` (its `log_key`).
enum PinnedLogKey {
    static func parse(_ value: String) throws -> NoteVerifierKey {
        var text = value
        if FileManager.default.fileExists(atPath: value) {
            let data = try Files.read(value, what: "log key", limit: 1 << 20)
            if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                guard let key = object["log_key"] as? String else {
                    throw CLIError("\(value) is JSON without a log_key: give the vault's descriptor.json or its log key")
                }
                text = key
            } else {
                text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        do { return try NoteVerifierKey(encoded: text) } catch {
            throw CLIError("--log-key is not a vault log key (name+hash+base64, a file holding it, or a descriptor.json)")
        }
    }
}
