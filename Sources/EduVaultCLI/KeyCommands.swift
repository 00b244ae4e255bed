import ArgumentParser
import Foundation
import Paillier
import VaultModel

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create and inspect the bureau's Paillier keys, or deal a threshold key to several parties.",
        subcommands: [KeysGenerate.self, KeysCeremony.self, KeysShow.self]
    )
}

struct KeysGenerate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a Paillier key pair: DIR/public.json and DIR/private.json (mode 0600).",
        discussion: """
            Files use python-paillier's JWK form, so `pheutil` and `phe` read them. Keep private.json off the vault \
            server: only the bureau decrypts. With --passphrase-file (or EDUVAULT_PASSPHRASE) the factors are sealed \
            with scrypt + AES-256-GCM; python-paillier cannot read such a file.
            """
    )

    @Option(help: "Modulus size in bits: 3072 (default, ≈128-bit security) or 2048. Smaller needs --insecure-test-key.")
    var bits: Int = defaultKeyBits

    @Option(name: .customLong("out"), help: "Directory to write public.json and private.json into (created if needed).")
    var out: String

    @Flag(help: "Allow keys below 2048 bits. For test fixtures only; never for real data.")
    var insecureTestKey = false

    @Option(help: "Protect the private key with the passphrase in this file (first line).")
    var passphraseFile: String?

    @Flag(help: "Replace existing key files.")
    var force = false

    func run() async throws {
        guard bits >= minimumProductionKeyBits || insecureTestKey else {
            throw CLIError("--bits \(bits) is below the \(minimumProductionKeyBits)-bit minimum; use 3072 (default) or 2048 "
                           + "(--insecure-test-key allows smaller keys for test fixtures only)")
        }
        guard bits >= 256, bits <= 8192, bits % 2 == 0 else {
            throw CLIError("--bits must be an even number between 256 and 8192")
        }
        try Files.ensureDirectory(out)
        let pubPath = (out as NSString).appendingPathComponent("public.json")
        let privPath = (out as NSString).appendingPathComponent("private.json")
        for path in [pubPath, privPath] where FileManager.default.fileExists(atPath: path) && !force {
            throw CLIError("\(path) already exists (remove it or pass --force)")
        }
        let passphrase = try KeyLoading.passphrase(file: passphraseFile)
        let spinner = Spinner("Searching for two \(bits / 2)-bit primes")
        let started = Date()
        let key = try PrivateKey.generate(bits: bits, allowInsecureSize: insecureTestKey) { attempt in
            spinner.update("(pair \(attempt))")
        }
        spinner.finish(String(format: "Generated a %d-bit key in %.1f s (key id %@).",
                              bits, Date().timeIntervalSince(started), key.publicKey.keyID))
        let label = insecureTestKey && bits < minimumProductionKeyBits ? "TEST-ONLY insecure" : "\(bits)-bit"
        let pubKid = "EduVault \(label) public key \(key.publicKey.keyID)"
        let privKid = "EduVault \(label) private key \(key.publicKey.keyID)"
        let privData: Data
        if let passphrase {
            privData = try PaillierJSON.encodePrivateKey(key, kid: privKid, publicKid: pubKid, passphrase: passphrase)
        } else {
            privData = try PaillierJSON.encodePrivateKey(key, kid: privKid, publicKid: pubKid)
        }
        // Both files or neither: a --force that fails half-way must not leave a new private key beside the old
        // public key (or lose the old private key).
        try Files.write([
            AtomicFile.Entry(privData, to: URL(fileURLWithPath: privPath), mode: 0o600),
            AtomicFile.Entry(try PaillierJSON.encodePublicKey(key.publicKey, kid: pubKid), to: URL(fileURLWithPath: pubPath)),
        ], overwrite: force, what: "the key pair")
        print("public key:  \(pubPath)")
        print("private key: \(privPath) (mode 0600\(passphrase == nil ? "" : ", passphrase-protected"))")
    }
}

struct KeysShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a key file's size and key id (never its secret parts); also threshold keys and shares."
    )

    @Argument(help: "A public or private key file, a threshold.json or a share file.")
    var file: String

    @Flag(help: "Accept keys below 2048 bits (test fixtures).")
    var insecureTestKey = false

    func run() async throws {
        let data = try Files.read(file, what: "key", limit: 1 << 20)
        let format = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["format"] as? String
        if format == ThresholdPublicKey.formatTag || format == ThresholdJSON.shareFormatTag {
            // A threshold key or share: only public facts (a share file is not opened).
            let object = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
            let keyObject = format == ThresholdPublicKey.formatTag ? object : object["threshold_key"] as? [String: Any] ?? [:]
            let key: ThresholdPublicKey
            do {
                key = try ThresholdJSON.decode(try JSONSerialization.data(withJSONObject: keyObject),
                                               allowInsecureSize: insecureTestKey)
            } catch let error as PaillierError { throw CLIError("\(file): \(error.message)") }
            print("key id:    \(key.publicKey.keyID)")
            print("bits:      \(key.publicKey.bitCount)")
            print("ceremony:  \(key.ceremonyID)")
            print("threshold: \(key.threshold) of \(key.partyCount) (\(key.parties.map(\.name).joined(separator: ", ")))")
            if format == ThresholdJSON.shareFormatTag {
                print("kind:      threshold key share of \(object["party"] as? String ?? "?")"
                      + (ThresholdJSON.isSealed(data) ? " (passphrase-protected)" : ""))
            } else {
                print("kind:      threshold key (public)")
            }
            return
        }
        let key = try PaillierJSON.decodePublicKey(data, allowInsecureSize: insecureTestKey)
        print("key id: \(key.keyID)")
        print("bits:   \(key.bitCount)")
        print("kind:   \(PaillierJSON.isSealed(data) ? "private (passphrase-protected)" : (String(decoding: data, as: UTF8.self).contains("\"p\"") ? "private" : "public"))")
    }
}
